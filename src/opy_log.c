/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_log.c - log messages and the orthanc._LogStream type.
 */
#include "opy_log.h"
#include "opy_gil.h"
#include "opy_module.h"
#include "opy_sdk.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int log_closed;
atomic_int opy_sdk_closed_flag;

void
opy_sdk_close(void)
{
    atomic_store(&opy_sdk_closed_flag, 2);
}

void
opy_sdk_close_threads(void)
{
    int open = 0;

    atomic_compare_exchange_strong(&opy_sdk_closed_flag, &open, 1);
}

void
opy_log_open(void)
{
    atomic_store(&log_closed, 0);
    atomic_store(&opy_sdk_closed_flag, 0);
}

void
opy_log_close(void)
{
    atomic_store(&log_closed, 1);
}

int
opy_log_is_closed(void)
{
    return atomic_load(&log_closed);
}

void
opy_log_str(OpyLogLevel level, const char *message)
{
    if (opy_context == NULL || atomic_load(&log_closed)) {
        fprintf(stderr, "%s\n", message);
        return;
    }
    switch (level) {
    case OPY_LOG_INFO:
        OrthancPluginLogInfo(opy_context, message);
        break;
    case OPY_LOG_WARNING:
        OrthancPluginLogWarning(opy_context, message);
        break;
    default:
        OrthancPluginLogError(opy_context, message);
        break;
    }
}

void
opy_log(OpyLogLevel level, const char *fmt, ...)
{
    char small[512];
    char *text = small;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t) n >= sizeof small) {
        text = malloc((size_t) n + 1);
        if (text == NULL) {
            opy_log_str(level, small);      /* truncated, but not lost */
            return;
        }
        va_start(ap, fmt);
        vsnprintf(text, (size_t) n + 1, fmt, ap);
        va_end(ap);
    }
    opy_log_str(level, text);
    if (text != small)
        free(text);
}

/* ---------------------------------------------------------------------- */
/* orthanc._LogStream: a line-buffered text stream writing to the log.     */

typedef struct {
    PyObject_HEAD
    int level;          /* OpyLogLevel */
    char *buf;          /* pending partial line */
    size_t len, cap;
} OpyLogStreamObject;

static void
LogStream_emit(int level, const char *line, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy == NULL)
        return;
    memcpy(copy, line, len);
    copy[len] = '\0';
    OPY_BEGIN_ALLOW_THREADS
    opy_log_str((OpyLogLevel) level, copy);
    OPY_END_ALLOW_THREADS
    free(copy);
}

static int
LogStream_append(OpyLogStreamObject *self, const char *data, size_t n)
{
    if (self->len + n > self->cap) {
        size_t cap = self->cap ? self->cap : 256;
        char *p;

        while (cap < self->len + n)
            cap *= 2;
        p = realloc(self->buf, cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->buf = p;
        self->cap = cap;
    }
    memcpy(self->buf + self->len, data, n);
    self->len += n;
    return 0;
}

/* write(text) -> number of characters written */
static PyObject *
LogStream_write(OpyLogStreamObject *self, PyObject *arg)
{
    PyObject *encoded = NULL;
    const char *data, *nl;
    Py_ssize_t size;
    PyObject *result = NULL;

    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    /* A NUL would end the C string of the log line: it is written "\x00",
     * as backslashreplace writes what is not UTF-8 (lone surrogates). */
    if (PyUnicode_FindChar(arg, 0, 0, PyUnicode_GET_LENGTH(arg), 1) >= 0) {
        PyObject *nul = PyUnicode_FromOrdinal(0), *esc = PyUnicode_FromString("\\x00");

        if (nul != NULL && esc != NULL)
            encoded = PyUnicode_Replace(arg, nul, esc, -1);
        Py_XDECREF(nul);
        Py_XDECREF(esc);
        if (encoded == NULL)
            goto done;
        Py_SETREF(encoded, PyUnicode_AsEncodedString(encoded, "utf-8", "backslashreplace"));
    }
    else {
        encoded = PyUnicode_AsEncodedString(arg, "utf-8", "backslashreplace");
    }
    if (encoded == NULL)
        goto done;
    data = PyBytes_AsString(encoded);
    size = PyBytes_Size(encoded);
    while (size > 0 && (nl = memchr(data, '\n', (size_t) size)) != NULL) {
        size_t part = (size_t) (nl - data);

        if (self->len > 0) {
            if (LogStream_append(self, data, part) < 0)
                goto done;
            LogStream_emit(self->level, self->buf, self->len);
            self->len = 0;
        }
        else {
            LogStream_emit(self->level, data, part);
        }
        data = nl + 1;
        size -= (Py_ssize_t) part + 1;
    }
    if (size > 0 && LogStream_append(self, data, (size_t) size) < 0)
        goto done;
    result = PyLong_FromSsize_t(PyUnicode_GetLength(arg));
done:
    Py_XDECREF(encoded);
    return result;
}

static PyObject *
LogStream_flush(OpyLogStreamObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->len > 0) {
        LogStream_emit(self->level, self->buf, self->len);
        self->len = 0;
    }
    Py_RETURN_NONE;
}

static PyObject *
LogStream_false(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    (void) self;
    Py_RETURN_FALSE;
}

static PyObject *
LogStream_true(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    (void) self;
    Py_RETURN_TRUE;
}

static PyObject *
LogStream_fileno(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *io = PyImport_ImportModule("io");
    PyObject *exc;

    (void) self;
    if (io == NULL)
        return NULL;
    exc = PyObject_GetAttrString(io, "UnsupportedOperation");
    Py_DECREF(io);
    if (exc == NULL)
        return NULL;
    PyErr_SetString(exc, "the Orthanc log stream has no file descriptor");
    Py_DECREF(exc);
    return NULL;
}

static PyObject *
LogStream_get_encoding(PyObject *self, void *closure)
{
    (void) self; (void) closure;
    return PyUnicode_FromString("utf-8");
}

static PyObject *
LogStream_get_closed(PyObject *self, void *closure)
{
    (void) self; (void) closure;
    Py_RETURN_FALSE;
}

static void
LogStream_dealloc(OpyLogStreamObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);

    if (self->len > 0)
        LogStream_emit(self->level, self->buf, self->len);
    free(self->buf);
    tp->tp_free((PyObject *) self);
    Py_DECREF(tp);
}

static PyMethodDef LogStream_methods[] = {
    {"write", (PyCFunction) LogStream_write, METH_O, "Write text to the Orthanc log."},
    {"flush", (PyCFunction) LogStream_flush, METH_NOARGS, "Log a pending partial line."},
    {"isatty", LogStream_false, METH_NOARGS, NULL},
    {"readable", LogStream_false, METH_NOARGS, NULL},
    {"seekable", LogStream_false, METH_NOARGS, NULL},
    {"writable", LogStream_true, METH_NOARGS, NULL},
    {"fileno", LogStream_fileno, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef LogStream_getset[] = {
    {"encoding", LogStream_get_encoding, NULL, NULL, NULL},
    {"closed", LogStream_get_closed, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot LogStream_slots[] = {
    {Py_tp_dealloc, LogStream_dealloc},
    {Py_tp_methods, LogStream_methods},
    {Py_tp_getset, LogStream_getset},
    {Py_tp_doc, "Text stream that writes each line to the Orthanc log."},
    {0, NULL}
};

static PyType_Spec LogStream_spec = {
    .name = "orthanc._LogStream",
    .basicsize = sizeof(OpyLogStreamObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = LogStream_slots,
};

/* Python part: the logging handler. Kept as Python because it subclasses
 * logging.Handler; it calls back into the C logging functions. */
static const char log_handler_source[] =
    "import logging as _logging\n"
    "class LogHandler(_logging.Handler):\n"
    "    \"\"\"logging handler writing records to the Orthanc log.\"\"\"\n"
    "    def emit(self, record):\n"
    "        try:\n"
    "            msg = self.format(record)\n"
    "            if '\\0' in msg:\n"
    "                msg = msg.replace('\\0', '\\\\x00')\n"
    "            msg = msg.encode('utf-8', 'backslashreplace').decode('utf-8')\n"
    "            if record.levelno >= _logging.ERROR:\n"
    "                _orthanc.LogError(msg)\n"
    "            elif record.levelno >= _logging.WARNING:\n"
    "                _orthanc.LogWarning(msg)\n"
    "            else:\n"
    "                _orthanc.LogInfo(msg)\n"
    "        except Exception:\n"
    "            self.handleError(record)\n"
    "LogHandler.__module__ = 'orthanc'\n"
    "_orthanc.LogHandler = LogHandler\n"
    "_logging.lastResort = LogHandler(_logging.WARNING)\n";

int
opy_log_module_init(PyObject *module)
{
    OpyModuleState *st = opy_module_state(module);

    st->LogStreamType = (PyTypeObject *) PyType_FromModuleAndSpec(module, &LogStream_spec, NULL);
    if (st->LogStreamType == NULL)
        return -1;
    return 0;
}

static PyObject *
new_stream(OpyModuleState *st, int level)
{
    OpyLogStreamObject *s = PyObject_New(OpyLogStreamObject, st->LogStreamType);

    if (s == NULL)
        return NULL;
    s->level = level;
    s->buf = NULL;
    s->len = s->cap = 0;
    return (PyObject *) s;
}

void
opy_log_install_streams(void)
{
    PyObject *module = NULL, *out = NULL, *err = NULL, *globals = NULL, *code = NULL, *res = NULL;
    OpyModuleState *st;

    module = PyImport_ImportModule("orthanc");
    if (module == NULL)
        goto error;
    st = opy_module_state(module);
    out = new_stream(st, OPY_LOG_INFO);
    err = new_stream(st, OPY_LOG_ERROR);
    if (out == NULL || err == NULL)
        goto error;
    if (PySys_SetObject("stdout", out) < 0 || PySys_SetObject("stderr", err) < 0)
        goto error;
    globals = PyDict_New();
    if (globals == NULL)
        goto error;
    if (PyDict_SetItemString(globals, "_orthanc", module) < 0 ||   /* no steal */
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto error;
    code = Py_CompileString(log_handler_source, "<orthanc-log>", Py_file_input);
    if (code == NULL)
        goto error;
    res = PyEval_EvalCode(code, globals, globals);
    if (res == NULL)
        goto error;
    goto done;
error:
    PyErr_Print();
    opy_log(OPY_LOG_ERROR, "OPY0016 could not route Python's output to the Orthanc log; "
            "print() goes to the process's stdout");
done:
    Py_XDECREF(res);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    Py_XDECREF(err);
    Py_XDECREF(out);
    Py_XDECREF(module);
}
