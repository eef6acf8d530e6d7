/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_core_api.c - REST API of the core, configuration, log.
 *
 * Every SDK call runs with the GIL released; str/bytes arguments are pinned
 * for the duration of the call. Errors raise
 * orthanc.OrthancException(code, description) with the core's code.
 */
#include "opy_core_api.h"
#include "opy_args.h"
#include "opy_error.h"
#include "opy_gil.h"
#include "opy_log.h"
#include "opy_sdk.h"

#include <stdint.h>
#include <string.h>

#define FASTCALL_KW(f) ((PyCFunction) (void (*)(void)) (f))
#define CHECK_SDK() do { if (opy_sdk_is_closed()) return opy_error_sdk_closed(); } while (0)

typedef OrthancPluginErrorCode (*GetFn)(OrthancPluginContext *, OrthancPluginMemoryBuffer *, const char *);
typedef OrthancPluginErrorCode (*PostFn)(OrthancPluginContext *, OrthancPluginMemoryBuffer *,
                                         const char *, const void *, uint32_t);
typedef OrthancPluginErrorCode (*DeleteFn)(OrthancPluginContext *, const char *);

/* Returns a new reference to bytes holding (and freeing) the buffer. */
static PyObject *
take_buffer(OrthancPluginMemoryBuffer *buf)
{
    PyObject *b = PyBytes_FromStringAndSize(buf->size ? buf->data : "", (Py_ssize_t) buf->size);

    if (buf->data != NULL)
        OrthancPluginFreeMemoryBuffer(opy_context, buf);
    return b;
}

static PyObject *
rest_get(const char *fname, GetFn fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"uri"};
    PyObject *a[1];
    const char *uri;
    OrthancPluginMemoryBuffer buf = { NULL, 0 };
    OrthancPluginErrorCode code;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, 1, a) < 0 ||
        (uri = opy_str_get(a[0], "uri")) == NULL)
        return NULL;
    CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = fn(opy_context, &buf, uri);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return take_buffer(&buf);
}

static PyObject *
rest_post_put(const char *fname, PostFn fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"uri", "body"};
    PyObject *a[2];
    const char *uri;
    OpyBytes body;
    OrthancPluginMemoryBuffer buf = { NULL, 0 };
    OrthancPluginErrorCode code;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 2, 2, a) < 0 ||
        (uri = opy_str_get(a[0], "uri")) == NULL)
        return NULL;
    CHECK_SDK();
    if (opy_bytes_get(a[1], "body", &body) < 0)
        return NULL;
    if ((size_t) body.size > UINT32_MAX) {
        opy_bytes_release(&body);
        PyErr_SetString(PyExc_OverflowError, "body is larger than 4 GiB");
        return NULL;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = fn(opy_context, &buf, uri, body.data, (uint32_t) body.size);
    OPY_END_ALLOW_THREADS
    opy_bytes_release(&body);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return take_buffer(&buf);
}

static PyObject *
rest_delete(const char *fname, DeleteFn fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"uri"};
    PyObject *a[1];
    const char *uri;
    OrthancPluginErrorCode code;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, 1, a) < 0 ||
        (uri = opy_str_get(a[0], "uri")) == NULL)
        return NULL;
    CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = fn(opy_context, uri);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    Py_RETURN_NONE;
}

#define REST_WRAPPER(name, kind, fn)                                                      \
    static PyObject *name(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *kw)  \
    { (void) m; return kind(#name, fn, a, n, kw); }

REST_WRAPPER(RestApiGet, rest_get, OrthancPluginRestApiGet)
REST_WRAPPER(RestApiGetAfterPlugins, rest_get, OrthancPluginRestApiGetAfterPlugins)
REST_WRAPPER(RestApiPost, rest_post_put, OrthancPluginRestApiPost)
REST_WRAPPER(RestApiPostAfterPlugins, rest_post_put, OrthancPluginRestApiPostAfterPlugins)
REST_WRAPPER(RestApiPut, rest_post_put, OrthancPluginRestApiPut)
REST_WRAPPER(RestApiPutAfterPlugins, rest_post_put, OrthancPluginRestApiPutAfterPlugins)
REST_WRAPPER(RestApiDelete, rest_delete, OrthancPluginRestApiDelete)
REST_WRAPPER(RestApiDeleteAfterPlugins, rest_delete, OrthancPluginRestApiDeleteAfterPlugins)

/* Returns a new str from an SDK string (freed here), or raises. */
static PyObject *
take_string(char *s, const char *what)
{
    PyObject *r;

    if (s == NULL)
        return opy_error_raise_msg(OrthancPluginErrorCode_InternalError, what);
    r = PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
    OrthancPluginFreeString(opy_context, s);
    return r;
}

static PyObject *
GenerateRestApiAuthorizationToken(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    char *s;

    (void) m;
    if (opy_args_parse("GenerateRestApiAuthorizationToken", args, nargs, kwnames, NULL, 0, 0, NULL) < 0)
        return NULL;
    CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    s = OrthancPluginGenerateRestApiAuthorizationToken(opy_context);
    OPY_END_ALLOW_THREADS
    return take_string(s, "Orthanc could not generate an authorization token");
}

static PyObject *
GetConfiguration(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    char *s;

    (void) m;
    if (opy_args_parse("GetConfiguration", args, nargs, kwnames, NULL, 0, 0, NULL) < 0)
        return NULL;
    CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    s = OrthancPluginGetConfiguration(opy_context);
    OPY_END_ALLOW_THREADS
    return take_string(s, "Orthanc could not give its configuration");
}

static PyObject *
GetErrorDescription(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"error"};
    PyObject *a[1];
    long long code;
    const char *s;

    (void) m;
    if (opy_args_parse("GetErrorDescription", args, nargs, kwnames, names, 1, 1, a) < 0 ||
        opy_long_get(a[0], "error", INT32_MIN, INT32_MAX, &code) < 0)
        return NULL;
    CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    s = OrthancPluginGetErrorDescription(opy_context, (OrthancPluginErrorCode) code);
    OPY_END_ALLOW_THREADS
    if (s == NULL)
        return opy_error_raise_msg(OrthancPluginErrorCode_InternalError, "no description");
    return PyUnicode_FromString(s);
}

static PyObject *
log_message(const char *fname, OpyLogLevel level, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const char *const names[] = {"message"};
    PyObject *a[1];
    const char *msg;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, 1, a) < 0 ||
        (msg = opy_str_get(a[0], "message")) == NULL)
        return NULL;
    OPY_BEGIN_ALLOW_THREADS
    opy_log_str(level, msg);        /* falls back to stderr once Orthanc stopped */
    OPY_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *
LogInfo(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *kw)
{
    (void) m;
    return log_message("LogInfo", OPY_LOG_INFO, a, n, kw);
}

static PyObject *
LogWarning(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *kw)
{
    (void) m;
    return log_message("LogWarning", OPY_LOG_WARNING, a, n, kw);
}

static PyObject *
LogError(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *kw)
{
    (void) m;
    return log_message("LogError", OPY_LOG_ERROR, a, n, kw);
}

#define FUNC(name, sig, doc) \
    {#name, FASTCALL_KW(name), METH_FASTCALL | METH_KEYWORDS, #name sig "\n--\n\n" doc}

static PyMethodDef core_api_methods[] = {
    FUNC(RestApiGet, "($module, /, uri)",
         "GET uri on the core REST API (routes of plugins excluded); returns bytes."),
    FUNC(RestApiGetAfterPlugins, "($module, /, uri)",
         "GET uri on the REST API, routes of plugins included; returns bytes."),
    FUNC(RestApiPost, "($module, /, uri, body)",
         "POST body (str or bytes-like) to uri on the core REST API; returns bytes."),
    FUNC(RestApiPostAfterPlugins, "($module, /, uri, body)",
         "POST body to uri on the REST API, routes of plugins included; returns bytes."),
    FUNC(RestApiPut, "($module, /, uri, body)",
         "PUT body (str or bytes-like) to uri on the core REST API; returns bytes."),
    FUNC(RestApiPutAfterPlugins, "($module, /, uri, body)",
         "PUT body to uri on the REST API, routes of plugins included; returns bytes."),
    FUNC(RestApiDelete, "($module, /, uri)", "DELETE uri on the core REST API."),
    FUNC(RestApiDeleteAfterPlugins, "($module, /, uri)",
         "DELETE uri on the REST API, routes of plugins included."),
    FUNC(GenerateRestApiAuthorizationToken, "($module, /)",
         "Return a token granting full access to the REST API (header Authorization)."),
    FUNC(GetConfiguration, "($module, /)", "Return the configuration of Orthanc as a JSON string."),
    FUNC(GetErrorDescription, "($module, /, error)", "Return the description of an Orthanc error code."),
    FUNC(LogInfo, "($module, /, message)", "Log an information message."),
    FUNC(LogWarning, "($module, /, message)", "Log a warning message."),
    FUNC(LogError, "($module, /, message)", "Log an error message."),
    {NULL, NULL, 0, NULL}
};

int
opy_core_api_init(PyObject *module)
{
    return PyModule_AddFunctions(module, core_api_methods);
}
