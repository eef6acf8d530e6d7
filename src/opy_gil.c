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
#include "opy_interps.h"
#include "opy_stack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

int opy_gil_allow_threads = 1;
/* How many callbacks of Orthanc this thread is inside (opy_sdk_is_closed). */
__attribute__((tls_model("initial-exec"))) _Thread_local int opy_gil_callback_depth;

static PyInterpreterState *interp;        /* the main interpreter */
static pthread_key_t tstate_key;          /* thread states that we created */
static pthread_key_t sub_key;             /* ... in the other interpreters */
static int tstate_key_ok, sub_key_ok;
static atomic_int alive;
static atomic_int active;

/* This thread's thread states in the other interpreters (index > 0), valid
 * while sub_gen is the current opy_interps_generation; and the thread
 * states it left to enter another interpreter (a callback of one calling,
 * with its GIL held, into Orthanc, which called back into another one). */
#define OPY_GIL_SWAP_MAX 64
static _Thread_local PyThreadState *sub_ts[OPY_INTERPS_MAX];
static _Thread_local unsigned sub_gen;
static _Thread_local PyThreadState *swapped[OPY_GIL_SWAP_MAX];
static _Thread_local int n_swapped;
/* A thread that another interpreter started (a script's thread there) has
 * its gilstate in that interpreter: its own state in the main one. */
static _Thread_local PyThreadState *main_alt;

/* The thread state attached on this thread, or NULL. Python 3.11 has a
 * single "current" for the whole process: there, only ours counts. */
static inline PyThreadState *
attached(PyThreadState *main_ts)
{
#if PY_VERSION_HEX >= 0x030D0000
    (void) main_ts;
    return PyThreadState_GetUnchecked();
#elif PY_VERSION_HEX >= 0x030C0000
    (void) main_ts;
    return _PyThreadState_UncheckedGet();
#else
    return PyGILState_Check() ? main_ts : NULL;
#endif
}

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

/* The same for its thread states in the other interpreters (those of an
 * earlier start were deleted when their interpreter ended). */
static void
sub_destructor(void *p)
{
    int i;

    (void) p;
    atomic_fetch_add(&active, 1);
    if (main_alt != NULL && atomic_load(&alive) && sub_gen == atomic_load(&opy_interps_generation)) {
        PyThreadState *ts = main_alt;

        main_alt = NULL;
        PyEval_RestoreThread(ts);
        opy_stack_detach(ts);
        PyThreadState_Clear(ts);
        PyEval_SaveThread();
        PyThreadState_Delete(ts);
    }
    main_alt = NULL;
    if (atomic_load(&alive) && sub_gen == atomic_load(&opy_interps_generation)) {
        for (i = 1; i < OPY_INTERPS_MAX; i++) {
            PyThreadState *ts = sub_ts[i];

            if (ts == NULL)
                continue;
            sub_ts[i] = NULL;
            PyEval_RestoreThread(ts);
            opy_stack_detach(ts);
            PyThreadState_Clear(ts);
            PyEval_SaveThread();
            opy_interps_untrack(i, ts);
            PyThreadState_Delete(ts);
        }
    }
    atomic_fetch_sub(&active, 1);
}

/* The keys are made before Python makes its own thread-specific keys: glibc
 * runs the destructors of a dying thread in key order and clears each value
 * as it goes, so ours must run while Python's gilstate key still holds this
 * thread's state (Python 3.14's debug build asserts it in PyEval_RestoreThread;
 * release builds only get it right by luck). The other interpreters' states
 * go first, while the main one's is still there. */
void
opy_gil_preinit(void)
{
    if (!sub_key_ok && pthread_key_create(&sub_key, sub_destructor) == 0)
        sub_key_ok = 1;
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
opy_gil_enter_in(int idx)
{
    PyThreadState *main_ts, *ts, *cur;
    int how = 1;

    atomic_fetch_add(&active, 1);
    if (!atomic_load(&alive)) {
        atomic_fetch_sub(&active, 1);
        return -1;
    }
#if OPY_HAVE_SUBINTERPRETERS
    {
        unsigned gen = atomic_load_explicit(&opy_interps_generation, memory_order_relaxed);

        if (sub_gen != gen) {
            /* made by an earlier start: freed when Python stopped */
            memset(sub_ts, 0, sizeof sub_ts);
            main_alt = NULL;
            sub_gen = gen;
        }
    }
#endif
    main_ts = PyGILState_GetThisThreadState();
    if (main_ts == NULL) {
        /* First time on this thread: one thread state for its lifetime.
         * PyThreadState_New also records it as this thread's gilstate
         * (made first, so that the other interpreters' never are). */
        main_ts = PyThreadState_New(interp);
        if (main_ts == NULL)
            goto fail;
        if (tstate_key_ok)
            pthread_setspecific(tstate_key, main_ts);
    }
#if OPY_HAVE_SUBINTERPRETERS
    else if (PyThreadState_GetInterpreter(main_ts) != interp) {
        if (main_alt == NULL) {
            if ((main_alt = PyThreadState_New(interp)) == NULL)
                goto fail;
            if (sub_key_ok)
                pthread_setspecific(sub_key, sub_ts);
        }
        main_ts = main_alt;
    }
#endif
    ts = main_ts;
#if OPY_HAVE_SUBINTERPRETERS
    if (idx > 0) {
        ts = sub_ts[idx];
        if (ts == NULL) {
            ts = PyThreadState_New(opy_interps[idx]);
            if (ts == NULL)
                goto fail;
            sub_ts[idx] = ts;
            opy_interps_track(idx, ts);
            if (sub_key_ok)
                pthread_setspecific(sub_key, sub_ts);
        }
    }
#endif
    cur = attached(main_ts);
    if (cur == ts) {
        opy_gil_callback_depth++;
        atomic_fetch_add_explicit(&opy_interps_busy[idx], 1, memory_order_relaxed);
        return idx << 2;        /* re-entry on a thread that holds this GIL */
    }
    if (cur != NULL) {
        /* attached to another interpreter (its callback called Orthanc
         * with the GIL held): left for the time of this callback */
        if (n_swapped >= OPY_GIL_SWAP_MAX)
            goto fail;
        swapped[n_swapped++] = PyEval_SaveThread();
        how = 2;
    }
    PyEval_RestoreThread(ts);
    opy_stack_attach(ts);
    opy_gil_callback_depth++;
    atomic_fetch_add_explicit(&opy_interps_busy[idx], 1, memory_order_relaxed);
    return (idx << 2) | how;
fail:
    atomic_fetch_sub(&active, 1);
    return -1;
}

int
opy_gil_enter(void)
{
    return opy_gil_enter_in(0);
}

void
opy_gil_leave(int token)
{
    int how = token & 3;

    if (token < 0)
        return;
    opy_gil_callback_depth--;
    atomic_fetch_sub_explicit(&opy_interps_busy[token >> 2], 1, memory_order_relaxed);
    if (how >= 1)
        PyEval_SaveThread();
    if (how == 2)
        PyEval_RestoreThread(swapped[--n_swapped]);
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
