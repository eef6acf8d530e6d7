/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_gil.h - entering Python from Orthanc threads, and leaving it around
 * SDK calls.
 *
 * Entry (Orthanc -> Python): every bridge calls opy_gil_enter() first and
 * opy_gil_leave() at its single exit. A thread that never ran Python gets
 * one PyThreadState, kept for the whole life of the thread (freed by a
 * pthread key destructor when the thread ends), so that a hot REST route
 * does not create and destroy a thread state per request.
 *
 * Exit (Python -> SDK): OPY_BEGIN_ALLOW_THREADS / OPY_END_ALLOW_THREADS
 * release the GIL around an SDK call (the default; "Python.AllowThreads":
 * false keeps it held, as the official plugin did). Buffers used inside must
 * be pinned (Py_buffer) or copied first.
 */
#ifndef OPY_GIL_H
#define OPY_GIL_H

#include "opy_python.h"

/* Set once from the configuration, before Python starts. */
extern int opy_gil_allow_threads;

/* An answer of this thread's REST route held back (opy_restoutput.h): an
 * SDK call that releases the GIL sends it first. */
struct OpyAnswerLater;
extern __attribute__((tls_model("initial-exec"))) _Thread_local int opy_answer_later_waiting;
struct OpyAnswerLater *opy_answer_later_take_here(void);
int opy_answer_later_deliver(struct OpyAnswerLater *l);

/* Callbacks of the main interpreter holding the GIL now (a hint for the
 * entries: opy_gil.c), and whether this thread's one is counted there. */
#include <stdatomic.h>
extern atomic_int opy_gil_in_python;
extern __attribute__((tls_model("initial-exec"))) _Thread_local int opy_gil_counted;

#define OPY_BEGIN_ALLOW_THREADS                                    \
    {                                                              \
        PyThreadState *opy__save = NULL;                           \
        int opy__counted = 0;                                      \
        struct OpyAnswerLater *opy__later =                        \
            opy_answer_later_waiting ? opy_answer_later_take_here() : NULL; \
        if (opy_gil_allow_threads) {                               \
            if (opy_gil_counted) {                                 \
                opy__counted = 1;                                  \
                opy_gil_counted = 0;                               \
                atomic_fetch_sub_explicit(&opy_gil_in_python, 1, memory_order_relaxed); \
            }                                                      \
            opy__save = PyEval_SaveThread();                       \
        }                                                          \
        if (opy__later != NULL) (void) opy_answer_later_deliver(opy__later);

#define OPY_END_ALLOW_THREADS                                      \
        if (opy__save != NULL) PyEval_RestoreThread(opy__save);    \
        if (opy__counted) {                                        \
            atomic_fetch_add_explicit(&opy_gil_in_python, 1, memory_order_relaxed); \
            opy_gil_counted = 1;                                   \
        }                                                          \
    }

/* Called once, with the GIL held, right after the interpreter started. */
/* Before Python starts (the thread-state key); opy_gil_init() after. */
void opy_gil_preinit(void);
void opy_gil_init(void);

/* Take the GIL on the calling thread (creating its thread state on first
 * use). Returns a token >= 0 for opy_gil_leave (whether the GIL was taken
 * or this thread already held it), -1 when Python is stopped or stopping: then
 * the caller must not touch Python and needs no opy_gil_leave(). */
int opy_gil_enter(void);
void opy_gil_leave(int token);

/* The same in interpreter idx of opy_interps.h (0: the main one, as
 * opy_gil_enter). A thread attached to another interpreter leaves it for
 * the time of the callback. Returns a token for opy_gil_leave, or -1. */
int opy_gil_enter_in(int idx);

/* Refuse new entries and wait (without the GIL) until the running ones
 * left, at most timeout_ms. Returns 0 when none is left. */
int opy_gil_close(int timeout_ms);

#endif /* OPY_GIL_H */
