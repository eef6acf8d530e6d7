/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_rest.c - REST callbacks.
 *
 * Python signature (as the official plugin):
 *     callback(output, uri, method=str, groups=tuple, get=dict (GET only),
 *              headers=dict, body=bytes (POST and PUT only))
 * Thread: an Orthanc HTTP thread (registered without the core's global
 * lock, so several callbacks may run at once, each taking the GIL).
 * Errors: an exception gives an HTTP error whose status follows the Orthanc
 * error code (that of an orthanc.OrthancException, else 500) and whose
 * details carry the exception message; the traceback is logged once
 * (OPY0010). A callback that returns without answering gives HTTP 500 with
 * details saying so (OPY0011), never an empty reply. The return value is
 * ignored.
 *
 * Orthanc matches the route regex itself and its callback carries no user
 * data, so each route gets its own C entry point from a fixed table.
 *
 * With "Python.Interpreters" > 1, a route has one callable per interpreter
 * (registered by each interpreter's import of the script, in the same
 * order as the main one's) and each call runs in the least busy
 * interpreter (opy_interps_pick); an async def route runs in the main one.
 */
#include "opy_cb_rest.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_check.h"
#include "opy_async.h"
#include "opy_error.h"
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

#define OPY_REST_MAX 1000

typedef struct {
    /* strong references, one per interpreter (opy_interps.h); [0] is the
     * main one's, the others NULL when the route runs in the main one only */
    PyObject *callables[OPY_INTERPS_MAX];
    char *regex;
    const char *script;     /* the script that registered it (opy_scripts_bases), or NULL */
    int main_only;          /* an async def: the main interpreter's event loop */
} OpyRestRoute;

static OpyRestRoute routes[OPY_REST_MAX];
static int n_routes;
static int n_seen[OPY_INTERPS_MAX];      /* routes registered by each interpreter > 0 */

/* Returns a new reference to the tuple of regex groups. */
static PyObject *
groups_tuple(OpyModuleState *st, const OrthancPluginHttpRequest *req)
{
    PyObject *t;
    uint32_t i;

    if (req->groupsCount == 0)
        return Py_NewRef(st->empty_tuple);
    t = PyTuple_New(req->groupsCount);
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

/* Calls the route's callable; returns its new-reference result or NULL. */
static PyObject *
call_route(OpyModuleState *st, PyObject *callable, PyObject *output, const char *url,
           const OrthancPluginHttpRequest *req)
{
    PyObject *uri = NULL, *groups = NULL, *get = NULL, *headers = NULL, *body = NULL;
    PyObject *result = NULL, *method, *kwnames;
    PyObject *payload = NULL, *kw_payload = NULL;
    PyObject *stack[8];
    Py_ssize_t n = 0;
    int m = (int) req->method;

    method = (m >= 1 && m <= 4) ? st->str_method[m] : st->str_method[1];
    uri = PyUnicode_DecodeUTF8(url, (Py_ssize_t) strlen(url), "surrogateescape");
    groups = groups_tuple(st, req);
    headers = opy_dict_from_arrays(req->headersCount, req->headersKeys, req->headersValues);
    if (uri == NULL || groups == NULL || headers == NULL)
        goto done;
    stack[n++] = output;
    stack[n++] = uri;
    stack[n++] = method;
    stack[n++] = groups;
    if (req->method == OrthancPluginHttpMethod_Get) {
        get = opy_dict_from_arrays(req->getCount, req->getKeys, req->getValues);
        if (get == NULL)
            goto done;
        stack[n++] = get;
        stack[n++] = headers;
        kwnames = st->kwnames_get;
    }
    else if (req->method == OrthancPluginHttpMethod_Post || req->method == OrthancPluginHttpMethod_Put) {
        body = req->bodySize > 0
            ? PyBytes_FromStringAndSize(req->body, (Py_ssize_t) req->bodySize)
            : Py_NewRef(st->empty_bytes);
        if (body == NULL)
            goto done;
        stack[n++] = headers;
        stack[n++] = body;
        kwnames = st->kwnames_body;
    }
    else {
        stack[n++] = headers;
        kwnames = st->kwnames_plain;
    }
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 9)
    /* the payload of orthanc.RegisterHttpAuthentication's callback (the
     * field is in the request only from Orthanc 1.12.9 on) */
    if (opy_sdk_has(OPY_SDK_VERSION(1, 12, 9)) && req->authenticationPayloadSize > 0) {
        Py_ssize_t k = PyTuple_GET_SIZE(kwnames);

        payload = PyBytes_FromStringAndSize(req->authenticationPayload,
                                            (Py_ssize_t) req->authenticationPayloadSize);
        if (payload == NULL || (kw_payload = PyTuple_New(k + 1)) == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < k; i++)
            PyTuple_SET_ITEM(kw_payload, i, Py_NewRef(PyTuple_GET_ITEM(kwnames, i)));
        PyTuple_SET_ITEM(kw_payload, k, PyUnicode_FromString("authenticationPayload"));
        if (PyTuple_GET_ITEM(kw_payload, k) == NULL)
            goto done;
        stack[n++] = payload;
        kwnames = kw_payload;
    }
#endif
#if OPY_HAVE_VECTORCALL
    result = PyObject_Vectorcall(callable, stack, 2, kwnames);
#else
    {
        PyObject *args = PyTuple_Pack(2, stack[0], stack[1]);
        PyObject *kwargs = PyDict_New();
        Py_ssize_t i;

        if (args != NULL && kwargs != NULL) {
            for (i = 2; i < n; i++)
                if (PyDict_SetItem(kwargs, PyTuple_GetItem(kwnames, i - 2), stack[i]) < 0)
                    break;
            if (i == n)
                result = PyObject_Call(callable, args, kwargs);
        }
        Py_XDECREF(args);
        Py_XDECREF(kwargs);
    }
#endif
done:
    Py_XDECREF(payload);
    Py_XDECREF(kw_payload);
    Py_XDECREF(uri);
    Py_XDECREF(groups);
    Py_XDECREF(get);
    Py_XDECREF(headers);
    Py_XDECREF(body);
    return result;
}

void
opy_rest_set_error_details(OrthancPluginRestOutput *output, const char *details)
{
    _OrthancPluginSetHttpErrorDetails p;

    p.output = output;
    p.details = details;
    p.log = 0;
    OPY_BEGIN_ALLOW_THREADS
    opy_sdk_invoke(_OrthancPluginService_SetHttpErrorDetails, &p);
    OPY_END_ALLOW_THREADS
}

/* ------------------------------------------------------ streamed answers
 *
 * A REST callback may return a stream instead of answering through its
 * RestOutput: a generator, a binary file object (io.RawIOBase /
 * io.BufferedIOBase) or an orthanc.StreamedAnswer(chunks, content_type).
 * Any other return value is ignored, as before. The chunks (bytes-like or
 * str, UTF-8) are sent with OrthancPluginSendStreamChunk (SDK 1.12.6), the
 * GIL released during each send. The Python part below turns the returned
 * object into (iterable, content_type or None), or None when it is not a
 * stream. */
static const char stream_source[] =
    "import io as _io, types as _types\n"
    "class StreamedAnswer:\n"
    "    \"\"\"Return StreamedAnswer(chunks, content_type) from a REST callback to stream its\n"
    "    answer (Orthanc 1.12.6 or newer): chunks is an iterable of bytes-like or str chunks\n"
    "    (a generator, a list, ...) or a binary file object, read by blocks of 1 MiB and\n"
    "    closed at the end.\"\"\"\n"
    "    __slots__ = ('chunks', 'content_type')\n"
    "    def __init__(self, chunks, content_type='application/octet-stream'):\n"
    "        if not isinstance(content_type, str):\n"
    "            raise TypeError('StreamedAnswer() content_type must be a str, not %s'\n"
    "                            % type(content_type).__name__)\n"
    "        self.chunks = chunks\n"
    "        self.content_type = content_type\n"
    "    def __repr__(self):\n"
    "        return '<orthanc.StreamedAnswer %s of %r>' % (self.content_type, self.chunks)\n"
    "StreamedAnswer.__module__ = 'orthanc'\n"
    "_orthanc.StreamedAnswer = StreamedAnswer\n"
    "_FILES = (_io.RawIOBase, _io.BufferedIOBase)\n"
    "def _file_chunks(f):\n"
    "    with f:\n"
    "        while True:\n"
    "            block = f.read(1 << 20)\n"
    "            if not block:\n"
    "                return\n"
    "            yield block\n"
    "def _stream_of(result):\n"
    "    if isinstance(result, StreamedAnswer):\n"
    "        chunks, content_type = result.chunks, result.content_type\n"
    "    elif isinstance(result, (_types.GeneratorType,) + _FILES):\n"
    "        chunks, content_type = result, None\n"
    "    else:\n"
    "        return None\n"
    "    if isinstance(chunks, _FILES):\n"
    "        chunks = _file_chunks(chunks)\n"
    "    return (chunks, content_type)\n";

#define OPY_STREAM_DEFAULT_TYPE "application/octet-stream"

/* it.close() when the iterator has one (a generator: runs its finally
 * blocks, closes the file of a file stream). Keeps a pending exception. */
static void
close_iterator(PyObject *it)
{
    PyObject *r;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
#endif

    if (PyObject_HasAttrString(it, "close")) {
        r = PyObject_CallMethod(it, "close", NULL);
        if (r == NULL)
            opy_error_log("OPY0010", "closing the generator of a streamed answer");
        Py_XDECREF(r);
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(type, value, tb);
#endif
}

/* Streams the answer when `result` (the callback's return value) is a
 * stream. Returns 0 when it is not one (nothing done, no exception), 1 when
 * the stream was sent or ended because the client left (*code Success, or
 * the SDK's error), and -1 with an exception set when the stream could not
 * start or failed midway (*started says whether bytes went out). Needs the
 * GIL. */
static int
stream_answer(OpyModuleState *st, PyObject *result, OpyHandleObject *h, const char *url, const char *regex, int *started,
              unsigned long long *sent)
{
    PyObject *pair, *it = NULL, *chunk = NULL;
    const char *content_type;
    int rc = -1;

    *started = 0;
    *sent = 0;
    if (st->stream_of == NULL)
        return 0;
    pair = PyObject_CallOneArg(st->stream_of, result);
    if (pair == NULL)
        return -1;
    if (pair == Py_None) {
        Py_DECREF(pair);
        return 0;
    }
    it = PyObject_GetIter(PyTuple_GetItem(pair, 0));
    if (it == NULL)
        goto done;
    if (!opy_sdk_has(OPY_SDK_VERSION(1, 12, 6))) {
        PyErr_Format(PyExc_NotImplementedError, "a REST callback that returns a stream (a generator, a binary "
                     "file or an orthanc.StreamedAnswer) needs Orthanc 1.12.6 or newer; this is Orthanc %s",
                     opy_sdk_running_text());
        goto done;
    }
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 6)
    {
        OrthancPluginRestOutput *output = h->ptr;
        OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;

        if (PyTuple_GetItem(pair, 1) == Py_None)
            content_type = OPY_STREAM_DEFAULT_TYPE;
        else if ((content_type = opy_str_get(PyTuple_GetItem(pair, 1), "StreamedAnswer content_type")) == NULL)
            goto done;
        /* A callback that called output.StartStreamAnswer() itself (or
         * answered otherwise: Orthanc then refuses the chunks) keeps it. */
        if ((h->flags & OPY_OUTPUT_ANSWERED) == 0) {
            OPY_BEGIN_ALLOW_THREADS
            code = OrthancPluginStartStreamAnswer(opy_context, output, content_type);
            OPY_END_ALLOW_THREADS
            if (code != OrthancPluginErrorCode_Success) {
                opy_error_raise(code);
                goto done;
            }
            h->flags |= OPY_OUTPUT_ANSWERED;
        }
        *started = 1;
        while ((chunk = PyIter_Next(it)) != NULL) {
            OpyBytes b;
            Py_ssize_t off = 0;

            if (!PyUnicode_Check(chunk) && !PyObject_CheckBuffer(chunk)) {
                PyErr_Format(PyExc_TypeError, "a streamed answer's chunks must be bytes (or bytes-like) or "
                             "str, not %.100s", Py_TYPE(chunk)->tp_name);
                goto done;
            }
            if (opy_bytes_get(chunk, "chunk", &b) < 0)
                goto done;
            OPY_BEGIN_ALLOW_THREADS
            /* an empty chunk would end the HTTP chunked encoding: skipped */
            while (off < b.size && code == OrthancPluginErrorCode_Success) {
                Py_ssize_t n = b.size - off > (Py_ssize_t) 0x40000000 ? (Py_ssize_t) 0x40000000 : b.size - off;

                code = OrthancPluginSendStreamChunk(opy_context, output, b.data + off, (uint32_t) n);
                off += n;
            }
            OPY_END_ALLOW_THREADS
            opy_bytes_release(&b);
            Py_CLEAR(chunk);
            if (code != OrthancPluginErrorCode_Success) {
                /* the client closed the connection (the usual cause) */
                opy_log(OPY_LOG_WARNING, "OPY0050 REST callback %s: the streamed answer to %s ended after %llu "
                        "bytes: Orthanc could not send a chunk (%s; the client closed the connection?); "
                        "the generator is closed", regex, url, *sent, OrthancPluginGetErrorDescription(opy_context, code));
                close_iterator(it);
                rc = 1;
                goto done;
            }
            *sent += (unsigned long long) off;
        }
        if (!PyErr_Occurred())
            rc = 1;
    }
#else
    (void) h;
    (void) url;
    (void) regex;
    (void) content_type;
    PyErr_SetString(PyExc_NotImplementedError, "a REST callback that returns a stream (a generator, a binary "
                    "file or an orthanc.StreamedAnswer) needs a plugin built with the Orthanc SDK 1.12.6 or newer");
#endif
done:
    if (rc < 0 && it != NULL)
        close_iterator(it);
    Py_XDECREF(chunk);
    Py_XDECREF(it);
    Py_DECREF(pair);
    return rc;
}

static OrthancPluginErrorCode
rest_dispatch(int index, OrthancPluginRestOutput *output, const char *url,
              const OrthancPluginHttpRequest *req)
{
    const OpyRestRoute *r = &routes[index];
    int idx = opy_interps_n > 1 ? opy_interps_pick(r->callables) : 0;

    return opy_rest_serve(idx, r->callables[idx], r->regex, output, url, req);
}

/* Python routes calling Python routes (RestApiGetAfterPlugins) run nested on
 * one thread; each level costs C stack in Orthanc and here, so the nesting
 * is bounded: past OPY_REST_MAX_DEPTH the innermost call fails with a clear
 * error instead of overflowing the stack (Orthanc 1.10.1's HTTP threads
 * overflowed at about 21 levels of a minimal route, measured). */
#define OPY_REST_MAX_DEPTH 10
static _Thread_local int rest_depth;

OPY_STACK_THUNK(OrthancPluginErrorCode, opy_rest_serve, (int interp; PyObject *callable; const char *regex; OrthancPluginRestOutput *output; const char *url; const OrthancPluginHttpRequest *req;), (f->interp, f->callable, f->regex, f->output, f->url, f->req))

OrthancPluginErrorCode
opy_rest_serve(int interp, PyObject *callable, const char *regex, OrthancPluginRestOutput *output,
               const char *url, const OrthancPluginHttpRequest *req)
{
    OPY_STACK_SWITCH(opy_rest_serve, (interp, callable, regex, output, url, req));
    OpyModuleState *st;
    PyObject *out = NULL, *result = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int answered, own_details, streaming = 0;
    int token, outer_waiting;
    OpyAnswerLater later, *outer_later, *pending;

    if (rest_depth >= OPY_REST_MAX_DEPTH) {
        char details[256];

        snprintf(details, sizeof details, "Python REST callbacks nested more than %d deep "
                 "(a route calling itself through RestApiGetAfterPlugins?): %.100s",
                 OPY_REST_MAX_DEPTH, url);
        opy_log(OPY_LOG_ERROR, "OPY0025 %s", details);
        OrthancPluginSetHttpErrorDetails(opy_context, output, details, 0);  /* no GIL here */
        return OrthancPluginErrorCode_BadSequenceOfCalls;
    }
    token = opy_gil_enter_in(interp);
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;       /* Python is stopping */
    rest_depth++;
    later.output = output;
    later.regex = regex;
    later.url = url;
    later.body = NULL;
    later.set = 0;
    outer_later = opy_answer_later_frame;
    outer_waiting = opy_answer_later_waiting;
    opy_answer_later_frame = &later;
    opy_answer_later_waiting = 0;
    st = opy_state;
    out = opy_handle_new(st->types[OPY_TYPE_RestOutput], output);
    if (out == NULL) {
        code = opy_error_report("REST callback (creating its RestOutput)", NULL);
        goto done;
    }
    ((OpyHandleObject *) out)->later = &later;
    result = call_route(st, callable, out, url, req);
    if (result != NULL && result != Py_None && opy_answer_later_flush((OpyHandleObject *) out) < 0)
        Py_CLEAR(result);           /* the answer held back failed: a stream would too */
    if (result != NULL && result != Py_None) {
        /* a returned stream is sent while `output` is still valid (the
         * generator may use it); ends as an exception when it fails */
        int started;
        unsigned long long sent;
        int s = stream_answer(st, result, (OpyHandleObject *) out, url, regex, &started, &sent);

        if (s < 0) {
            Py_CLEAR(result);
            streaming = started;
        }
    }
    answered = (((OpyHandleObject *) out)->flags & OPY_OUTPUT_ANSWERED) != 0;
    own_details = (((OpyHandleObject *) out)->flags & OPY_OUTPUT_DETAILS) != 0;
    opy_handle_invalidate(out);
    if (result == NULL) {
        char where[256];
        char *message = NULL;

        snprintf(where, sizeof where, "REST callback %s (%s %s)", regex,
                 PyUnicode_AsUTF8(st->str_method[(req->method >= 1 && req->method <= 4) ? req->method : 1]),
                 url);
        code = opy_error_report(where, &message);
        if (streaming) {
            /* chunks went out: an error code makes Orthanc drop the
             * connection, so that the client sees a truncated answer
             * rather than a complete-looking one */
        }
        else if (answered) {
            code = OrthancPluginErrorCode_Success;   /* the answer is already out */
        }
        else if (message != NULL && !own_details) {
            opy_rest_set_error_details(output, message);
        }
        free(message);
    }
    else if (!answered) {
        char details[256];

        snprintf(details, sizeof details,
                 "The Python REST callback for %s returned without sending an answer", url);
        opy_log(OPY_LOG_ERROR, "OPY0011 REST callback %s (script %s) returned without sending an "
                "answer to %s", regex, opy_script_of_callable(callable), url);
        opy_rest_set_error_details(output, details);
        code = OrthancPluginErrorCode_Plugin;
    }
done:
    Py_XDECREF(result);
    Py_XDECREF(out);
    rest_depth--;
    pending = opy_answer_later_take(&later);
    opy_answer_later_frame = outer_later;
    opy_answer_later_waiting = outer_waiting;
    opy_gil_leave(token);
    if (pending != NULL) {
        /* the answer held back, sent with the GIL released */
        OrthancPluginErrorCode sent = (OrthancPluginErrorCode) opy_answer_later_deliver(pending);

        if (sent != OrthancPluginErrorCode_Success && code == OrthancPluginErrorCode_Success)
            code = sent;
    }
    return code;
}

/* The table of entry points: entry_<n> dispatches to routes[n]. */
#define OPY_ENTRY(a, b, c)                                                        \
    static OrthancPluginErrorCode entry_##a##b##c(OrthancPluginRestOutput *o,      \
                                                  const char *u,                   \
                                                  const OrthancPluginHttpRequest *r) \
    { return rest_dispatch(a * 100 + b * 10 + c, o, u, r); }
#define OPY_ENTRY10(a, b) OPY_ENTRY(a, b, 0) OPY_ENTRY(a, b, 1) OPY_ENTRY(a, b, 2) \
    OPY_ENTRY(a, b, 3) OPY_ENTRY(a, b, 4) OPY_ENTRY(a, b, 5) OPY_ENTRY(a, b, 6)      \
    OPY_ENTRY(a, b, 7) OPY_ENTRY(a, b, 8) OPY_ENTRY(a, b, 9)
#define OPY_ENTRY100(a) OPY_ENTRY10(a, 0) OPY_ENTRY10(a, 1) OPY_ENTRY10(a, 2)      \
    OPY_ENTRY10(a, 3) OPY_ENTRY10(a, 4) OPY_ENTRY10(a, 5) OPY_ENTRY10(a, 6)          \
    OPY_ENTRY10(a, 7) OPY_ENTRY10(a, 8) OPY_ENTRY10(a, 9)
OPY_ENTRY100(0) OPY_ENTRY100(1) OPY_ENTRY100(2) OPY_ENTRY100(3) OPY_ENTRY100(4)
OPY_ENTRY100(5) OPY_ENTRY100(6) OPY_ENTRY100(7) OPY_ENTRY100(8) OPY_ENTRY100(9)

#define OPY_PTR(a, b, c) entry_##a##b##c,
#define OPY_PTR10(a, b) OPY_PTR(a, b, 0) OPY_PTR(a, b, 1) OPY_PTR(a, b, 2) OPY_PTR(a, b, 3) \
    OPY_PTR(a, b, 4) OPY_PTR(a, b, 5) OPY_PTR(a, b, 6) OPY_PTR(a, b, 7) OPY_PTR(a, b, 8)     \
    OPY_PTR(a, b, 9)
#define OPY_PTR100(a) OPY_PTR10(a, 0) OPY_PTR10(a, 1) OPY_PTR10(a, 2) OPY_PTR10(a, 3)   \
    OPY_PTR10(a, 4) OPY_PTR10(a, 5) OPY_PTR10(a, 6) OPY_PTR10(a, 7) OPY_PTR10(a, 8)     \
    OPY_PTR10(a, 9)

static const OrthancPluginRestCallback entries[OPY_REST_MAX] = {
    OPY_PTR100(0) OPY_PTR100(1) OPY_PTR100(2) OPY_PTR100(3) OPY_PTR100(4)
    OPY_PTR100(5) OPY_PTR100(6) OPY_PTR100(7) OPY_PTR100(8) OPY_PTR100(9)
};

/* RegisterRestCallback in interpreter idx > 0: the route the main one
 * registered at the same place gets this interpreter's callable. */
static PyObject *
register_in_other(int idx, const char *regex, PyObject *callable)
{
    int k = n_seen[idx]++;

    if (k >= n_routes || strcmp(routes[k].regex, regex) != 0) {
        PyErr_Format(PyExc_RuntimeError, "orthanc.RegisterRestCallback(\"%s\") in interpreter %d is its REST "
                     "route #%d, but the main interpreter's route #%d is %s%s%s: every interpreter "
                     "(\"Python.Interpreters\") must register the same routes, in the same order",
                     regex, idx + 1, k + 1, k + 1, k < n_routes ? "\"" : "", k < n_routes ? routes[k].regex : "none",
                     k < n_routes ? "\"" : "");
        return NULL;
    }
    if (!routes[k].main_only)
        Py_XSETREF(routes[k].callables[idx], Py_NewRef(callable));
    Py_RETURN_NONE;
}

static PyObject *
RegisterRestCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"pathRegularExpression", "callback"};
    PyObject *a[2];
    const char *regex;
    char *copy;
    PyObject *adapted;
    int idx;

    (void) module;
    if (opy_args_parse("RegisterRestCallback", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_registry_check("RegisterRestCallback", a[1]) < 0 ||
        (regex = opy_str_get(a[0], "pathRegularExpression")) == NULL ||
        opy_check_route_regex(a[0], regex) < 0)     /* Orthanc would die of a bad one */
        return NULL;
    if ((idx = opy_interps_note("RegisterRestCallback", regex, 0)) < 0)
        return NULL;
    if ((idx = opy_interps_current()) > 0)
        return register_in_other(idx, regex, a[1]);
    if (n_routes >= OPY_REST_MAX) {
        PyErr_Format(PyExc_RuntimeError, "too many REST routes (at most %d)", OPY_REST_MAX);
        return NULL;
    }
    if (opy_routes_claim(regex, "RegisterRestCallback") < 0)   /* Python.Scripts: one script a route */
        return NULL;
    if ((adapted = opy_async_adapt(a[1])) == NULL)    /* async def: its synchronous wrapper */
        return NULL;
    copy = strdup(regex);
    if (copy == NULL)
        return PyErr_NoMemory();
    memset(routes[n_routes].callables, 0, sizeof routes[n_routes].callables);
    routes[n_routes].callables[0] = Py_NewRef(adapted);
    routes[n_routes].main_only = adapted != a[1];
    routes[n_routes].regex = copy;
    routes[n_routes].script = opy_script_current;
    /* Still inside OrthancPluginInitialize(): no need to release the GIL. */
    OrthancPluginRegisterRestCallbackNoLock(opy_context, copy, entries[n_routes]);
    n_routes++;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterRestCallback", (PyCFunction) (void (*)(void)) RegisterRestCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterRestCallback($module, /, pathRegularExpression, callback)\n--\n\n"
     "Serve the REST routes matching pathRegularExpression with callback(output, uri,\n"
     "**request); request has method, groups, get (GET), headers and body (POST/PUT)."},
    {NULL, NULL, 0, NULL}
};

/* Defines orthanc.StreamedAnswer and keeps _stream_of. 0 or -1. */
static int
stream_init(PyObject *module)
{
    PyObject *globals = PyDict_New(), *code = NULL, *res = NULL;
    int rc = -1;

    if (globals == NULL ||
        PyDict_SetItemString(globals, "_orthanc", module) < 0 ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto done;
    code = Py_CompileString(stream_source, "<orthanc-stream>", Py_file_input);
    if (code == NULL || (res = PyEval_EvalCode(code, globals, globals)) == NULL)
        goto done;
    {
        OpyModuleState *st = opy_module_state(module);

        Py_XSETREF(st->stream_of, Py_XNewRef(PyDict_GetItemString(globals, "_stream_of")));
        rc = st->stream_of != NULL ? 0 : -1;
    }
done:
    Py_XDECREF(res);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    return rc;
}

int
opy_cb_rest_init(PyObject *module)
{
    /* A new interpreter (first start, or Orthanc restarted by /tools/reset,
     * which drops every route it had): the table starts empty again. */
    if (opy_interps_is_main()) {
        n_routes = 0;
        memset(n_seen, 0, sizeof n_seen);
    }
    if (stream_init(module) < 0)
        return -1;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_rest_finalize(void)
{
    int i;

    /* Orthanc keeps the C entry points registered; a late call finds the
     * interpreter closed (opy_gil_enter fails) before touching routes. */
    for (i = 0; i < n_routes; i++) {
        Py_CLEAR(routes[i].callables[0]);
        free(routes[i].regex);
        routes[i].regex = NULL;
    }
    opy_routes_clear();
}

void
opy_cb_rest_drop_interp(int idx)
{
    int i;

    for (i = 0; i < n_routes; i++)
        Py_CLEAR(routes[i].callables[idx]);
    n_seen[idx] = 0;
}
