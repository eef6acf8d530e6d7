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
static pthread_key_t tstate_key;          /* threads that have thread states of ours */
static int tstate_key_ok;
static atomic_int alive;
static atomic_int active;

/* Orthanc threads inside a callback of the main interpreter, GIL held
 * (their first entry, not re-entries). An entry that finds one waits a few
 * microseconds, spinning, before it asks for the GIL: a short callback is
 * usually done by then, and the GIL is then taken without a wait. Asking
 * while it is held costs two to three context switches on CPython's GIL
 * (its condition variable, then its mutex, on waking: perf, bench/tail.py),
 * more than the spin. Bounded, so a callback that blocks in Python (sleep,
 * I/O) costs the others that much only, and no lock is held: the count
 * is a hint, never a gate. */
_Alignas(64) atomic_int opy_gil_in_python;
/* whether this thread's callback is counted there now (OPY_BEGIN_ALLOW_THREADS
 * takes it out for the time of an SDK call) */
__attribute__((tls_model("initial-exec"))) _Thread_local int opy_gil_counted;
#define OPY_GIL_SPIN_NS 3000L

static void
spin_while_busy(void)
{
    struct timespec t0, t;
    int i;

    if (atomic_load_explicit(&opy_gil_in_python, memory_order_relaxed) == 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        for (i = 0; i < 32; i++) {
            if (atomic_load_explicit(&opy_gil_in_python, memory_order_relaxed) == 0)
                return;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > OPY_GIL_SPIN_NS)
            return;
    }
}

/* Token of opy_gil_enter_in: interpreter << 3 | counted in busy << 2 | how
 * (0 re-entry, 1 took the GIL, 2 took it after leaving another
 * interpreter's thread state). */
#define TOKEN(idx, counted, how) (((idx) << 3) | ((counted) << 2) | (how))

#if OPY_HAVE_SUBINTERPRETERS
/* Python 3.12+ makes whichever thread state a thread attaches its
 * "gilstate" (PyGILState_GetThisThreadState), so the plugin keeps the
 * thread's own states itself, valid while my_gen is the current
 * opy_interps_generation (a restart of Python freed them): my_main in the
 * main interpreter (made by us, or a thread of Python's own whose state we
 * use), sub_ts in the others; and the states it left to enter another
 * interpreter (a callback of one calling Orthanc with its GIL held, which
 * called back into another one). */
#define OPY_GIL_SWAP_MAX 64
static __attribute__((tls_model("initial-exec"))) _Thread_local unsigned my_gen;
static __attribute__((tls_model("initial-exec"))) _Thread_local PyThreadState *my_main;
static _Thread_local int my_main_made;
static _Thread_local PyThreadState *sub_ts[OPY_INTERPS_MAX];
static _Thread_local PyThreadState *swapped[OPY_GIL_SWAP_MAX];
static _Thread_local int n_swapped;

/* Deletes a thread state of the calling thread (not attached). */
static void
delete_own(PyThreadState *ts)
{
    PyEval_RestoreThread(ts);
    opy_stack_detach(ts);           /* on the thread's own stack here */
    PyThreadState_Clear(ts);
    PyEval_SaveThread();
    PyThreadState_Delete(ts);
}

/* Runs when an Orthanc thread that entered Python ends. When Python's own
 * gilstate key was already cleared (Python made its key first after all,
 * e.g. another plugin embeds it), the states are left for Py_FinalizeEx /
 * Py_EndInterpreter to free rather than attached under a wrong gilstate. */
static void
tstate_destructor(void *p)
{
    int i;

    (void) p;
    atomic_fetch_add(&active, 1);
    if (atomic_load(&alive) && my_gen == atomic_load(&opy_interps_generation) &&
        PyGILState_GetThisThreadState() != NULL) {
        for (i = 1; i < OPY_INTERPS_MAX; i++) {
            PyThreadState *ts = sub_ts[i];

            if (ts == NULL)
                continue;
            sub_ts[i] = NULL;
            opy_interps_untrack(i, ts);
            delete_own(ts);
        }
        if (my_main != NULL && my_main_made)
            delete_own(my_main);
    }
    my_main = NULL;
    my_main_made = 0;
    atomic_fetch_sub(&active, 1);
}
#else
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
#endif

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

#if OPY_HAVE_SUBINTERPRETERS
int
opy_gil_enter_in(int idx)
{
    PyThreadState *ts, *cur;
    unsigned gen;
    int how = 1, counted;

    atomic_fetch_add(&active, 1);
    if (!atomic_load(&alive)) {
        atomic_fetch_sub(&active, 1);
        return -1;
    }
    gen = atomic_load_explicit(&opy_interps_generation, memory_order_relaxed);
    if (my_gen != gen) {
        /* first entry since Python (re)started: earlier states were freed */
        my_main = NULL;
        my_main_made = 0;
        memset(sub_ts, 0, sizeof sub_ts);
        n_swapped = 0;
        my_gen = gen;
    }
    if (my_main == NULL) {
        PyThreadState *g = PyGILState_GetThisThreadState();

        if (g != NULL && PyThreadState_GetInterpreter(g) == interp) {
            my_main = g;            /* a thread of Python's: its own state */
        }
        else {
            /* one thread state for the lifetime of this thread */
            if ((my_main = PyThreadState_New(interp)) == NULL)
                goto fail;
            my_main_made = 1;
            if (tstate_key_ok)
                pthread_setspecific(tstate_key, &my_gen);
        }
    }
    ts = my_main;
    if (idx > 0) {
        ts = sub_ts[idx];
        if (ts == NULL) {
            if ((ts = PyThreadState_New(opy_interps[idx])) == NULL)
                goto fail;
            sub_ts[idx] = ts;
            opy_interps_track(idx, ts);
            if (tstate_key_ok)
                pthread_setspecific(tstate_key, &my_gen);
        }
    }
    counted = opy_interps_n > 1;
    cur =
#if PY_VERSION_HEX >= 0x030D0000
        PyThreadState_GetUnchecked();
#else
        _PyThreadState_UncheckedGet();
#endif
    if (cur == ts) {
        how = 0;                /* re-entry on a thread that holds this GIL */
    }
    else {
        if (cur != NULL) {
            /* attached to another interpreter (its callback called Orthanc
             * with the GIL held): left for the time of this callback */
            if (n_swapped >= OPY_GIL_SWAP_MAX)
                goto fail;
            swapped[n_swapped++] = PyEval_SaveThread();
            how = 2;
        }
        if (how == 1 && idx == 0)
            spin_while_busy();
        PyEval_RestoreThread(ts);
        if (how == 1 && idx == 0) {
            atomic_fetch_add_explicit(&opy_gil_in_python, 1, memory_order_relaxed);
            opy_gil_counted = 1;
        }
        opy_stack_attach(ts);
    }
    opy_gil_callback_depth++;
    if (counted)
        atomic_fetch_add_explicit(&opy_interps_busy[idx].n, 1, memory_order_relaxed);
    return TOKEN(idx, counted, how);
fail:
    atomic_fetch_sub(&active, 1);
    return -1;
}
#else
int
opy_gil_enter_in(int idx)
{
    PyThreadState *ts;

    (void) idx;                 /* one interpreter on Python 3.11 */
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
        return TOKEN(0, 0, 0);  /* re-entry on a thread that holds the GIL */
    }
    spin_while_busy();
    PyEval_RestoreThread(ts);
    atomic_fetch_add_explicit(&opy_gil_in_python, 1, memory_order_relaxed);
    opy_gil_counted = 1;
    opy_stack_attach(ts);
    opy_gil_callback_depth++;
    return TOKEN(0, 0, 1);
}
#endif

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
    if (token & 4)
        atomic_fetch_sub_explicit(&opy_interps_busy[token >> 3].n, 1, memory_order_relaxed);
    if (opy_gil_counted && how == 1 && (token >> 3) == 0) {
        atomic_fetch_sub_explicit(&opy_gil_in_python, 1, memory_order_relaxed);
        opy_gil_counted = 0;
    }
    if (how >= 1)
        PyEval_SaveThread();
#if OPY_HAVE_SUBINTERPRETERS
    if (how == 2)
        PyEval_RestoreThread(swapped[--n_swapped]);
#endif
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
