/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_chunked.c - orthanc.RegisterChunkedRestCallback (streamed request
 * bodies).
 *
 * Python signature:
 *     RegisterChunkedRestCallback(pathRegularExpression, getHandler=None,
 *                                 postHandler=None, deleteHandler=None,
 *                                 putHandler=None)
 * getHandler and deleteHandler follow the REST convention
 * (handler(output, uri, method=str, groups=tuple, get=dict (GET only),
 * headers=dict)) with the rules of RegisterRestCallback. postHandler and
 * putHandler are reader factories, called as
 *     factory(uri, method=str, groups=tuple, headers=dict) -> reader
 * where reader has add_chunk(data: bytes), execute(output) and optionally
 * close(). Orthanc calls add_chunk for each piece of the body as it arrives,
 * then execute(output) once the body is complete (answer there, as in a
 * REST callback), then close() in every case (also when the client went
 * away or something failed) to release resources.
 * Each call registers one route (at most OPY_CHUNKED_MAX); a handler left
 * None answers HTTP 405 for its method.
 * Thread: an Orthanc HTTP thread; routes are not mutually exclusive (several
 * requests may be served at once, each taking the GIL in turn).
 * Errors: an exception in the factory or in add_chunk (or a factory result
 * without callable add_chunk/execute) is logged with its traceback once
 * (OPY0010); the rest of the body is read but dropped, and the request is
 * answered by an HTTP error whose status follows the error code (that of an
 * orthanc.OrthancException, else 500) and whose details carry the exception
 * message. An exception in execute does the same unless it had already
 * answered; execute returning without answering gives HTTP 500 (OPY0011).
 * An exception in close() is logged. Return values are ignored.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_async.h"
#include "opy_check.h"
#include "opy_cb_rest.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_log.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_routes.h"
#include "opy_restoutput.h"
#include "opy_sdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPY_CHUNKED_MAX 100

typedef struct {
    PyObject *get, *post, *del, *put;   /* strong references or NULL */
    char *regex;
} OpyChunkedRoute;

static OpyChunkedRoute routes[OPY_CHUNKED_MAX];
static int n_routes;

/* One request being received: what Orthanc calls a "reader". */
typedef struct {
    PyObject *reader;                   /* strong reference, or NULL */
    char *url;
    const char *regex;                  /* borrowed from its route */
    OrthancPluginErrorCode failed;      /* Success, or the first failure */
    char *message;                      /* malloc'ed details of that failure */
} OpyChunkedReader;

/* Records the pending exception as the reader's failure (logged once). */
static void
reader_fail(OpyChunkedReader *r, const char *what)
{
    char where[300];

    snprintf(where, sizeof where, "chunked REST callback %s (%s %s)", r->regex, what, r->url);
    r->failed = opy_error_report(where, &r->message);
}

/* Returns a new reference to the tuple of regex groups, or NULL. */
static PyObject *
groups_of(const OrthancPluginHttpRequest *req)
{
    PyObject *t = PyTuple_New(req->groupsCount);
    uint32_t i;

    if (t == NULL)
        return NULL;
    for (i = 0; i < req->groupsCount; i++) {
        PyObject *g = PyUnicode_DecodeUTF8(req->groups[i], (Py_ssize_t) strlen(req->groups[i]),
                                           "surrogateescape");
        if (g == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SetItem(t, i, g);       /* steals g */
    }
    return t;
}

/* Calls factory(uri, method=, groups=, headers=). New reference or NULL. */
static PyObject *
call_factory(PyObject *factory, const char *url, const OrthancPluginHttpRequest *req)
{
    PyObject *args = NULL, *kwargs = NULL, *groups = NULL, *headers = NULL, *result = NULL;
    int m = (int) req->method;

    args = Py_BuildValue("(N)", PyUnicode_DecodeUTF8(url, (Py_ssize_t) strlen(url), "surrogateescape"));
    kwargs = PyDict_New();
    groups = groups_of(req);
    headers = opy_dict_from_arrays(req->headersCount, req->headersKeys, req->headersValues);
    if (args == NULL || kwargs == NULL || groups == NULL || headers == NULL ||
        PyDict_SetItemString(kwargs, "method", opy_state->str_method[(m >= 1 && m <= 4) ? m : 2]) < 0 ||
        PyDict_SetItemString(kwargs, "groups", groups) < 0 ||
        PyDict_SetItemString(kwargs, "headers", headers) < 0)
        goto done;
    result = opy_async_result(PyObject_Call(factory, args, kwargs));
done:
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_XDECREF(groups);
    Py_XDECREF(headers);
    return result;
}

/* 0 when `reader` has a callable attribute `name`, else -1 with TypeError. */
static int
check_method(PyObject *reader, const char *name)
{
    PyObject *m = PyObject_GetAttrString(reader, name);     /* new */
    int ok = m != NULL && PyCallable_Check(m);

    Py_XDECREF(m);
    if (!ok) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "the chunked request factory must return an object with "
                     "callable add_chunk(data) and execute(output) methods; %.100s has no "
                     "callable %s", Py_TYPE(reader)->tp_name, name);
        return -1;
    }
    return 0;
}

static OrthancPluginErrorCode chunked_factory(int index, OrthancPluginServerChunkedRequestReader **out, const char *url, const OrthancPluginHttpRequest *req);
OPY_STACK_THUNK(OrthancPluginErrorCode, chunked_factory, (int index; OrthancPluginServerChunkedRequestReader **out; const char *url; const OrthancPluginHttpRequest *req;), (f->index, f->out, f->url, f->req))

static OrthancPluginErrorCode
chunked_factory(int index, OrthancPluginServerChunkedRequestReader **out, const char *url,
                const OrthancPluginHttpRequest *req)
{
    OPY_STACK_SWITCH(chunked_factory, (index, out, url, req));
    OpyChunkedRoute *route = &routes[index];
    OpyChunkedReader *r;
    PyObject *factory, *reader = NULL;
    int token;

    r = calloc(1, sizeof *r);
    if (r == NULL || (r->url = strdup(url)) == NULL) {
        free(r);
        return OrthancPluginErrorCode_NotEnoughMemory;
    }
    r->regex = route->regex;
    token = opy_gil_enter();
    if (token < 0) {
        free(r->url);
        free(r);
        return OrthancPluginErrorCode_Plugin;       /* Python is stopping */
    }
    factory = req->method == OrthancPluginHttpMethod_Put ? route->put : route->post;
    if (factory == NULL) {
        /* Orthanc only calls us for a method we registered. */
        r->failed = OrthancPluginErrorCode_InternalError;
        goto done;
    }
    reader = call_factory(factory, url, req);
    if (reader == NULL) {
        reader_fail(r, req->method == OrthancPluginHttpMethod_Put ? "putHandler" : "postHandler");
        goto done;
    }
    if (check_method(reader, "add_chunk") < 0 || check_method(reader, "execute") < 0) {
        reader_fail(r, "result of the factory");
        goto done;
    }
    r->reader = Py_NewRef(reader);
done:
    Py_XDECREF(reader);
    opy_gil_leave(token);
    *out = (OrthancPluginServerChunkedRequestReader *) r;
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode chunked_add(OrthancPluginServerChunkedRequestReader *reader, const void *data, uint32_t size);
OPY_STACK_THUNK(OrthancPluginErrorCode, chunked_add, (OrthancPluginServerChunkedRequestReader *reader; const void *data; uint32_t size;), (f->reader, f->data, f->size))

static OrthancPluginErrorCode
chunked_add(OrthancPluginServerChunkedRequestReader *reader, const void *data, uint32_t size)
{
    OPY_STACK_SWITCH(chunked_add, (reader, data, size));
    OpyChunkedReader *r = (OpyChunkedReader *) reader;
    PyObject *chunk = NULL, *result = NULL;
    int token;

    if (r->failed != OrthancPluginErrorCode_Success || r->reader == NULL)
        return OrthancPluginErrorCode_Success;      /* dropped: execute reports the failure */
    token = opy_gil_enter();
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    chunk = PyBytes_FromStringAndSize(data, (Py_ssize_t) size);
    if (chunk != NULL)
        result = opy_async_result(PyObject_CallMethod(r->reader, "add_chunk", "O", chunk));
    if (result == NULL)
        reader_fail(r, "add_chunk");
    Py_XDECREF(result);
    Py_XDECREF(chunk);
    opy_gil_leave(token);
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode chunked_execute(OrthancPluginServerChunkedRequestReader *reader, OrthancPluginRestOutput *output);
OPY_STACK_THUNK(OrthancPluginErrorCode, chunked_execute, (OrthancPluginServerChunkedRequestReader *reader; OrthancPluginRestOutput *output;), (f->reader, f->output))

static OrthancPluginErrorCode
chunked_execute(OrthancPluginServerChunkedRequestReader *reader, OrthancPluginRestOutput *output)
{
    OPY_STACK_SWITCH(chunked_execute, (reader, output));
    OpyChunkedReader *r = (OpyChunkedReader *) reader;
    PyObject *out = NULL, *result = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int answered;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    if (r->failed != OrthancPluginErrorCode_Success || r->reader == NULL) {
        if (r->message != NULL)
            opy_rest_set_error_details(output, r->message);
        code = r->failed != OrthancPluginErrorCode_Success ? r->failed : OrthancPluginErrorCode_Plugin;
        goto done;
    }
    out = opy_handle_new(opy_state->types[OPY_TYPE_RestOutput], output);
    if (out == NULL) {
        code = opy_error_report("chunked REST callback (creating its RestOutput)", NULL);
        goto done;
    }
    result = opy_async_result(PyObject_CallMethod(r->reader, "execute", "O", out));
    answered = (((OpyHandleObject *) out)->flags & OPY_OUTPUT_ANSWERED) != 0;
    opy_handle_invalidate(out);
    if (result == NULL) {
        reader_fail(r, "execute");
        code = r->failed;
        if (answered)
            code = OrthancPluginErrorCode_Success;   /* the answer is already out */
        else if (r->message != NULL)
            opy_rest_set_error_details(output, r->message);
    }
    else if (!answered) {
        char details[300];

        snprintf(details, sizeof details,
                 "The Python chunked REST reader for %.200s returned from execute() without "
                 "sending an answer", r->url);
        opy_log(OPY_LOG_ERROR, "OPY0011 chunked REST callback %s (script %s) returned from "
                "execute() without sending an answer to %s", r->regex, opy_script_name, r->url);
        opy_rest_set_error_details(output, details);
        code = OrthancPluginErrorCode_Plugin;
    }
done:
    Py_XDECREF(result);
    Py_XDECREF(out);
    opy_gil_leave(token);
    return code;
}

static void chunked_finalize(OrthancPluginServerChunkedRequestReader *reader);
OPY_STACK_THUNK_VOID(chunked_finalize, (OrthancPluginServerChunkedRequestReader *reader;), (f->reader))

static void
chunked_finalize(OrthancPluginServerChunkedRequestReader *reader)
{
    OPY_STACK_SWITCH_VOID(chunked_finalize, (reader));
    OpyChunkedReader *r = (OpyChunkedReader *) reader;
    int token;

    if (r == NULL)
        return;
    token = opy_gil_enter();
    if (token >= 0) {
        if (r->reader != NULL) {
            PyObject *close = PyObject_GetAttrString(r->reader, "close");     /* new */

            if (close == NULL) {
                PyErr_Clear();                      /* close() is optional */
            }
            else {
                PyObject *res = PyObject_CallNoArgs(close);

                if (res == NULL) {
                    char where[300];

                    snprintf(where, sizeof where, "chunked REST callback %s (close %s)", r->regex, r->url);
                    opy_error_report(where, NULL);
                }
                Py_XDECREF(res);
                Py_DECREF(close);
            }
            Py_CLEAR(r->reader);
        }
        opy_gil_leave(token);
    }
    /* else: Python is gone, the reader object is left to it. */
    free(r->message);
    free(r->url);
    free(r);
}

static OrthancPluginErrorCode
chunked_get_delete(int index, OrthancPluginRestOutput *output, const char *url,
                   const OrthancPluginHttpRequest *req)
{
    OpyChunkedRoute *route = &routes[index];
    PyObject *f = req->method == OrthancPluginHttpMethod_Delete ? route->del : route->get;

    if (f == NULL)
        return OrthancPluginErrorCode_InternalError;    /* Orthanc only calls registered methods */
    return opy_rest_serve(0, f, route->regex, output, url, req);   /* the main interpreter's */
}

/* Two tables of entry points: Orthanc's callbacks carry no user data. */
#define OPY_CK_ENTRY(a, b)                                                                   \
    static OrthancPluginErrorCode gd_##a##b(OrthancPluginRestOutput *o, const char *u,       \
                                            const OrthancPluginHttpRequest *r)               \
    { return chunked_get_delete(a * 10 + b, o, u, r); }                                      \
    static OrthancPluginErrorCode fa_##a##b(OrthancPluginServerChunkedRequestReader **rd,    \
                                            const char *u, const OrthancPluginHttpRequest *r) \
    { return chunked_factory(a * 10 + b, rd, u, r); }
#define OPY_CK_ENTRY10(a) OPY_CK_ENTRY(a, 0) OPY_CK_ENTRY(a, 1) OPY_CK_ENTRY(a, 2)              \
    OPY_CK_ENTRY(a, 3) OPY_CK_ENTRY(a, 4) OPY_CK_ENTRY(a, 5) OPY_CK_ENTRY(a, 6)                 \
    OPY_CK_ENTRY(a, 7) OPY_CK_ENTRY(a, 8) OPY_CK_ENTRY(a, 9)
OPY_CK_ENTRY10(0) OPY_CK_ENTRY10(1) OPY_CK_ENTRY10(2) OPY_CK_ENTRY10(3) OPY_CK_ENTRY10(4)
OPY_CK_ENTRY10(5) OPY_CK_ENTRY10(6) OPY_CK_ENTRY10(7) OPY_CK_ENTRY10(8) OPY_CK_ENTRY10(9)

#define OPY_CK_PTR10(p, a) p##a##0, p##a##1, p##a##2, p##a##3, p##a##4, p##a##5, p##a##6, \
    p##a##7, p##a##8, p##a##9,
#define OPY_CK_PTR100(p) OPY_CK_PTR10(p, 0) OPY_CK_PTR10(p, 1) OPY_CK_PTR10(p, 2)          \
    OPY_CK_PTR10(p, 3) OPY_CK_PTR10(p, 4) OPY_CK_PTR10(p, 5) OPY_CK_PTR10(p, 6)              \
    OPY_CK_PTR10(p, 7) OPY_CK_PTR10(p, 8) OPY_CK_PTR10(p, 9)

static const OrthancPluginRestCallback gd_entries[OPY_CHUNKED_MAX] = { OPY_CK_PTR100(gd_) };
static const OrthancPluginServerChunkedRequestReaderFactory fa_entries[OPY_CHUNKED_MAX] = {
    OPY_CK_PTR100(fa_)
};

/* A handler argument: NULL/None -> *out NULL; callable -> *out borrowed.
 * 0 or -1 with TypeError. */
static int
handler_arg(PyObject *obj, const char *what, PyObject **out)
{
    *out = NULL;
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "orthanc.RegisterChunkedRestCallback(): %s must be callable "
                     "or None, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = obj;
    return 0;
}

/* Returns a new reference (None) or NULL with an exception set. */
static PyObject *
RegisterChunkedRestCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    static const char *const names[] = {"pathRegularExpression", "getHandler", "postHandler",
                                        "deleteHandler", "putHandler"};
    PyObject *a[5], *h[4];
    OpyChunkedRoute *route;
    const char *regex;
    char *copy;
    int i;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterChunkedRestCallback", NULL);
    if (opy_args_parse("RegisterChunkedRestCallback", args, nargs, kwnames, names, 5, 1, a) < 0)
        return NULL;
    for (i = 0; i < 4; i++)
        if (handler_arg(a[i + 1], names[i + 1], &h[i]) < 0)
            return NULL;
    if (h[0] == NULL && h[1] == NULL && h[2] == NULL && h[3] == NULL) {
        PyErr_SetString(PyExc_TypeError, "orthanc.RegisterChunkedRestCallback() needs at least "
                        "one handler (getHandler, postHandler, deleteHandler or putHandler)");
        return NULL;
    }
    for (i = 0; i < 4; i++)
        if (h[i] != NULL && opy_registry_check("RegisterChunkedRestCallback", h[i]) < 0)
            return NULL;
    if ((regex = opy_str_get(a[0], "pathRegularExpression")) == NULL ||
        opy_check_route_regex(a[0], regex) < 0)     /* Orthanc would die of a bad one */
        return NULL;
    if (n_routes >= OPY_CHUNKED_MAX) {
        PyErr_Format(PyExc_RuntimeError, "too many chunked REST routes (at most %d)", OPY_CHUNKED_MAX);
        return NULL;
    }
    if (opy_routes_claim(regex, "RegisterChunkedRestCallback") < 0)
        return NULL;
    copy = strdup(regex);
    if (copy == NULL)
        return PyErr_NoMemory();
    route = &routes[n_routes];
    route->regex = copy;
    route->get = Py_XNewRef(h[0]);
    route->post = Py_XNewRef(h[1]);
    route->del = Py_XNewRef(h[2]);
    route->put = Py_XNewRef(h[3]);
    /* Still inside OrthancPluginInitialize(): no need to release the GIL. */
    OrthancPluginRegisterChunkedRestCallback(
        opy_context, copy,
        (h[0] != NULL) ? gd_entries[n_routes] : NULL,
        (h[1] != NULL) ? fa_entries[n_routes] : NULL,
        (h[2] != NULL) ? gd_entries[n_routes] : NULL,
        (h[3] != NULL) ? fa_entries[n_routes] : NULL,
        chunked_add, chunked_execute, chunked_finalize);
    n_routes++;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterChunkedRestCallback", (PyCFunction) (void (*)(void)) RegisterChunkedRestCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterChunkedRestCallback($module, /, pathRegularExpression, getHandler=None,\n"
     "                            postHandler=None, deleteHandler=None, putHandler=None)\n--\n\n"
     "Serve the routes matching pathRegularExpression with streamed request bodies.\n"
     "getHandler/deleteHandler: as RegisterRestCallback, handler(output, uri, **request).\n"
     "postHandler/putHandler: factory(uri, method=str, groups=tuple, headers=dict) returning\n"
     "a reader with add_chunk(data: bytes), execute(output) and optionally close()."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_chunked_init(PyObject *module)
{
    /* A new interpreter (first start or after POST /tools/reset): empty again.
     * (The other interpreters of Python.Interpreters leave it to the main one.) */
    if (opy_interps_is_main())
        n_routes = 0;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_chunked_finalize(void)
{
    int i;

    /* Orthanc keeps the entry points; a late call finds Python closed. */
    for (i = 0; i < n_routes; i++) {
        Py_CLEAR(routes[i].get);
        Py_CLEAR(routes[i].post);
        Py_CLEAR(routes[i].del);
        Py_CLEAR(routes[i].put);
    }
}
