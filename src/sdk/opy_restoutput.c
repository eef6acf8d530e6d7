/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_restoutput.c - RestOutput methods whose Python form differs from the
 * SDK's signature (both forms of the official releases are accepted).
 *
 * A RestOutput is borrowed: valid only while its REST callback runs. Errors
 * of the SDK call raise orthanc.OrthancException (the proxy context gives
 * the error code even for the SDK's void functions). Methods that send an
 * answer mark the output as answered; the REST bridge turns a callback that
 * answered nothing into an explicit HTTP error.
 */
#include "opy_python.h"
#include "opy_args.h"
#include "opy_check.h"
#include "opy_error.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_restoutput.h"
#include "opy_log.h"
#include "opy_sdk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Thread_local OpyAnswerLater *opy_answer_later_frame;
/* Equal to (opy_answer_later_frame != NULL && opy_answer_later_frame->set),
 * kept as a flag of its own on purpose: OPY_BEGIN_ALLOW_THREADS (every SDK
 * call that releases the GIL) tests it with one load of an initial-exec
 * thread-local. */
__attribute__((tls_model("initial-exec"))) _Thread_local int opy_answer_later_waiting;

OpyAnswerLater *
opy_answer_later_take(OpyAnswerLater *l)
{
    if (l == NULL || !l->set)
        return NULL;
    l->set = 0;
    if (l == opy_answer_later_frame)
        opy_answer_later_waiting = 0;
    return l;
}

OrthancPluginErrorCode
opy_answer_later_send(OpyAnswerLater *l)
{
    OrthancPluginErrorCode saved = opy_sdk_last_error, code;
    _OrthancPluginAnswerBuffer p;

    p.output = l->output;
    p.answer = l->body != NULL ? l->body : "";
    p.answerSize = l->size;
    p.mimeType = l->mime;
    code = opy_sdk_invoke(_OrthancPluginService_AnswerBuffer, &p);
    opy_sdk_last_error = saved;     /* the caller's SDK call reads its own */
    free(l->body);
    l->body = NULL;
    return code;
}

OpyAnswerLater *
opy_answer_later_take_here(void)
{
    return opy_answer_later_take(opy_answer_later_frame);
}

int
opy_answer_later_deliver(OpyAnswerLater *l)
{
    OrthancPluginErrorCode code = opy_answer_later_send(l);

    if (code != OrthancPluginErrorCode_Success)
        opy_log(OPY_LOG_ERROR, "OPY0032 REST callback %s: its answer to %s could not be sent "
                "(Orthanc error %d: %s)", l->regex, l->url, (int) code,
                OrthancPluginGetErrorDescription(opy_context, code));
    return (int) code;
}

int
opy_answer_later_flush(OpyHandleObject *h)
{
    OpyAnswerLater *l = opy_answer_later_take(h->later);
    OrthancPluginErrorCode code;

    if (l == NULL)
        return 0;
    h->busy++;              /* the output stays valid while it is sent */
    {
        PyThreadState *save = opy_gil_allow_threads ? PyEval_SaveThread() : NULL;

        code = opy_answer_later_send(l);
        if (save != NULL)
            PyEval_RestoreThread(save);
    }
    h->busy--;
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        return -1;
    }
    return 0;
}

/* Calls an SDK service about this output with the GIL released; returns
 * None (marking the output answered) or NULL with OrthancException set. */
static PyObject *
answer(OpyHandleObject *h, _OrthancPluginService service, const void *params)
{
    OrthancPluginErrorCode code;

    if (opy_handle_enter((PyObject *) h) == NULL)
        return NULL;
    OPY_BEGIN_ALLOW_THREADS
    code = opy_sdk_invoke(service, params);
    OPY_END_ALLOW_THREADS
    opy_handle_leave((PyObject *) h);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    h->flags |= OPY_OUTPUT_ANSWERED;
    Py_RETURN_NONE;
}

const char opy_custom_RestOutput_SendMethodNotAllowed_doc[] =
    "SendMethodNotAllowed($self, /, allowedMethods='')\n--\n\n"
    "Signal that this URI does not support this HTTP method (HTTP 405).\n\n"
    "Parameters:\n  allowedMethods (str): the allowed methods, for the Allow header\n"
    "  (optional, as in later releases of the official plugin).";

PyObject *
opy_custom_RestOutput_SendMethodNotAllowed(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                           PyObject *kwnames)
{
    static const char *const names[] = {"allowedMethods"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[1];
    _OrthancPluginOutputPlusArgument p;

    if (opy_args_parse("SendMethodNotAllowed", args, nargs, kwnames, names, 1, 0, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    p.output = h->ptr;
    p.argument = a[0] != NULL ? opy_str_get(a[0], "allowedMethods") : "";
    if (p.argument == NULL ||
        opy_check_http_value(p.argument, strlen(p.argument), "RestOutput.SendMethodNotAllowed() "
                             "allowedMethods") < 0)          /* the Allow header */
        return NULL;
    return answer(h, _OrthancPluginService_SendMethodNotAllowed, &p);
}

const char opy_custom_RestOutput_SendHttpStatus_doc[] =
    "SendHttpStatus($self, /, status, body=None, bodySize=None)\n--\n\n"
    "Answer with an HTTP status code and an optional body.\n\n"
    "Parameters:\n  status (int): the HTTP status code\n"
    "  body (Buffer): the body of the answer (optional)\n"
    "  bodySize (int): send only the first bodySize bytes of body (optional; the form of\n"
    "  the official plugin 4.0).";

PyObject *
opy_custom_RestOutput_SendHttpStatus(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    static const char *const names[] = {"status", "body", "bodySize"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[3], *result;
    OpyBytes body = { NULL, 0, { 0 }, 0 };
    _OrthancPluginSendHttpStatus p;
    long long status;

    if (opy_args_parse("SendHttpStatus", args, nargs, kwnames, names, 3, 1, a) < 0 ||
        opy_handle_get(self) == NULL || opy_long_get(a[0], "status", 0, UINT16_MAX, &status) < 0)
        return NULL;
    p.output = h->ptr;
    p.status = (uint16_t) status;
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
        if (opy_size_check(body.size, UINT32_MAX, "body") < 0) {
            opy_bytes_release(&body);
            return NULL;
        }
        p.body = body.data;
        p.bodySize = (uint32_t) body.size;
    }
    result = answer(h, _OrthancPluginService_SendHttpStatus, &p);
    opy_bytes_release(&body);
    return result;
}

const char opy_custom_RestOutput_AnswerBuffer_doc[] =
    "AnswerBuffer($self, /, answer, mimeType)\n--\n\n"
    "Answer the REST request with a body (HTTP 200).\n\n"
    "Parameters:\n  answer (Buffer): the body: str (sent as UTF-8), bytes or any buffer\n"
    "  mimeType (str): its Content-Type\n\n"
    "An answer of at most 64 KiB is sent when the callback returns, or at its\n"
    "next call into Orthanc, whichever comes first.\n\n"
    "Raises orthanc.OrthancException when Orthanc reports an error.\n\n"
    "Orthanc SDK: before 1.0.0.";

PyObject *
opy_custom_RestOutput_AnswerBuffer(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    static const char *const names[] = {"answer", "mimeType"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    OpyAnswerLater *l = h->later;
    PyObject *a[2], *result = NULL;
    OpyBytes body;
    const char *mime;
    size_t mime_len;
    _OrthancPluginAnswerBuffer p;

    if (opy_args_parse("AnswerBuffer", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    if (opy_bytes_get(a[0], "answer", &body) < 0)
        return NULL;
    if (opy_size_check(body.size, UINT32_MAX, "answer") < 0 ||
        opy_arg_str(a[1], "mimeType", 0, &mime) < 0 ||
        opy_check_http_value(mime, (mime_len = strlen(mime)), "RestOutput.AnswerBuffer() mimeType") < 0)
        goto done;
    if (opy_sdk_is_closed()) {
        opy_error_sdk_closed();
        goto done;
    }
    if (l != NULL && l == opy_answer_later_frame && !l->set &&
        !(h->flags & (OPY_OUTPUT_ANSWERED | OPY_HANDLE_CALL_FAILED)) &&
        body.size <= OPY_ANSWER_LATER_MAX && mime_len < OPY_ANSWER_LATER_MIME) {
        /* held back: the first answer, on the thread serving the route */
        l->body = NULL;
        if (body.size > 0) {
            if ((l->body = malloc((size_t) body.size)) == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            memcpy(l->body, body.data, (size_t) body.size);
        }
        l->size = (uint32_t) body.size;
        memcpy(l->mime, mime, mime_len + 1);
        l->set = 1;
        opy_answer_later_waiting = 1;
        h->flags |= OPY_OUTPUT_ANSWERED;
        result = Py_NewRef(Py_None);
        goto done;
    }
    p.output = h->ptr;
    p.answer = body.data;
    p.answerSize = (uint32_t) body.size;
    p.mimeType = mime;
    result = answer(h, _OrthancPluginService_AnswerBuffer, &p);
done:
    opy_bytes_release(&body);
    return result;
}
