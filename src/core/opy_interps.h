/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_interps.h - several Python interpreters, each with its own GIL
 * ("Python.Interpreters": N, Python 3.12 or newer).
 *
 * Interpreter 0 is the main one, started by opy_interp.c. With N > 1, N-1
 * more are started right after the scripts were imported in the main one,
 * each with its own GIL and its own copy of everything (modules, the
 * orthanc module and its state, sys.path, sys.stdout); each imports the same
 * scripts. REST callbacks (orthanc.RegisterRestCallback) run in whichever
 * interpreter is least busy; every other family runs in the main one only:
 * in the other interpreters their Register... calls are noted (to check that
 * every interpreter registers the same) and do nothing else.
 *
 * Thread states: an Orthanc thread gets one thread state per interpreter it
 * enters (opy_gil.c), kept while it lives; the plugin tracks them so that an
 * interpreter can be ended (Py_EndInterpreter wants to be its last thread).
 */
#ifndef OPY_INTERPS_H
#define OPY_INTERPS_H

#include "opy_python.h"
#include "opy_config.h"

#include <stdatomic.h>
#include <stddef.h>

/* Several interpreters with their own GIL need Python 3.12 (PEP 684). */
#if PY_VERSION_HEX >= 0x030C0000
#define OPY_HAVE_SUBINTERPRETERS 1
#else
#define OPY_HAVE_SUBINTERPRETERS 0
#endif

#define OPY_INTERPS_MAX 32

/* How many interpreters run (1 when only the main one), and which. */
extern int opy_interps_n;
extern PyInterpreterState *opy_interps[OPY_INTERPS_MAX];
/* Callbacks running (or waiting for the GIL) in each interpreter, counted
 * while more than one runs; one cache line each. */
typedef struct {
    atomic_int n;
    char pad[64 - sizeof(atomic_int)];
} OpyBusy;
extern OpyBusy opy_interps_busy[OPY_INTERPS_MAX];
/* How many the configuration asks for (the main one notes its
 * registrations when more than 1). */
extern int opy_interps_wanted;
/* Bumped at each start: thread states of an earlier start are stale. */
extern atomic_uint opy_interps_generation;

/* The index of the calling thread's interpreter among the plugin's (0 for
 * the main one), -1 for one the plugin did not start (a script's own
 * concurrent.interpreters). With the GIL held. */
int opy_interps_current(void);

/* Whether the configuration asks for more than one interpreter, and whether
 * this Python can: 0, or -1 after logging why not (Python 3.11). */
int opy_interps_check_config(const OpyConfig *cfg);

/* 1 in the main interpreter. With the GIL held. */
static inline int
opy_interps_is_main(void)
{
    return PyInterpreterState_Get() == PyInterpreterState_Main();
}

/* (The other interpreters are started and ended by opy_interp.c.) */

/* Forgets the registrations noted by an earlier start. */
void opy_interps_reset(void);

/* After interpreter idx > 0 imported the scripts: NULL when it registered
 * what the main one registered, else a malloc'ed text naming the first
 * difference. */
char *opy_interps_compare(int idx);

/* ---- the registrations of the scripts ---------------------------------- */

/* Notes that the script being imported calls orthanc.<fname>(<detail>)
 * (detail: a route, or NULL). In the main interpreter: 0 (register). In
 * another interpreter: 1 when the family runs in the main interpreter only
 * (main_only: the caller returns None at once), 0 else; -1 with an
 * exception set (out of memory). 0 outside the registration window, which
 * is open only in the plugin's interpreters (the caller raises its own
 * error). With the GIL. */
int opy_interps_note(const char *fname, const char *detail, int main_only);

/* For a generated function whose effect is Orthanc-wide and must happen
 * once (orthanc.RegisterErrorCode, RegisterDictionaryTag, ExtendOrthanc-
 * Explorer, SetRootUri...: "main_interpreter_only" in the generator's
 * overrides), while the scripts are imported. In the main interpreter: 0,
 * *slot the place to keep its result at (opy_interps_once_keep), or -1. In
 * another interpreter: 1 with *result the main interpreter's result of the
 * same call (new reference; None when the calls differ: the comparison of
 * the registrations refuses the start then). -1 with an exception set. */
int opy_interps_once(const char *fname, PyObject **result, int *slot);
void opy_interps_once_keep(int slot, PyObject *result);

/* For a Register... function of a family that runs in the main interpreter
 * only: returns None at once in the other interpreters. */
#define OPY_MAIN_INTERPRETER_ONLY(fname, detail)                       \
    do {                                                               \
        int opy__r = opy_interps_note((fname), (detail), 1);           \
        if (opy__r < 0)                                                \
            return NULL;                                               \
        if (opy__r > 0)                                                \
            Py_RETURN_NONE;                                            \
    } while (0)

/* Thread states that Orthanc threads made in interpreter idx > 0: tracked
 * so that opy_interps_stop can delete them. */
void opy_interps_track(int idx, PyThreadState *ts);
void opy_interps_untrack(int idx, PyThreadState *ts);

/* Deletes the tracked thread states of interpreter idx (its GIL held by
 * the caller, on a thread state of its own; no other thread uses them).
 * (Those threads' gilstate may still name a deleted state until Python
 * restarts: the plugin never reads it, opy_gil.c keeps its own.) -1 when
 * a state could not be tracked (out of memory): the interpreter cannot be
 * ended. */
int opy_interps_delete_tracked(int idx);

/* For a REST route served by every interpreter that has a callable for it
 * (callables[i] != NULL; callables[0] always is): the least busy one,
 * on a tie the one chosen longest ago. */
int opy_interps_pick(PyObject *const *callables);

#endif /* OPY_INTERPS_H */
