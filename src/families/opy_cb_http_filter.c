/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_http_filter.c - orthanc.RegisterIncomingHttpRequestFilter.
 *
 * Python signature (as the official plugin): callback(uri: str, method=int
 * (orthanc.HttpMethod), ip=str, headers=dict, get=dict (GET only)).
 * Several filters may be registered: called in registration order; the
 * request is allowed only when every filter allows it (the first denial
 * stops the others).
 * Thread: an Orthanc HTTP thread, before the request is routed.
 * Policy: fails closed. A true return value allows; a false one denies
 * (HTTP 403); an exception or a return value without a truth value denies
 * too, and the traceback is logged once (OPY0010).
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <stdio.h>
#include <string.h>

static PyObject *callables;     /* list, strong reference */
static PyObject *kwnames_get;   /* ("method", "ip", "headers", "get") */
static PyObject *kwnames_other; /* ("method", "ip", "headers") */

static int32_t filter(OrthancPluginHttpMethod method, const char *uri, const char *ip, uint32_t headersCount, const char *const *headersKeys, const char *const *headersValues, uint32_t getCount, const char *const *getKeys, const char *const *getValues);
OPY_STACK_THUNK(int32_t, filter, (OrthancPluginHttpMethod method; const char *uri; const char *ip; uint32_t headersCount; const char *const *headersKeys; const char *const *headersValues; uint32_t getCount; const char *const *getKeys; const char *const *getValues;), (f->method, f->uri, f->ip, f->headersCount, f->headersKeys, f->headersValues, f->getCount, f->getKeys, f->getValues))

static int32_t
filter(OrthancPluginHttpMethod method, const char *uri, const char *ip, uint32_t headersCount,
       const char *const *headersKeys, const char *const *headersValues, uint32_t getCount,
       const char *const *getKeys, const char *const *getValues)
{
    OPY_STACK_SWITCH(filter, (method, uri, ip, headersCount, headersKeys, headersValues, getCount, getKeys, getValues));
    PyObject *stack[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int32_t allowed = 0;
    Py_ssize_t i, n, nstack;
    int token = opy_gil_enter();

    if (token < 0)
        return 0;                               /* stopping: deny */
    stack[0] = PyUnicode_DecodeUTF8(uri, (Py_ssize_t) strlen(uri), "surrogateescape");
    stack[1] = PyLong_FromLong((long) method);
    stack[2] = PyUnicode_FromString(ip ? ip : "");
    stack[3] = opy_dict_from_arrays(headersCount, headersKeys, headersValues);
    nstack = 4;
    if (method == OrthancPluginHttpMethod_Get) {
        stack[4] = opy_dict_from_arrays(getCount, getKeys, getValues);
        nstack = 5;
    }
    for (i = 0; i < nstack; i++) {
        if (stack[i] == NULL) {
            opy_error_report("HTTP filter (arguments)", NULL);
            goto done;
        }
    }
    allowed = 1;
    n = PyList_Size(callables);
    for (i = 0; i < n && allowed; i++) {
        PyObject *f = PyList_GetItem(callables, i);      /* borrowed */
        PyObject *r = PyObject_Vectorcall(f, stack, 1, nstack == 5 ? kwnames_get : kwnames_other);
        int truth = r ? PyObject_IsTrue(r) : -1;

        if (truth < 0) {
            char where[300];

            snprintf(where, sizeof where, "HTTP filter for %.200s (request denied)", uri);
            opy_error_report(where, NULL);
            truth = 0;
        }
        allowed = truth;
        Py_XDECREF(r);
    }
done:
    for (i = 0; i < 6; i++)
        Py_XDECREF(stack[i]);
    opy_gil_leave(token);
    return allowed;
}

static PyObject *
RegisterIncomingHttpRequestFilter(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterIncomingHttpRequestFilter", args, nargs, kwnames);
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterIncomingHttpRequestFilter", NULL);
    if (f == NULL || (first = opy_registry_append(&callables, "RegisterIncomingHttpRequestFilter", f)) < 0)
        return NULL;
    if (first)
        OrthancPluginRegisterIncomingHttpRequestFilter2(opy_context, filter);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterIncomingHttpRequestFilter", (PyCFunction) (void (*)(void)) RegisterIncomingHttpRequestFilter,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterIncomingHttpRequestFilter($module, /, callback)\n--\n\n"
     "Call callback(uri, method=int, ip=str, headers=dict, get=dict (GET only)) for each HTTP\n"
     "request: a true result allows it, a false one or an exception denies it (HTTP 403).\n"
     "May be called several times: a request is allowed only when every filter allows it."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_http_filter_init(PyObject *module)
{
    if (!opy_interps_is_main())         /* the family runs in the main one only */
        return PyModule_AddFunctions(module, methods);
    kwnames_get = Py_BuildValue("(ssss)", "method", "ip", "headers", "get");
    kwnames_other = Py_BuildValue("(sss)", "method", "ip", "headers");
    if (kwnames_get == NULL || kwnames_other == NULL)
        return -1;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_http_filter_finalize(void)
{
    Py_CLEAR(callables);
    Py_CLEAR(kwnames_get);
    Py_CLEAR(kwnames_other);
}
