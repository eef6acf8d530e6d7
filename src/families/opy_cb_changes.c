/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_changes.c - change callbacks.
 *
 * Python signature: callback(changeType: int, resourceType: int,
 * resourceId: str), positional; several callbacks may be registered and are
 * called in registration order.
 * Thread: Orthanc's change thread only enqueues the change (it never waits
 * for Python); one plugin worker thread calls Python. So a callback may
 * call the core (REST API, ...) without any deadlock. The queue is bounded
 * (OPY_CHANGES_MAX): when full, Orthanc's thread waits, no change is lost.
 * On stop the queue is drained (ORTHANC_STOPPED included) before Python
 * stops, for as long as the worker makes progress; a callback that does
 * not return for 5 s is given up (OPY0027) and Python is left unfinalized
 * so that Orthanc can exit.
 * ORTHANC_STOPPED is synchronous: Orthanc signals it before it stops its
 * servers and destroys its database; the plugin waits (at most 5 s) until
 * Python callbacks got it, then closes the SDK for the threads that are not
 * inside a callback of Orthanc, so that script threads and timers still
 * calling orthanc.* get a clear orthanc.OrthancException instead of reaching
 * a core that is being destroyed (which aborted the process). The C callback is registered for every script, with or without
 * Python change callbacks, for that reason.
 * Errors: an exception is logged with its traceback (OPY0010) and the next
 * callbacks and changes are still delivered. The return value is ignored.
 */
#include "opy_cb_changes.h"
#include "opy_error.h"
#include "opy_gil.h"
#include "opy_interps.h"
#include "opy_log.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPY_CHANGES_MAX 65536
#define OPY_STOPPED_WAIT_S 5

typedef struct OpyChange {
    struct OpyChange *next;
    int type;
    int level;
    char id[];
} OpyChange;

static PyObject *callables;         /* list, strong reference */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static OpyChange *head, *tail;
static size_t count;
static int stopping;
static int worker_running;
static pthread_t worker;
static int c_registered;            /* on_change registered with Orthanc */
static int stopped_delivered;       /* the worker handed ORTHANC_STOPPED to Python */
static atomic_ulong progress;       /* changes delivered: stop's watchdog */
static pthread_cond_t delivered = PTHREAD_COND_INITIALIZER;

/* Called by Orthanc's thread that signals ORTHANC_STOPPED, after queuing it:
 * waits until Python callbacks got it (bounded), then closes the SDK. */
static void
stopped_wait_and_close(int queued)
{
    struct timespec deadline;
    int rc = 0;

    if (queued) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += OPY_STOPPED_WAIT_S;
        pthread_mutex_lock(&lock);
        while (!stopped_delivered && worker_running && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&delivered, &lock, &deadline);
        pthread_mutex_unlock(&lock);
        if (rc == ETIMEDOUT)
            opy_log(OPY_LOG_WARNING, "OPY0022 a Python change callback is still running %d s after "
                    "ORTHANC_STOPPED; the orthanc module is closed anyway", OPY_STOPPED_WAIT_S);
    }
    opy_sdk_close_threads();
}

static OrthancPluginErrorCode
on_change(OrthancPluginChangeType type, OrthancPluginResourceType level, const char *id)
{
    size_t len = id ? strlen(id) : 0;
    OpyChange *c;
    int has_worker;

    pthread_mutex_lock(&lock);
    has_worker = worker_running;
    pthread_mutex_unlock(&lock);
    if (!has_worker && callables == NULL) {
        /* no Python change callback: only the stop matters */
        if (type == OrthancPluginChangeType_OrthancStopped)
            stopped_wait_and_close(0);
        return OrthancPluginErrorCode_Success;
    }
    c = malloc(sizeof *c + len + 1);
    if (c == NULL) {
        if (type == OrthancPluginChangeType_OrthancStopped)
            stopped_wait_and_close(0);
        opy_log(OPY_LOG_ERROR, "OPY0017 out of memory: change %d of %s lost", (int) type, id ? id : "");
        return OrthancPluginErrorCode_NotEnoughMemory;
    }
    c->next = NULL;
    c->type = (int) type;
    c->level = (int) level;
    memcpy(c->id, id ? id : "", len + 1);

    pthread_mutex_lock(&lock);
    while (count >= OPY_CHANGES_MAX && worker_running)
        pthread_cond_wait(&not_full, &lock);
    if (!worker_running) {
        pthread_mutex_unlock(&lock);
        opy_log(OPY_LOG_WARNING, "OPY0018 change %d of %s arrived after the Python plugin stopped",
                c->type, c->id);
        free(c);
        if (type == OrthancPluginChangeType_OrthancStopped)
            stopped_wait_and_close(0);
        return OrthancPluginErrorCode_Success;
    }
    if (tail)
        tail->next = c;
    else
        head = c;
    tail = c;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
    if (type == OrthancPluginChangeType_OrthancStopped)
        stopped_wait_and_close(1);
    return OrthancPluginErrorCode_Success;
}

static void
deliver(const OpyChange *c)
{
    PyObject *args = NULL;
    Py_ssize_t i, n;

    args = Py_BuildValue("(iis)", c->type, c->level, c->id);
    if (args == NULL) {
        opy_error_report("OnChange callback (building its arguments)", NULL);
        return;
    }
    n = PyList_Size(callables);
    for (i = 0; i < n; i++) {
        PyObject *f = PyList_GetItem(callables, i);     /* borrowed */
        PyObject *r = PyObject_Call(f, args, NULL);

        if (r == NULL)
            opy_error_report("OnChange callback", NULL);
        Py_XDECREF(r);
    }
    Py_DECREF(args);
}

static void *
worker_main(void *arg)
{
    (void) arg;
    for (;;) {
        OpyChange *batch, *c;
        int token;

        /* everything queued at once: one lock and one GIL hold per batch
         * rather than per change (uploads queue several changes each) */
        pthread_mutex_lock(&lock);
        while (head == NULL && !stopping)
            pthread_cond_wait(&not_empty, &lock);
        batch = head;
        if (batch == NULL) {        /* stopping and drained */
            pthread_mutex_unlock(&lock);
            break;
        }
        head = tail = NULL;
        count = 0;
        pthread_cond_broadcast(&not_full);
        pthread_mutex_unlock(&lock);

        token = opy_gil_enter();
        while ((c = batch) != NULL) {
            batch = c->next;
            if (token >= 0)
                deliver(c);
            if (c->type == OrthancPluginChangeType_OrthancStopped) {
                /* the thread waiting for it needs only the lock, not the GIL */
                pthread_mutex_lock(&lock);
                stopped_delivered = 1;
                pthread_cond_broadcast(&delivered);
                pthread_mutex_unlock(&lock);
            }
            free(c);
            atomic_fetch_add(&progress, 1);
        }
        if (token >= 0)
            opy_gil_leave(token);
    }
    return NULL;
}

static PyObject *
RegisterOnChangeCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *callable = opy_registry_one_callable("RegisterOnChangeCallback", args, nargs, kwnames);
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterOnChangeCallback", NULL);
    if (callable == NULL || opy_registry_check("RegisterOnChangeCallback", callable) < 0)
        return NULL;
    if (!worker_running) {
        int rc;

        pthread_mutex_lock(&lock);
        stopping = 0;
        rc = pthread_create(&worker, NULL, worker_main, NULL);
        worker_running = (rc == 0);
        pthread_mutex_unlock(&lock);
        if (rc != 0) {
            PyErr_SetString(PyExc_RuntimeError, "cannot start the thread delivering changes");
            return NULL;
        }
    }
    first = opy_registry_append(&callables, "RegisterOnChangeCallback", callable);
    if (first < 0)
        return NULL;
    if (first && !c_registered) {
        OrthancPluginRegisterOnChangeCallback(opy_context, on_change);
        c_registered = 1;
    }
    Py_RETURN_NONE;
}

void
opy_cb_changes_watch_stop(void)
{
    if (!c_registered) {
        OrthancPluginRegisterOnChangeCallback(opy_context, on_change);
        c_registered = 1;
    }
}

static PyMethodDef methods[] = {
    {"RegisterOnChangeCallback", (PyCFunction) (void (*)(void)) RegisterOnChangeCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterOnChangeCallback($module, /, callback)\n--\n\n"
     "Call callback(changeType, resourceType, resourceId) for each change in Orthanc\n"
     "(from a plugin thread, so it may call the REST API). May be called several times."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_changes_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

int
opy_cb_changes_stop(int stuck_ms)
{
    int running, rc = 0;

    pthread_mutex_lock(&lock);
    running = worker_running;
    stopping = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    if (running) {
        unsigned long seen = (unsigned long) -1;
        int idle_ms = 0;

        for (;;) {
            struct timespec t;
            unsigned long now;

            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_nsec += 100 * 1000000L;
            if (t.tv_nsec >= 1000000000L) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000L;
            }
            if (pthread_timedjoin_np(worker, NULL, &t) == 0)
                break;
            now = atomic_load(&progress);
            idle_ms = now == seen ? idle_ms + 100 : 0;
            seen = now;
            if (idle_ms >= stuck_ms) {
                opy_log(OPY_LOG_WARNING, "OPY0027 a change callback has not returned %d ms after "
                        "Orthanc started to stop; it is left running, and Python is not finalized so "
                        "that Orthanc can exit", stuck_ms);
                rc = -1;
                break;
            }
        }
    }
    pthread_mutex_lock(&lock);
    worker_running = 0;
    stopped_delivered = 0;
    c_registered = 0;               /* Orthanc forgets it (POST /tools/reset) */
    pthread_cond_broadcast(&not_full);
    pthread_cond_broadcast(&delivered);
    pthread_mutex_unlock(&lock);
    return rc;
}

void
opy_cb_changes_finalize(void)
{
    Py_CLEAR(callables);
}
