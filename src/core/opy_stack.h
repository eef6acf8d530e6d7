/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_stack.h - Python callbacks on a stack big enough for Python.
 *
 * Orthanc's HTTP threads (CivetWeb) have a 100 KB stack. Python sizes its
 * own protections for the 8 MB of a usual thread: on Python 3.11-3.13 a
 * callback that recurses in C (json.dumps of a deeply nested list, a deep
 * repr) overflows that stack and kills Orthanc; Python 3.14 measures the
 * stack, raises RecursionError past 64 KB and, near that limit, defers every
 * deallocation to a list it only empties with more headroom than such a
 * thread ever has (objects leak half-freed; the interpreter crashes when it
 * is finalized).
 *
 * So every entry point that Orthanc calls (an SDK callback) starts with
 * OPY_STACK_SWITCH: on a thread whose stack is smaller than
 * OPY_STACK_NEEDED, the callback runs again on a stack of
 * OPY_STACK_SIZE bytes that belongs to that thread (mapped on first use,
 * unmapped when the thread ends; pages are only committed when touched),
 * by a plain call with the stack pointer moved on x86-64, through
 * swapcontext() elsewhere (which also saves the signal mask: two system
 * calls per switch). Nested callbacks on the same thread run where they
 * are. On Python 3.14, Python is told about that stack while it runs on it
 * (PyUnstable_ThreadState_SetStackProtection) and about the thread's own
 * stack again afterwards.
 *
 * Declaring a callback `static R fn(A a, B b)` for switching:
 *
 *   static R fn(A a, B b);                 (when no header declares it)
 *   OPY_STACK_THUNK(R, fn, (A a; B b;), (f->a, f->b))
 *   static R fn(A a, B b) { OPY_STACK_SWITCH(fn, (a, b)); ... }
 *
 * (OPY_STACK_THUNK_VOID for callbacks that return nothing.)
 */
#ifndef OPY_STACK_H
#define OPY_STACK_H

#include "opy_python.h"

#define OPY_STACK_NEEDED (1024u * 1024u)       /* threads with less switch */
#define OPY_STACK_SIZE (8u * 1024u * 1024u)    /* what they switch to */

extern __attribute__((tls_model("initial-exec"))) _Thread_local int opy_stack_state;

/* 1 when the calling thread must switch before running Python. */
int opy_stack_classify(void);

static inline int
opy_stack_should_switch(void)
{
    /* state: 0 not classified yet, 1 switch, 2 stays (big enough, already
     * on its Python stack, or no stack could be mapped) */
    return opy_stack_state == 1 || (opy_stack_state == 0 && opy_stack_classify());
}

/* Runs fn(arg) on this thread's Python stack. */
void opy_stack_run(void (*fn)(void *), void *arg);

/* With the GIL, after taking it: tells Python which stack it runs on. */
void opy_stack_attach(PyThreadState *ts);

/* In a thread-state destructor: Python's view of the stack back to the
 * thread's own. */
void opy_stack_detach(PyThreadState *ts);

/* What this thread runs Python on, for tests: 0 its own stack, 1 the
 * switched one. */
int opy_stack_switched(void);

/* For tests: 1 switches through swapcontext() also where a plain call on
 * the other stack is used (x86-64). */
extern int opy_stack_ucontext;

#define OPY_UNPAREN(...) __VA_ARGS__

#define OPY_STACK_THUNK(ret, fn, members, call)                    \
    struct fn##_frame { ret r_; OPY_UNPAREN members };             \
    static void fn##_thunk(void *p)                                \
    {                                                              \
        struct fn##_frame *f = p;                                  \
        f->r_ = fn call;                                           \
    }

#define OPY_STACK_THUNK_VOID(fn, members, call)                    \
    struct fn##_frame { char r_; OPY_UNPAREN members };            \
    static void fn##_thunk(void *p)                                \
    {                                                              \
        struct fn##_frame *f = p;                                  \
        (void) f;                                                  \
        fn call;                                                   \
    }

#define OPY_STACK_SWITCH(fn, args)                                 \
    do {                                                           \
        if (opy_stack_should_switch()) {                           \
            struct fn##_frame f_ = { 0, OPY_UNPAREN args };           \
            opy_stack_run(fn##_thunk, &f_);                        \
            return f_.r_;                                          \
        }                                                          \
    } while (0)

#define OPY_STACK_SWITCH_VOID(fn, args)                            \
    do {                                                           \
        if (opy_stack_should_switch()) {                           \
            struct fn##_frame f_ = { 0, OPY_UNPAREN args };           \
            opy_stack_run(fn##_thunk, &f_);                        \
            return;                                                \
        }                                                          \
    } while (0)

#endif /* OPY_STACK_H */
