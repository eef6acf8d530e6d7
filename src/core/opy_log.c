/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_log.c - log messages, and the orthanc._LogStream type of sys.stdout
 * and sys.stderr.
 */
#include "opy_log.h"
#include "opy_error.h"
#include "opy_gil.h"
#include "opy_module.h"
#include "opy_sdk.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

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
/* orthanc._LogStream: the line-buffered text stream of sys.stdout and     */
/* sys.stderr. By default it writes whole lines to a file descriptor (1 or  */
/* 2) with write(2); with "Python.LogOutput" each line becomes an Orthanc   */
/* log line "[script.py] text" (stdout: warning, stderr: error).            */

typedef struct {
    PyObject_HEAD
    int fd;             /* 1 or 2: bare output; -1: Orthanc log lines */
    int level;          /* OpyLogLevel of the log lines */
    char *buf;          /* pending partial line */
    size_t len, cap;
} OpyLogStreamObject;

/* One lock for both descriptors: the lines of concurrent threads stay whole
 * also when stdout and stderr are the same file (2>&1). Taken without the
 * GIL held. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Writes a then b to fd, entirely: partial writes are continued, EINTR is
 * retried, EAGAIN (a non-blocking descriptor) waits with poll(). SIGPIPE is
 * blocked meanwhile (a closed pipe must not kill Orthanc: the text is
 * dropped). Other errors drop the rest of the text: there is nowhere left
 * to report them. Called without the GIL. */
static void
write_fd(int fd, const char *a, size_t alen, const char *b, size_t blen)
{
    struct iovec iov[2];
    struct iovec *v = iov;
    int n = 0, broken = 0, pipe_pending;
    sigset_t pipe_set, old, pending;

    if (alen > 0) {
        iov[n].iov_base = (void *) a;
        iov[n++].iov_len = alen;
    }
    if (blen > 0) {
        iov[n].iov_base = (void *) b;
        iov[n++].iov_len = blen;
    }
    if (n == 0)
        return;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    pipe_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    pthread_mutex_lock(&out_lock);
    while (n > 0) {
        ssize_t w = writev(fd, v, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };

                if (poll(&p, 1, 1000) >= 0 || errno == EINTR)
                    continue;
            }
            broken = errno == EPIPE;
            break;
        }
        if (w == 0)
            break;
        while (n > 0 && (size_t) w >= v->iov_len) {
            w -= (ssize_t) v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *) v->iov_base + w;
            v->iov_len -= (size_t) w;
        }
    }
    pthread_mutex_unlock(&out_lock);
    if (broken && !pipe_pending) {
        struct timespec zero = { 0, 0 };

        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Logs each line of text (lines separated by '\n'; a last line without one
 * is logged too), prefixed with the script's name. Called without the GIL
 * (opy_log_str needs none). */
static void
log_lines(int level, const char *name, const char *text, size_t len)
{
    size_t prefix = strlen(name) + 3;       /* "[" name "] " */

    while (len > 0) {
        const char *nl = memchr(text, '\n', len);
        size_t part = nl ? (size_t) (nl - text) : len;
        char *line = malloc(prefix + part + 1);

        if (line != NULL) {
            snprintf(line, prefix + 1, "[%s] ", name);
            memcpy(line + prefix, text, part);
            line[prefix + part] = '\0';
            opy_log_str((OpyLogLevel) level, line);
            free(line);
        }
        if (nl == NULL)
            break;
        text = nl + 1;
        len -= part + 1;
    }
}

/* Sends the detached pending text `a` then `b` (which ends a line, or is
 * empty) to the destination. With the GIL held; releases it meanwhile
 * (always for a descriptor: a full pipe must not stop Python; for the log
 * as for an SDK call, see Python.AllowThreads). a and b stay valid: a is
 * owned by the caller, b by a bytes object the caller holds. */
static int
stream_send(OpyLogStreamObject *self, const char *a, size_t alen, const char *b, size_t blen)
{
    if (self->fd >= 0) {
        int fd = self->fd;

        Py_BEGIN_ALLOW_THREADS
        write_fd(fd, a, alen, b, blen);
        Py_END_ALLOW_THREADS
        return 0;
    }
    else {
        int level = self->level;
        const char *name = opy_script_of_caller();     /* the script that prints */
        char *text = malloc(alen + blen + 1);

        if (text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        if (alen > 0)
            memcpy(text, a, alen);
        if (blen > 0)
            memcpy(text + alen, b, blen);
        /* b ends with its '\n': the line it ends is complete */
        if (blen > 0 && text[alen + blen - 1] == '\n')
            blen--;
        OPY_BEGIN_ALLOW_THREADS
        log_lines(level, name ? name : "python", text, alen + blen);
        OPY_END_ALLOW_THREADS
        free(text);
        return 0;
    }
}

static int
LogStream_append(OpyLogStreamObject *self, const char *data, size_t n)
{
    if (n == 0)
        return 0;       /* memcpy() must not see the NULL buffer of an empty stream */
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

/* Takes the pending text out of the stream (the caller frees it): another
 * thread may write to the stream while the GIL is released. */
static char *
LogStream_detach(OpyLogStreamObject *self, size_t *len)
{
    char *buf = self->buf;

    *len = self->len;
    self->buf = NULL;
    self->len = self->cap = 0;
    return buf;
}

/* write(text) -> number of characters written. Every complete line goes out
 * at once; the rest waits for the next newline, flush() or the stop. */
static PyObject *
LogStream_write(OpyLogStreamObject *self, PyObject *arg)
{
    PyObject *encoded = NULL;
    const char *data, *last;
    Py_ssize_t size;
    PyObject *result = NULL;

    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    /* A NUL would end the C string of a log line and is no text: it is
     * written "\x00", as backslashreplace writes what is not UTF-8 (lone
     * surrogates); the output stays valid UTF-8 either way. */
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
    last = size > 0 ? memrchr(data, '\n', (size_t) size) : NULL;
    if (last == NULL) {
        if (size > 0 && LogStream_append(self, data, (size_t) size) < 0)
            goto done;
    }
    else {
        size_t head = (size_t) (last - data) + 1, plen;
        char *pending = LogStream_detach(self, &plen);
        /* the partial line that follows is kept before the GIL is released */
        int r = LogStream_append(self, last + 1, (size_t) size - head);

        r |= stream_send(self, pending, plen, data, head);
        free(pending);
        if (r < 0)
            goto done;
    }
    result = PyLong_FromSsize_t(PyUnicode_GetLength(arg));
done:
    Py_XDECREF(encoded);
    return result;
}

/* flush(): the pending partial line goes out as it is (no newline is added
 * on a descriptor; in the log it is a line of its own). */
static PyObject *
LogStream_flush(OpyLogStreamObject *self, PyObject *Py_UNUSED(ignored))
{
    size_t plen;
    char *pending;
    int r = 0;

    if (self->len == 0)
        Py_RETURN_NONE;
    pending = LogStream_detach(self, &plen);
    r = stream_send(self, pending, plen, NULL, 0);
    free(pending);
    if (r < 0)
        return NULL;
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
LogStream_isatty(OpyLogStreamObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->fd >= 0 && isatty(self->fd));
}

/* fileno(): the descriptor (1 or 2); the log has none. */
static PyObject *
LogStream_fileno(OpyLogStreamObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *io, *exc;

    if (self->fd >= 0)
        return PyLong_FromLong(self->fd);
    io = PyImport_ImportModule("io");
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

    if (self->len > 0) {
        size_t plen;
        char *pending = LogStream_detach(self, &plen);

        if (stream_send(self, pending, plen, NULL, 0) < 0)
            PyErr_Clear();
        free(pending);
    }
    tp->tp_free((PyObject *) self);
    Py_DECREF(tp);
}

static PyMethodDef LogStream_methods[] = {
    {"write", (PyCFunction) LogStream_write, METH_O,
     "Write text; every complete line goes out at once."},
    {"flush", (PyCFunction) LogStream_flush, METH_NOARGS, "Write a pending partial line."},
    {"isatty", (PyCFunction) LogStream_isatty, METH_NOARGS, NULL},
    {"readable", LogStream_false, METH_NOARGS, NULL},
    {"seekable", LogStream_false, METH_NOARGS, NULL},
    {"writable", LogStream_true, METH_NOARGS, NULL},
    {"fileno", (PyCFunction) LogStream_fileno, METH_NOARGS, NULL},
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
    {Py_tp_doc, "Line-buffered text stream of sys.stdout / sys.stderr: Orthanc's standard "
                "output / error, or its log (Python.LogOutput)."},
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
new_stream(OpyModuleState *st, int fd, int level)
{
    OpyLogStreamObject *s = PyObject_New(OpyLogStreamObject, st->LogStreamType);

    if (s == NULL)
        return NULL;
    s->fd = fd;
    s->level = level;
    s->buf = NULL;
    s->len = s->cap = 0;
    return (PyObject *) s;
}

void
opy_log_install_streams(int log_output)
{
    PyObject *module = NULL, *out = NULL, *err = NULL, *globals = NULL, *code = NULL, *res = NULL;
    OpyModuleState *st;

    module = PyImport_ImportModule("orthanc");
    if (module == NULL)
        goto error;
    st = opy_module_state(module);
    out = new_stream(st, log_output ? -1 : STDOUT_FILENO, OPY_LOG_WARNING);
    err = new_stream(st, log_output ? -1 : STDERR_FILENO, OPY_LOG_ERROR);
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
    opy_log(OPY_LOG_ERROR, "OPY0016 could not install the plugin's sys.stdout / sys.stderr "
            "or its logging handler; Python's own streams stay (block-buffered on a file or a pipe)");
done:
    Py_XDECREF(res);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    Py_XDECREF(err);
    Py_XDECREF(out);
    Py_XDECREF(module);
}

void
opy_log_flush_streams(void)
{
    static const char *const names[] = { "stdout", "stderr" };
    size_t i;

    for (i = 0; i < 2; i++) {
        PyObject *stream = PySys_GetObject(names[i]);      /* borrowed */
        PyObject *r;

        if (stream == NULL || stream == Py_None)
            continue;
        Py_INCREF(stream);
        r = PyObject_CallMethod(stream, "flush", NULL);
        if (r == NULL)
            PyErr_Clear();
        Py_XDECREF(r);
        Py_DECREF(stream);
    }
}
