/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_restoutput.c - orthanc.RestOutput.
 *
 * A RestOutput is borrowed: it is valid only while its REST callback runs.
 * Each method calls the SDK service itself so that an error of a "void" SDK
 * function (status 418 refused, answering twice, ...) raises
 * orthanc.OrthancException instead of vanishing. Methods that send an answer
 * mark the output as answered; the REST bridge turns a callback that
 * answered nothing into an explicit HTTP error.
 */
#include "opy_restoutput.h"
#include "opy_args.h"
#include "opy_error.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_sdk.h"

#include <stdint.h>

#define FASTCALL_KW(f) ((PyCFunction) (void (*)(void)) (f))

/* Call an SDK service about this output with the GIL released. */
static OrthancPluginErrorCode
output_invoke(OpyHandleObject *h, _OrthancPluginService service, const void *params)
{
    OrthancPluginErrorCode code;

    h->busy++;
    OPY_BEGIN_ALLOW_THREADS
    code = opy_sdk_invoke(service, params);
    OPY_END_ALLOW_THREADS
    h->busy--;
    return code;
}

/* Returns None, or NULL with OrthancException set. */
static PyObject *
output_result(OpyHandleObject *h, OrthancPluginErrorCode code, unsigned flag)
{
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    h->flags |= flag;
    Py_RETURN_NONE;
}

static int
get_u32_size(const char *what, Py_ssize_t size)
{
    if ((size_t) size > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s is larger than 4 GiB", what);
        return -1;
    }
    return 0;
}

static int
get_status(PyObject *obj, uint16_t *out)
{
    long long v;

    if (opy_long_get(obj, "status", 100, 599, &v) < 0)
        return -1;
    *out = (uint16_t) v;
    return 0;
}

static PyObject *
RestOutput_AnswerBuffer(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"answer", "mimeType"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[2];
    OpyBytes body;
    _OrthancPluginAnswerBuffer p;
    OrthancPluginErrorCode code;

    if (opy_args_parse("AnswerBuffer", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    p.output = h->ptr;
    if ((p.mimeType = opy_str_get(a[1], "mimeType")) == NULL)
        return NULL;
    if (opy_bytes_get(a[0], "answer", &body) < 0)
        return NULL;
    if (get_u32_size("answer", body.size) < 0) {
        opy_bytes_release(&body);
        return NULL;
    }
    p.answer = body.data;
    p.answerSize = (uint32_t) body.size;
    code = output_invoke(h, _OrthancPluginService_AnswerBuffer, &p);
    opy_bytes_release(&body);
    return output_result(h, code, OPY_OUTPUT_ANSWERED);
}

/* Shared by the methods taking (output, one string). */
static PyObject *
output_plus_string(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                   const char *fname, const char *argname, int required, const char *dflt,
                   _OrthancPluginService service, unsigned flag)
{
    const char *const names[] = {argname};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[1];
    _OrthancPluginOutputPlusArgument p;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, required, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    p.output = h->ptr;
    p.argument = a[0] != NULL ? opy_str_get(a[0], argname) : dflt;
    if (p.argument == NULL)
        return NULL;
    return output_result(h, output_invoke(h, service, &p), flag);
}

static PyObject *
RestOutput_SendMethodNotAllowed(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return output_plus_string(self, args, nargs, kwnames, "SendMethodNotAllowed", "allowedMethods",
                              0, "", _OrthancPluginService_SendMethodNotAllowed, OPY_OUTPUT_ANSWERED);
}

static PyObject *
RestOutput_Redirect(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return output_plus_string(self, args, nargs, kwnames, "Redirect", "redirection",
                              1, NULL, _OrthancPluginService_Redirect, OPY_OUTPUT_ANSWERED);
}

static PyObject *
RestOutput_SendUnauthorized(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return output_plus_string(self, args, nargs, kwnames, "SendUnauthorized", "realm",
                              1, NULL, _OrthancPluginService_SendUnauthorized, OPY_OUTPUT_ANSWERED);
}

/* Shared by SetHttpHeader and SetCookie: (output, key, value). */
static PyObject *
output_key_value(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                 const char *fname, const char *kname, const char *vname,
                 _OrthancPluginService service)
{
    const char *const names[] = {kname, vname};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[2];
    _OrthancPluginSetHttpHeader p;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    p.output = h->ptr;
    if ((p.key = opy_str_get(a[0], kname)) == NULL || (p.value = opy_str_get(a[1], vname)) == NULL)
        return NULL;
    return output_result(h, output_invoke(h, service, &p), 0);
}

static PyObject *
RestOutput_SetHttpHeader(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return output_key_value(self, args, nargs, kwnames, "SetHttpHeader", "key", "value",
                            _OrthancPluginService_SetHttpHeader);
}

static PyObject *
RestOutput_SetCookie(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return output_key_value(self, args, nargs, kwnames, "SetCookie", "cookie", "value",
                            _OrthancPluginService_SetCookie);
}

static PyObject *
RestOutput_SendHttpStatusCode(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"status"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[1];
    _OrthancPluginSendHttpStatusCode p;

    if (opy_args_parse("SendHttpStatusCode", args, nargs, kwnames, names, 1, 1, a) < 0 ||
        opy_handle_get(self) == NULL || get_status(a[0], &p.status) < 0)
        return NULL;
    p.output = h->ptr;
    return output_result(h, output_invoke(h, _OrthancPluginService_SendHttpStatusCode, &p),
                         OPY_OUTPUT_ANSWERED);
}

/* SendHttpStatus(status[, body[, bodySize]]): the 4.0 form passes the size
 * explicitly, later forms only the body; both are accepted. */
static PyObject *
RestOutput_SendHttpStatus(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"status", "body", "bodySize"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[3];
    OpyBytes body = { NULL, 0, { 0 }, 0 };
    _OrthancPluginSendHttpStatus p;
    OrthancPluginErrorCode code;

    if (opy_args_parse("SendHttpStatus", args, nargs, kwnames, names, 3, 1, a) < 0 ||
        opy_handle_get(self) == NULL || get_status(a[0], &p.status) < 0)
        return NULL;
    p.output = h->ptr;
    p.body = NULL;
    p.bodySize = 0;
    if (a[1] != NULL && a[1] != Py_None) {
        if (opy_bytes_get(a[1], "body", &body) < 0)
            return NULL;
        if (a[2] != NULL && a[2] != Py_None) {
            long long size;

            if (opy_long_get(a[2], "bodySize", 0, body.size, &size) < 0) {
                opy_bytes_release(&body);
                return NULL;
            }
            body.size = (Py_ssize_t) size;
        }
        if (get_u32_size("body", body.size) < 0) {
            opy_bytes_release(&body);
            return NULL;
        }
        p.body = body.data;
        p.bodySize = (uint32_t) body.size;
    }
    code = output_invoke(h, _OrthancPluginService_SendHttpStatus, &p);
    opy_bytes_release(&body);
    return output_result(h, code, OPY_OUTPUT_ANSWERED);
}

static PyObject *
RestOutput_SetHttpErrorDetails(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"details", "log"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[2];
    _OrthancPluginSetHttpErrorDetails p;
    int log = 0;

    if (opy_args_parse("SetHttpErrorDetails", args, nargs, kwnames, names, 2, 1, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    p.output = h->ptr;
    if ((p.details = opy_str_get(a[0], "details")) == NULL)
        return NULL;
    if (a[1] != NULL && (log = PyObject_IsTrue(a[1])) < 0)
        return NULL;
    p.log = (uint8_t) log;
    return output_result(h, output_invoke(h, _OrthancPluginService_SetHttpErrorDetails, &p), 0);
}

static PyObject *
RestOutput_StartMultipartAnswer(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"subType", "contentType"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[2];
    _OrthancPluginStartMultipartAnswer p;

    if (opy_args_parse("StartMultipartAnswer", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    p.output = h->ptr;
    if ((p.subType = opy_str_get(a[0], "subType")) == NULL ||
        (p.contentType = opy_str_get(a[1], "contentType")) == NULL)
        return NULL;
    return output_result(h, output_invoke(h, _OrthancPluginService_StartMultipartAnswer, &p),
                         OPY_OUTPUT_ANSWERED);
}

static PyObject *
RestOutput_SendMultipartItem(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"answer"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[1];
    OpyBytes item;
    _OrthancPluginAnswerBuffer p;
    OrthancPluginErrorCode code;

    if (opy_args_parse("SendMultipartItem", args, nargs, kwnames, names, 1, 1, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    if (opy_bytes_get(a[0], "answer", &item) < 0)
        return NULL;
    if (get_u32_size("answer", item.size) < 0) {
        opy_bytes_release(&item);
        return NULL;
    }
    p.output = h->ptr;
    p.answer = item.data;
    p.answerSize = (uint32_t) item.size;
    p.mimeType = NULL;
    code = output_invoke(h, _OrthancPluginService_SendMultipartItem, &p);
    opy_bytes_release(&item);
    return output_result(h, code, OPY_OUTPUT_ANSWERED);
}

#define METHOD(name, sig, doc) \
    {#name, FASTCALL_KW(RestOutput_##name), METH_FASTCALL | METH_KEYWORDS, \
     #name sig "\n--\n\n" doc}

static PyMethodDef RestOutput_methods[] = {
    METHOD(AnswerBuffer, "($self, /, answer, mimeType)",
           "Answer to a REST request with a body (str or bytes-like) and its MIME type."),
    METHOD(SendMethodNotAllowed, "($self, /, allowedMethods='')",
           "Signal that this URI does not support this HTTP method (HTTP 405)."),
    METHOD(SetHttpHeader, "($self, /, key, value)",
           "Set an HTTP header of the answer; call before sending the answer."),
    METHOD(SetCookie, "($self, /, cookie, value)",
           "Set a cookie in the answer; call before sending the answer."),
    METHOD(SendHttpStatusCode, "($self, /, status)",
           "Answer with an HTTP status code and no body."),
    METHOD(SendHttpStatus, "($self, /, status, body=None, bodySize=None)",
           "Answer with an HTTP status code and an optional body; bodySize (optional)\n"
           "sends only the first bodySize bytes of body."),
    METHOD(Redirect, "($self, /, redirection)", "Redirect the client (HTTP 301) to another URI."),
    METHOD(SendUnauthorized, "($self, /, realm)", "Answer HTTP 401 asking for authentication in realm."),
    METHOD(SetHttpErrorDetails, "($self, /, details, log=False)",
           "Give details about the HTTP error that the callback is about to cause."),
    METHOD(StartMultipartAnswer, "($self, /, subType, contentType)",
           "Start a multipart answer; then send its parts with SendMultipartItem()."),
    METHOD(SendMultipartItem, "($self, /, answer)", "Send one part of a multipart answer."),
    {NULL, NULL, 0, NULL}
};

static PyType_Slot RestOutput_slots[] = {
    {Py_tp_dealloc, opy_handle_dealloc},
    {Py_tp_methods, RestOutput_methods},
    {Py_tp_doc, "The answer to a REST request, valid only while its callback runs."},
    {0, NULL}
};

static PyType_Spec RestOutput_spec = {
    .name = "orthanc.RestOutput",
    .basicsize = sizeof(OpyHandleObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = RestOutput_slots,
};

int
opy_restoutput_module_init(PyObject *module)
{
    OpyModuleState *st = opy_module_state(module);

    st->RestOutputType = (PyTypeObject *) PyType_FromModuleAndSpec(module, &RestOutput_spec, NULL);
    if (st->RestOutputType == NULL)
        return -1;
    return PyModule_AddType(module, st->RestOutputType);
}
