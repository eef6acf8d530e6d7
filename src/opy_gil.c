/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_gil.c - thread states for Orthanc threads, entry accounting.
 *
 * Entry accounting uses two atomics (no mutex, so a thread that already
 * holds the GIL can enter again without any lock-order problem):
 * opy_gil_enter() first counts itself in `active`, then checks `alive`;
 * opy_gil_close() clears `alive`, then waits for `active` to drop to 0.
 * Either the entry sees alive == 0 and backs off, or close sees it counted.
 */
#include "opy_gil.h"
#include "opy_stack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

int opy_gil_allow_threads = 1;
/* How many callbacks of Orthanc this thread is inside (opy_sdk_is_closed). */
__attribute__((tls_model("initial-exec"))) _Thread_local int opy_gil_callback_depth;

static PyInterpreterState *interp;        /* the only interpreter */
static pthread_key_t tstate_key;          /* thread states that we created */
static int tstate_key_ok;
static atomic_int alive;
static atomic_int active;

/* Runs when an Orthanc thread that entered Python ends. */
static void
tstate_destructor(void *p)
{
    PyThreadState *ts = p;

    atomic_fetch_add(&active, 1);
    /* Python's gilstate key already cleared (Python made its key first after
     * all, e.g. another plugin embeds it): this state is left for
     * Py_FinalizeEx() to free rather than attached under a wrong gilstate. */
    if (atomic_load(&alive) && PyGILState_GetThisThreadState() == ts) {
        PyEval_RestoreThread(ts);
        opy_stack_detach(ts);       /* on the thread's own stack here */
        PyThreadState_Clear(ts);
        PyEval_SaveThread();
        PyThreadState_Delete(ts);
    }
    /* else: Py_FinalizeEx() already freed every thread state */
    atomic_fetch_sub(&active, 1);
}

/* The key is made before Python makes its own thread-specific keys: glibc
 * runs the destructors of a dying thread in key order and clears each value
 * as it goes, so ours must run while Python's gilstate key still holds this
 * thread's state (Python 3.14's debug build asserts it in PyEval_RestoreThread;
 * release builds only get it right by luck). */
void
opy_gil_preinit(void)
{
    if (!tstate_key_ok && pthread_key_create(&tstate_key, tstate_destructor) == 0)
        tstate_key_ok = 1;
}

void
opy_gil_init(void)
{
    interp = PyInterpreterState_Get();
    opy_gil_preinit();
    atomic_store(&active, 0);
    atomic_store(&alive, 1);
}

int
opy_gil_enter(void)
{
    PyThreadState *ts;

    atomic_fetch_add(&active, 1);
    if (!atomic_load(&alive)) {
        atomic_fetch_sub(&active, 1);
        return -1;
    }
    ts = PyGILState_GetThisThreadState();
    if (ts == NULL) {
        /* First time on this thread: one thread state for its lifetime.
         * PyThreadState_New also records it as this thread's gilstate. */
        ts = PyThreadState_New(interp);
        if (ts == NULL) {
            atomic_fetch_sub(&active, 1);
            return -1;
        }
        if (tstate_key_ok)
            pthread_setspecific(tstate_key, ts);
    }
    else if (PyGILState_Check()) {
        opy_gil_callback_depth++;
        return 0;               /* re-entry on a thread that holds the GIL */
    }
    PyEval_RestoreThread(ts);
    opy_stack_attach(ts);
    opy_gil_callback_depth++;
    return 1;
}

void
opy_gil_leave(int token)
{
    if (token < 0)
        return;
    opy_gil_callback_depth--;
    if (token == 1)
        PyEval_SaveThread();
    atomic_fetch_sub(&active, 1);
}

int
opy_gil_close(int timeout_ms)
{
    struct timespec pause = { 0, 1000000 };   /* 1 ms */
    int waited = 0;

    atomic_store(&alive, 0);
    while (atomic_load(&active) > 0 && waited < timeout_ms) {
        nanosleep(&pause, NULL);
        waited++;
    }
    return atomic_load(&active) > 0 ? -1 : 0;
}
