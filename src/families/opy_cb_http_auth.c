/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_http_auth.c - orthanc.RegisterHttpAuthentication (SDK 1.12.9; not
 * in the official plugin).
 *
 * Python signature: callback(uri: str, ip=str, headers=dict (names in lower
 * case), get=dict (the GET arguments)). One callback per Orthanc (the SDK
 * allows one plugin): a second registration is a RuntimeError. With it,
 * Orthanc's own HTTP authentication ("RegisteredUsers",
 * "AuthenticationEnabled") is off: the callback decides for every request.
 *
 * What the callback returns:
 *   True, orthanc.HttpAuthenticationStatus.GRANTED    granted
 *   False, None, UNAUTHORIZED                         HTTP 401
 *   FORBIDDEN                                         HTTP 403
 *   (REDIRECT, "/path")                               HTTP 307 to the path
 *   (GRANTED, payload)                                granted, with a payload
 *   a dict {"status": ..., "redirect": "/path", "payload": ...}, or a dict
 *   without "status" (granted, the dict itself is the payload: e.g.
 *   {"user": "alice", "groups": ["admin"]})
 * A payload (bytes, str, or anything json.dumps takes) is handed to the
 * Python REST callbacks of the request as the keyword
 * authenticationPayload (bytes).
 * Thread: an Orthanc HTTP thread, before the request is routed.
 * Policy: fails closed. An exception, or a value that is none of the above,
 * answers 401 and logs the traceback or the reason (OPY0010).
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_log.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <stdio.h>
#include <string.h>

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 9)

static PyObject *callable;      /* strong reference */
static PyObject *kwnames;       /* ("ip", "headers", "get") */
static PyObject *json_dumps;    /* json.dumps, for payloads that are not bytes or str */
static int c_registered;

/* Copies a payload (bytes, str, or JSON of anything else) into the SDK's
 * buffer. 0, or -1 with an exception set. */
static int
set_payload(OrthancPluginMemoryBuffer *target, PyObject *payload)
{
    PyObject *json = NULL;
    const char *data;
    Py_ssize_t size;
    int rc = -1;

    if (payload == Py_None)
        return 0;
    if (PyBytes_Check(payload)) {
        data = PyBytes_AS_STRING(payload);
        size = PyBytes_GET_SIZE(payload);
    }
    else if (PyUnicode_Check(payload)) {
        if ((data = PyUnicode_AsUTF8AndSize(payload, &size)) == NULL)
            return -1;
    }
    else {
        if (json_dumps == NULL) {
            PyObject *mod = PyImport_ImportModule("json");

            if (mod == NULL)
                return -1;
            json_dumps = PyObject_GetAttrString(mod, "dumps");
            Py_DECREF(mod);
            if (json_dumps == NULL)
                return -1;
        }
        if ((json = PyObject_CallOneArg(json_dumps, payload)) == NULL ||
            (data = PyUnicode_AsUTF8AndSize(json, &size)) == NULL)
            goto done;
    }
    if ((unsigned long long) size > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "the authentication payload is larger than 4 GB");
        goto done;
    }
    if (size > 0) {
        if (OrthancPluginCreateMemoryBuffer(opy_context, target, (uint32_t) size) !=
            OrthancPluginErrorCode_Success) {
            PyErr_NoMemory();
            goto done;
        }
        memcpy(target->data, data, (size_t) size);
    }
    rc = 0;
done:
    Py_XDECREF(json);
    return rc;
}

static int
set_redirect(OrthancPluginMemoryBuffer *target, PyObject *path)
{
    if (!PyUnicode_Check(path) || PyUnicode_GetLength(path) == 0) {
        PyErr_SetString(PyExc_TypeError, "a REDIRECT needs the path to redirect to (a non-empty str)");
        return -1;
    }
    return set_payload(target, path);
}

static int
status_of(PyObject *obj, OrthancPluginHttpAuthenticationStatus *out)
{
    long v;

    if (PyBool_Check(obj)) {
        *out = obj == Py_True ? OrthancPluginHttpAuthenticationStatus_Granted
                              : OrthancPluginHttpAuthenticationStatus_Unauthorized;
        return 0;
    }
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "an HTTP authentication status is an "
                     "orthanc.HttpAuthenticationStatus value, not %.80s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsLong(obj);
    if (v < OrthancPluginHttpAuthenticationStatus_Granted || v > OrthancPluginHttpAuthenticationStatus_Redirect) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "%ld is not an orthanc.HttpAuthenticationStatus value", v);
        return -1;
    }
    *out = (OrthancPluginHttpAuthenticationStatus) v;
    return 0;
}

/* The callback's result as the SDK's out-parameters. 0, or -1 with an
 * exception set (the caller then denies). */
static int
interpret(PyObject *r, OrthancPluginHttpAuthenticationStatus *status, OrthancPluginMemoryBuffer *payload,
          OrthancPluginMemoryBuffer *redirection)
{
    PyObject *extra = NULL;

    if (r == Py_None) {
        *status = OrthancPluginHttpAuthenticationStatus_Unauthorized;
        return 0;
    }
    if (PyTuple_Check(r)) {
        if (PyTuple_GET_SIZE(r) != 2) {
            PyErr_SetString(PyExc_TypeError, "an HTTP authentication tuple is (status, payload or redirection)");
            return -1;
        }
        if (status_of(PyTuple_GET_ITEM(r, 0), status) < 0)
            return -1;
        extra = PyTuple_GET_ITEM(r, 1);
    }
    else if (PyDict_Check(r)) {
        PyObject *s = PyDict_GetItemString(r, "status");        /* borrowed */

        if (s == NULL) {
            *status = OrthancPluginHttpAuthenticationStatus_Granted;
            return set_payload(payload, r);
        }
        if (status_of(s, status) < 0)
            return -1;
        extra = PyDict_GetItemString(r, *status == OrthancPluginHttpAuthenticationStatus_Redirect
                                            ? "redirect" : "payload");
    }
    else if (status_of(r, status) < 0) {
        return -1;
    }
    if (*status == OrthancPluginHttpAuthenticationStatus_Redirect)
        return set_redirect(redirection, extra ? extra : Py_None);
    if (extra != NULL && *status == OrthancPluginHttpAuthenticationStatus_Granted)
        return set_payload(payload, extra);
    return 0;
}

static OrthancPluginErrorCode authenticate(OrthancPluginHttpAuthenticationStatus *status, OrthancPluginMemoryBuffer *customPayload, OrthancPluginMemoryBuffer *redirection, const char *uri, const char *ip, uint32_t headersCount, const char *const *headersKeys, const char *const *headersValues, uint32_t getCount, const char *const *getKeys, const char *const *getValues);
OPY_STACK_THUNK(OrthancPluginErrorCode, authenticate, (OrthancPluginHttpAuthenticationStatus *status; OrthancPluginMemoryBuffer *customPayload; OrthancPluginMemoryBuffer *redirection; const char *uri; const char *ip; uint32_t headersCount; const char *const *headersKeys; const char *const *headersValues; uint32_t getCount; const char *const *getKeys; const char *const *getValues;), (f->status, f->customPayload, f->redirection, f->uri, f->ip, f->headersCount, f->headersKeys, f->headersValues, f->getCount, f->getKeys, f->getValues))

static OrthancPluginErrorCode
authenticate(OrthancPluginHttpAuthenticationStatus *status, OrthancPluginMemoryBuffer *customPayload,
             OrthancPluginMemoryBuffer *redirection, const char *uri, const char *ip,
             uint32_t headersCount, const char *const *headersKeys, const char *const *headersValues,
             uint32_t getCount, const char *const *getKeys, const char *const *getValues)
{
    OPY_STACK_SWITCH(authenticate, (status, customPayload, redirection, uri, ip, headersCount, headersKeys, headersValues, getCount, getKeys, getValues));
    PyObject *stack[4] = {NULL, NULL, NULL, NULL};
    PyObject *r = NULL;
    int i, token;

    *status = OrthancPluginHttpAuthenticationStatus_Unauthorized;     /* fails closed */
    token = opy_gil_enter();
    if (token < 0)
        return OrthancPluginErrorCode_Success;          /* stopping: 401 */
    stack[0] = PyUnicode_DecodeUTF8(uri, (Py_ssize_t) strlen(uri), "surrogateescape");
    stack[1] = PyUnicode_FromString(ip ? ip : "");
    stack[2] = opy_dict_from_arrays(headersCount, headersKeys, headersValues);
    stack[3] = opy_dict_from_arrays(getCount, getKeys, getValues);
    for (i = 0; i < 4; i++) {
        if (stack[i] == NULL) {
            opy_error_report("HTTP authentication (arguments; request refused)", NULL);
            goto done;
        }
    }
    if (callable == NULL)
        goto done;
    r = PyObject_Vectorcall(callable, stack, 1, kwnames);
    if (r == NULL || interpret(r, status, customPayload, redirection) < 0) {
        char where[300];

        snprintf(where, sizeof where, "HTTP authentication of %.200s (request refused: 401)", uri);
        opy_error_report(where, NULL);
        *status = OrthancPluginHttpAuthenticationStatus_Unauthorized;
        if (customPayload->data != NULL)
            OrthancPluginFreeMemoryBuffer(opy_context, customPayload);
        if (redirection->data != NULL)
            OrthancPluginFreeMemoryBuffer(opy_context, redirection);
        customPayload->data = redirection->data = NULL;
        customPayload->size = redirection->size = 0;
    }
done:
    Py_XDECREF(r);
    for (i = 0; i < 4; i++)
        Py_XDECREF(stack[i]);
    opy_gil_leave(token);
    return OrthancPluginErrorCode_Success;
}

static PyObject *
RegisterHttpAuthentication(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kw)
{
    PyObject *f;
    OrthancPluginErrorCode code;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterHttpAuthentication", NULL);
    if (opy_sdk_require(OPY_SDK_VERSION(1, 12, 9), "RegisterHttpAuthentication") < 0)
        return NULL;
    f = opy_registry_one_callable("RegisterHttpAuthentication", args, nargs, kw);
    if (f == NULL || opy_registry_check_one("RegisterHttpAuthentication", f, callable != NULL,
                                            "HTTP authentication callback") < 0)
        return NULL;
    if (!c_registered) {
        code = OrthancPluginRegisterHttpAuthentication(opy_context, authenticate);
        if (code != OrthancPluginErrorCode_Success)
            return opy_error_raise_msg(code, "Orthanc refused the HTTP authentication callback "
                                       "(another plugin has registered one?)");
        c_registered = 1;
    }
    Py_INCREF(f);
    callable = f;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterHttpAuthentication", (PyCFunction) (void (*)(void)) RegisterHttpAuthentication,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterHttpAuthentication($module, /, callback)\n--\n\n"
     "Authenticate every HTTP request with callback(uri, ip=str, headers=dict, get=dict)\n"
     "(SDK 1.12.9); Orthanc's own authentication is then off. Return True or\n"
     "HttpAuthenticationStatus.GRANTED, (GRANTED, payload) or a dict payload such as\n"
     "{'user': 'alice', 'groups': [...]} (handed to REST callbacks as authenticationPayload),\n"
     "False/None/UNAUTHORIZED (401), FORBIDDEN (403) or (REDIRECT, '/login') (307).\n"
     "An exception refuses the request (401) and is logged."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_http_auth_init(PyObject *module)
{
    /* the family runs in the main interpreter only */
    if (opy_interps_is_main() && kwnames == NULL &&
        (kwnames = Py_BuildValue("(sss)", "ip", "headers", "get")) == NULL)
        return -1;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_http_auth_finalize(void)
{
    Py_CLEAR(callable);
    Py_CLEAR(kwnames);
    Py_CLEAR(json_dumps);
    c_registered = 0;               /* Orthanc forgets it (POST /tools/reset) */
}

#else  /* header older than SDK 1.12.9 */

int
opy_cb_http_auth_init(PyObject *module)
{
    (void) module;
    return 0;
}

void
opy_cb_http_auth_finalize(void)
{
}

#endif
