/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom_http.c - HTTP with headers: RestApiGet2, SendMultipartItem2,
 * HttpClient, CallRestApi, Peers.CallPeerApi.
 *
 * Headers go in as a dict of str; the full calls answer
 * (status, headers dict, body bytes). When the server answered with an HTTP
 * status (even an error status), that answer is returned; when no answer was
 * received at all, orthanc.OrthancException is raised.
 */
#include "opy_custom.h"
#include "opy_check.h"
#include "opy_restoutput.h"

#include <stdlib.h>
#include <string.h>

int
opy_headers_get(PyObject *obj, const char *what, OpyHeaders *out)
{
    Py_ssize_t i, n;

    memset(out, 0, sizeof *out);
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyDict_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a dict of str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    out->items = PyDict_Items(obj);
    if (out->items == NULL)
        return -1;
    n = PyList_Size(out->items);
    if (n > (Py_ssize_t) UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s: too many headers", what);
        goto error;
    }
    out->keys = calloc((size_t) n + 1, sizeof(char *));
    out->values = calloc((size_t) n + 1, sizeof(char *));
    if (out->keys == NULL || out->values == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (i = 0; i < n; i++) {
        PyObject *item = PyList_GetItem(out->items, i);     /* borrowed */

        out->keys[i] = opy_str_get(PyTuple_GetItem(item, 0), "header name");
        out->values[i] = out->keys[i] ? opy_str_get(PyTuple_GetItem(item, 1), "header value") : NULL;
        if (out->values[i] == NULL ||       /* no header injection, in or out */
            opy_check_http_name(out->keys[i], strlen(out->keys[i]), "header name") < 0 ||
            opy_check_http_value(out->values[i], strlen(out->values[i]), "header value") < 0)
            goto error;
    }
    out->count = (uint32_t) n;
    return 0;
error:
    opy_headers_release(out);
    return -1;
}

void
opy_headers_release(OpyHeaders *h)
{
    free(h->keys);
    free(h->values);
    Py_CLEAR(h->items);
    h->keys = h->values = NULL;
    h->count = 0;
}

PyObject *
opy_json_buffer_to_dict(OrthancPluginMemoryBuffer *buffer)
{
    PyObject *json = NULL, *text = NULL, *result = NULL;

    if (buffer->data == NULL || buffer->size == 0) {
        if (buffer->data != NULL)
            OrthancPluginFreeMemoryBuffer(opy_context, buffer);
        return PyDict_New();
    }
    text = PyUnicode_DecodeUTF8(buffer->data, (Py_ssize_t) buffer->size, "replace");
    OrthancPluginFreeMemoryBuffer(opy_context, buffer);
    if (text == NULL)
        return NULL;
    json = PyImport_ImportModule("json");
    if (json != NULL)
        result = PyObject_CallMethod(json, "loads", "O", text);
    Py_XDECREF(json);
    Py_DECREF(text);
    return result;
}

PyObject *
opy_http_answer(uint16_t status, OrthancPluginMemoryBuffer *headers, OrthancPluginMemoryBuffer *body)
{
    PyObject *h = opy_json_buffer_to_dict(headers);
    PyObject *b = opy_take_buffer(body);
    PyObject *r = NULL;

    if (h != NULL && b != NULL)
        r = Py_BuildValue("(iOO)", (int) status, h, b);
    Py_XDECREF(h);
    Py_XDECREF(b);
    return r;
}

/* Frees what an HTTP call may have left in the buffers after an error. */
static void
free_buffers(OrthancPluginMemoryBuffer *a, OrthancPluginMemoryBuffer *b)
{
    if (a->data != NULL)
        OrthancPluginFreeMemoryBuffer(opy_context, a);
    if (b->data != NULL)
        OrthancPluginFreeMemoryBuffer(opy_context, b);
}

const char opy_custom_RestApiGet2_doc[] =
    "RestApiGet2($module, /, uri, headers, afterPlugins)\n--\n\n"
    "GET uri on the REST API of Orthanc, with HTTP headers.\n\n"
    "Parameters:\n  uri (str): the URI in the REST API\n"
    "  headers (dict): HTTP headers {name: value}\n"
    "  afterPlugins (bool): True to reach the routes of plugins too\n\n"
    "Returns:\n  bytes: the body of the answer\n\n"
    "Raises orthanc.OrthancException when Orthanc reports an error.";

PyObject *
opy_custom_RestApiGet2(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"uri", "headers", "afterPlugins"};
    PyObject *a[3];
    const char *uri;
    OpyHeaders headers;
    OrthancPluginMemoryBuffer target = { NULL, 0 };
    OrthancPluginErrorCode code;
    int after;

    (void) self;
    if (opy_args_parse("RestApiGet2", args, nargs, kwnames, names, 3, 3, a) < 0 ||
        (uri = opy_str_get(a[0], "uri")) == NULL || opy_bool_get(a[2], "afterPlugins", &after) < 0)
        return NULL;
    OPY_CHECK_SDK();
    if (opy_headers_get(a[1], "headers", &headers) < 0)
        return NULL;
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginRestApiGet2(opy_context, &target, uri, headers.count, headers.keys,
                                    headers.values, after);
    OPY_END_ALLOW_THREADS
    opy_headers_release(&headers);
    if (code != OrthancPluginErrorCode_Success) {
        if (target.data != NULL)
            OrthancPluginFreeMemoryBuffer(opy_context, &target);
        return opy_error_raise(code);
    }
    return opy_take_buffer(&target);
}

const char opy_custom_RestOutput_SendMultipartItem2_doc[] =
    "SendMultipartItem2($self, /, answer, headers)\n--\n\n"
    "Send one part of a multipart answer, with its own HTTP headers.\n\n"
    "Parameters:\n  answer (Buffer): the body of the part\n"
    "  headers (dict): the headers of the part {name: value}\n\n"
    "Raises orthanc.OrthancException when Orthanc reports an error.";

PyObject *
opy_custom_RestOutput_SendMultipartItem2(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                         PyObject *kwnames)
{
    static const char *const names[] = {"answer", "headers"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[2];
    OpyBytes answer;
    OpyHeaders headers;
    OrthancPluginErrorCode code;

    if (opy_args_parse("SendMultipartItem2", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    if (opy_bytes_get(a[0], "answer", &answer) < 0)
        return NULL;
    if (opy_size_check(answer.size, UINT32_MAX, "answer") < 0 ||
        opy_headers_get(a[1], "headers", &headers) < 0) {
        opy_bytes_release(&answer);
        return NULL;
    }
    if (opy_handle_enter(self) == NULL) {
        opy_headers_release(&headers);
        opy_bytes_release(&answer);
        return NULL;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginSendMultipartItem2(opy_context, h->ptr, answer.data, (uint32_t) answer.size,
                                           headers.count, headers.keys, headers.values);
    OPY_END_ALLOW_THREADS
    opy_handle_leave(self);
    opy_headers_release(&headers);
    opy_bytes_release(&answer);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    h->flags |= OPY_OUTPUT_ANSWERED;
    Py_RETURN_NONE;
}

/* The shared part of HttpClient / CallRestApi / CallPeerApi arguments. */
typedef struct {
    long long method;
    OpyHeaders headers;
    OpyBytes body;
    int have_body;
} HttpArgs;

static int
http_args_get(PyObject *method, PyObject *headers, PyObject *body, HttpArgs *out)
{
    memset(out, 0, sizeof *out);
    if (opy_long_get(method, "method", OrthancPluginHttpMethod_Get, OrthancPluginHttpMethod_Delete,
                     &out->method) < 0)
        return -1;
    if (body != NULL && body != Py_None) {
        if (opy_bytes_get(body, "body", &out->body) < 0)
            return -1;
        out->have_body = 1;
        if (opy_size_check(out->body.size, UINT32_MAX, "body") < 0)
            goto error;
    }
    if (opy_headers_get(headers, "headers", &out->headers) < 0)
        goto error;
    return 0;
error:
    if (out->have_body)
        opy_bytes_release(&out->body);
    return -1;
}

static void
http_args_release(HttpArgs *h)
{
    opy_headers_release(&h->headers);
    if (h->have_body)
        opy_bytes_release(&h->body);
}

static PyObject *
http_result(OrthancPluginErrorCode code, uint16_t status, OrthancPluginMemoryBuffer *headers,
            OrthancPluginMemoryBuffer *body)
{
    if (code != OrthancPluginErrorCode_Success && status == 0) {
        free_buffers(headers, body);
        return opy_error_raise(code);
    }
    return opy_http_answer(status, headers, body);
}

const char opy_custom_HttpClient_doc[] =
    "HttpClient($module, /, method, url, headers=None, body=None, username=None, password=None,"
    " timeout=0, certificateFile=None, certificateKeyFile=None, certificateKeyPassword=None,"
    " pkcs11=False)\n--\n\n"
    "Issue an HTTP call with full flexibility (HttpProxy, HttpTimeout, HttpsVerifyPeers... of the\n"
    "configuration apply).\n\n"
    "Parameters:\n  method (int): an orthanc.HttpMethod\n  url (str): the URL\n"
    "  headers (dict): HTTP headers {name: value}\n  body (Buffer): body of a POST or PUT\n"
    "  username, password (str): credentials, or None\n  timeout (int): seconds, 0 for the default\n"
    "  certificateFile, certificateKeyFile, certificateKeyPassword (str): HTTPS client certificate\n"
    "  pkcs11 (bool): PKCS#11 client authentication\n\n"
    "Returns:\n  tuple: (status int, headers dict, body bytes), also for an HTTP error status\n\n"
    "Raises orthanc.OrthancException when no answer was received.";

PyObject *
opy_custom_HttpClient(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"method", "url", "headers", "body", "username", "password",
                                        "timeout", "certificateFile", "certificateKeyFile",
                                        "certificateKeyPassword", "pkcs11"};
    PyObject *a[11];
    const char *url, *s[5] = {NULL, NULL, NULL, NULL, NULL};
    long long timeout = 0;
    int pkcs11 = 0, i;
    HttpArgs h;
    OrthancPluginMemoryBuffer body = { NULL, 0 }, headers = { NULL, 0 };
    uint16_t status = 0;
    OrthancPluginErrorCode code;

    (void) self;
    if (opy_args_parse("HttpClient", args, nargs, kwnames, names, 11, 2, a) < 0 ||
        (url = opy_str_get(a[1], "url")) == NULL)
        return NULL;
    for (i = 0; i < 5; i++) {
        int k = i < 2 ? 4 + i : 5 + i;       /* username, password, then the 3 certificate args */

        if (a[k] != NULL && opy_arg_str(a[k], names[k], 1, &s[i]) < 0)
            return NULL;
    }
    if ((a[6] != NULL && opy_long_get(a[6], "timeout", 0, UINT32_MAX, &timeout) < 0) ||
        (a[10] != NULL && opy_bool_get(a[10], "pkcs11", &pkcs11) < 0))
        return NULL;
    OPY_CHECK_SDK();
    if (http_args_get(a[0], a[2], a[3], &h) < 0)
        return NULL;
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginHttpClient(opy_context, &body, &headers, &status,
                                   (OrthancPluginHttpMethod) h.method, url, h.headers.count,
                                   h.headers.keys, h.headers.values,
                                   h.have_body ? h.body.data : NULL, (uint32_t) h.body.size,
                                   s[0], s[1], (uint32_t) timeout, s[2], s[3], s[4], (uint8_t) pkcs11);
    OPY_END_ALLOW_THREADS
    http_args_release(&h);
    return http_result(code, status, &headers, &body);
}

const char opy_custom_CallRestApi_doc[] =
    "CallRestApi($module, /, method, uri, headers=None, body=None, afterPlugins=False)\n--\n\n"
    "Call the REST API of Orthanc with full flexibility.\n\n"
    "Parameters:\n  method (int): an orthanc.HttpMethod\n  uri (str): the URI in the REST API\n"
    "  headers (dict): HTTP headers {name: value}\n  body (Buffer): body of a POST or PUT\n"
    "  afterPlugins (bool): True to reach the routes of plugins too\n\n"
    "Returns:\n  tuple: (status int, headers dict, body bytes)\n\n"
    "Raises orthanc.OrthancException when Orthanc reports an error.";

PyObject *
opy_custom_CallRestApi(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"method", "uri", "headers", "body", "afterPlugins"};
    PyObject *a[5];
    const char *uri;
    int after = 0;
    HttpArgs h;
    OrthancPluginMemoryBuffer body = { NULL, 0 }, headers = { NULL, 0 };
    uint16_t status = 0;
    OrthancPluginErrorCode code;

    (void) self;
    if (opy_args_parse("CallRestApi", args, nargs, kwnames, names, 5, 2, a) < 0 ||
        (uri = opy_str_get(a[1], "uri")) == NULL ||
        (a[4] != NULL && opy_bool_get(a[4], "afterPlugins", &after) < 0))
        return NULL;
    OPY_CHECK_SDK();
    if (http_args_get(a[0], a[2], a[3], &h) < 0)
        return NULL;
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginCallRestApi(opy_context, &body, &headers, &status,
                                    (OrthancPluginHttpMethod) h.method, uri, h.headers.count,
                                    h.headers.keys, h.headers.values,
                                    h.have_body ? h.body.data : NULL, (uint32_t) h.body.size,
                                    (uint8_t) after);
    OPY_END_ALLOW_THREADS
    http_args_release(&h);
    return http_result(code, status, &headers, &body);
}

const char opy_custom_Peers_CallPeerApi_doc[] =
    "CallPeerApi($self, /, peerIndex, method, uri, additionalHeaders=None, body=None, timeout=0)"
    "\n--\n\n"
    "Call the REST API of an Orthanc peer.\n\n"
    "Parameters:\n  peerIndex (int): index of the peer\n  method (int): an orthanc.HttpMethod\n"
    "  uri (str): the URI in the REST API of the peer\n"
    "  additionalHeaders (dict): HTTP headers {name: value}\n  body (Buffer): body of a POST or PUT\n"
    "  timeout (int): seconds, 0 for the default\n\n"
    "Returns:\n  tuple: (status int, headers dict, body bytes), also for an HTTP error status\n\n"
    "Raises orthanc.OrthancException when no answer was received.";

PyObject *
opy_custom_Peers_CallPeerApi(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"peerIndex", "method", "uri", "additionalHeaders", "body",
                                        "timeout"};
    OpyHandleObject *p = (OpyHandleObject *) self;
    PyObject *a[6];
    const char *uri;
    long long index, timeout = 0;
    HttpArgs h;
    OrthancPluginMemoryBuffer body = { NULL, 0 }, headers = { NULL, 0 };
    uint16_t status = 0;
    OrthancPluginErrorCode code;

    if (opy_args_parse("CallPeerApi", args, nargs, kwnames, names, 6, 3, a) < 0 ||
        opy_handle_get(self) == NULL ||
        opy_long_get(a[0], "peerIndex", 0, UINT32_MAX, &index) < 0 ||
        (uri = opy_str_get(a[2], "uri")) == NULL ||
        (a[5] != NULL && opy_long_get(a[5], "timeout", 0, UINT32_MAX, &timeout) < 0))
        return NULL;
    OPY_CHECK_SDK();
    if (http_args_get(a[1], a[3], a[4], &h) < 0)
        return NULL;
    if (opy_handle_enter(self) == NULL) {
        http_args_release(&h);
        return NULL;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginCallPeerApi(opy_context, &body, &headers, &status, p->ptr, (uint32_t) index,
                                    (OrthancPluginHttpMethod) h.method, uri, h.headers.count,
                                    h.headers.keys, h.headers.values,
                                    h.have_body ? h.body.data : NULL, (uint32_t) h.body.size,
                                    (uint32_t) timeout);
    OPY_END_ALLOW_THREADS
    opy_handle_leave(self);
    http_args_release(&h);
    return http_result(code, status, &headers, &body);
}
