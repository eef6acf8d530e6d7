/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_audit_log.c - orthanc.RegisterAuditLogHandler (SDK 1.12.9; not in
 * the official plugin).
 *
 * Python signature: callback(sourcePlugin: str, userId: str,
 * resourceType: int, resourceId: str, action: str, logData: bytes),
 * positional; several callbacks may be registered, called in registration
 * order. Each audit log that any plugin emits (OrthancPluginEmitAuditLog,
 * orthanc.EmitAuditLog from Python) reaches them.
 * Thread: the thread that emits the log only copies it into a queue and
 * returns: it never waits for Python nor for the GIL. One plugin thread
 * ("PY-AUDIT" in Orthanc's logs) calls Python. The queue holds at most
 * OPY_AUDIT_MAX records; past that, records are counted as dropped and a
 * warning says how many (OPY0030), so that a slow handler cannot stall
 * Orthanc. On stop the queue is delivered before Python stops, for at most
 * OPY_AUDIT_DRAIN_MS.
 * Errors: an exception is logged with its traceback (OPY0010); the next
 * callbacks and records are still delivered. The return value is ignored.
 */
#include "opy_python.h"
#include "opy_cb_audit_log.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_interps.h"
#include "opy_log.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 9)

#define OPY_AUDIT_MAX 100000
#define OPY_AUDIT_DRAIN_MS 5000

typedef struct OpyAudit {
    struct OpyAudit *next;
    int resource_type;
    size_t data_size;
    /* source, user, resource, action (each NUL-terminated), then data */
    char *source, *user, *resource, *action, *data;
    char text[];
} OpyAudit;

static PyObject *callables;         /* list, strong reference */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static OpyAudit *head, *tail;
static size_t count;
static unsigned long dropped, dropped_reported;
static int stopping, worker_running, c_registered;
static pthread_t worker;

static OrthancPluginErrorCode
on_audit_log(const char *source, const char *user, OrthancPluginResourceType resourceType,
             const char *resource, const char *action, const void *data, uint32_t dataSize)
{
    size_t ls = strlen(source ? source : ""), lu = strlen(user ? user : "");
    size_t lr = strlen(resource ? resource : ""), la = strlen(action ? action : "");
    OpyAudit *a;

    /* no Python here: this thread may be any of Orthanc's */
    pthread_mutex_lock(&lock);
    if (stopping || count >= OPY_AUDIT_MAX) {
        dropped += !stopping;
        pthread_mutex_unlock(&lock);
        return OrthancPluginErrorCode_Success;
    }
    pthread_mutex_unlock(&lock);
    a = malloc(sizeof *a + ls + lu + lr + la + 4 + dataSize);
    if (a == NULL)
        return OrthancPluginErrorCode_NotEnoughMemory;
    a->next = NULL;
    a->resource_type = (int) resourceType;
    a->data_size = dataSize;
    a->source = a->text;
    a->user = a->source + ls + 1;
    a->resource = a->user + lu + 1;
    a->action = a->resource + lr + 1;
    a->data = a->action + la + 1;
    memcpy(a->source, source ? source : "", ls + 1);
    memcpy(a->user, user ? user : "", lu + 1);
    memcpy(a->resource, resource ? resource : "", lr + 1);
    memcpy(a->action, action ? action : "", la + 1);
    if (dataSize > 0)
        memcpy(a->data, data, dataSize);
    pthread_mutex_lock(&lock);
    if (tail != NULL)
        tail->next = a;
    else
        head = a;
    tail = a;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
    return OrthancPluginErrorCode_Success;
}

static PyObject *
text(const char *s)
{
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
}

static void
deliver(const OpyAudit *a)
{
    PyObject *args[6];
    Py_ssize_t i, n;
    int ok = 1;

    args[0] = text(a->source);
    args[1] = text(a->user);
    args[2] = PyLong_FromLong(a->resource_type);
    args[3] = text(a->resource);
    args[4] = text(a->action);
    args[5] = PyBytes_FromStringAndSize(a->data, (Py_ssize_t) a->data_size);
    for (i = 0; i < 6; i++)
        ok = ok && args[i] != NULL;
    if (!ok) {
        opy_error_report("audit log handler (building its arguments)", NULL);
    }
    else {
        n = PyList_Size(callables);
        for (i = 0; i < n; i++) {
            PyObject *f = PyList_GetItem(callables, i);       /* borrowed */
            PyObject *r;

            Py_INCREF(f);               /* a callback may not be dropped under us */
            r = PyObject_Vectorcall(f, args, 6, NULL);
            Py_DECREF(f);
            if (r == NULL)
                opy_error_report("audit log handler", NULL);
            Py_XDECREF(r);
        }
    }
    for (i = 0; i < 6; i++)
        Py_XDECREF(args[i]);
}

static void *
worker_main(void *arg)
{
    (void) arg;
    if (opy_sdk_has(OPY_SDK_VERSION(1, 12, 2)))
        OrthancPluginSetCurrentThreadName(opy_context, "PY-AUDIT");
    for (;;) {
        OpyAudit *batch, *a;
        unsigned long lost = 0;
        int token;

        pthread_mutex_lock(&lock);
        while (head == NULL && !stopping)
            pthread_cond_wait(&not_empty, &lock);
        batch = head;
        head = tail = NULL;
        count = 0;
        if (dropped != dropped_reported) {
            lost = dropped - dropped_reported;
            dropped_reported = dropped;
        }
        pthread_mutex_unlock(&lock);
        if (lost > 0)
            opy_log(OPY_LOG_WARNING, "OPY0030 %lu audit log record(s) dropped: the Python audit log "
                    "handler is slower than the records arrive (at most %d wait)", lost, OPY_AUDIT_MAX);
        if (batch == NULL)              /* stopping and drained */
            break;
        token = opy_gil_enter();
        while ((a = batch) != NULL) {
            batch = a->next;
            if (token >= 0)
                deliver(a);
            free(a);
        }
        if (token >= 0)
            opy_gil_leave(token);
    }
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 13, 0)
    if (opy_sdk_has(OPY_SDK_VERSION(1, 13, 0)))
        OrthancPluginClearCurrentThreadName(opy_context);
#endif
    return NULL;
}

static PyObject *
RegisterAuditLogHandler(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *callable;
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterAuditLogHandler", NULL);
    if (opy_sdk_require(OPY_SDK_VERSION(1, 12, 9), "RegisterAuditLogHandler") < 0)
        return NULL;
    callable = opy_registry_one_callable("RegisterAuditLogHandler", args, nargs, kwnames);
    if (callable == NULL || opy_registry_check("RegisterAuditLogHandler", callable) < 0)
        return NULL;
    if (!worker_running) {
        int rc;

        pthread_mutex_lock(&lock);
        stopping = 0;
        rc = pthread_create(&worker, NULL, worker_main, NULL);
        worker_running = (rc == 0);
        pthread_mutex_unlock(&lock);
        if (rc != 0) {
            PyErr_SetString(PyExc_RuntimeError, "cannot start the thread delivering audit logs");
            return NULL;
        }
    }
    first = opy_registry_append(&callables, "RegisterAuditLogHandler", callable);
    if (first < 0)
        return NULL;
    if (first && !c_registered) {
        OrthancPluginErrorCode code = OrthancPluginRegisterAuditLogHandler(opy_context, on_audit_log);

        if (code != OrthancPluginErrorCode_Success)
            return opy_error_raise(code);
        c_registered = 1;
    }
    Py_RETURN_NONE;
}

void
opy_cb_audit_log_stop(void)
{
    struct timespec t;
    int running;

    pthread_mutex_lock(&lock);
    running = worker_running;
    stopping = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    if (running) {
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += OPY_AUDIT_DRAIN_MS / 1000;
        if (pthread_timedjoin_np(worker, NULL, &t) != 0) {
            opy_log(OPY_LOG_WARNING, "OPY0031 the Python audit log handler has not returned %d ms after "
                    "Orthanc started to stop; its thread is left running", OPY_AUDIT_DRAIN_MS);
            pthread_detach(worker);
        }
    }
    pthread_mutex_lock(&lock);
    worker_running = 0;
    c_registered = 0;               /* Orthanc forgets it (POST /tools/reset) */
    pthread_mutex_unlock(&lock);
}

static PyMethodDef methods[] = {
    {"RegisterAuditLogHandler", (PyCFunction) (void (*)(void)) RegisterAuditLogHandler,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterAuditLogHandler($module, /, callback)\n--\n\n"
     "Call callback(sourcePlugin, userId, resourceType, resourceId, action, logData: bytes)\n"
     "for each audit log emitted by a plugin (SDK 1.12.9), from a plugin thread: the emitting\n"
     "thread never waits for Python. May be called several times."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_audit_log_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_audit_log_finalize(void)
{
    Py_CLEAR(callables);
}

#else  /* header older than SDK 1.12.9 */

void
opy_cb_audit_log_stop(void)
{
}

int
opy_cb_audit_log_init(PyObject *module)
{
    (void) module;
    return 0;
}

void
opy_cb_audit_log_finalize(void)
{
}

#endif
