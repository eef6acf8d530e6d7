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
#include "opy_sdk.h"

#include <stdint.h>
#include <string.h>

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
