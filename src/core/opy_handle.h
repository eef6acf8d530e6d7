/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_handle.h - Python objects wrapping an SDK handle.
 *
 * A borrowed handle (RestOutput, DicomInstance of a callback, ...) is valid
 * only while its callback runs: opy_handle_invalidate() clears the pointer
 * when the callback returns, and every method then raises ValueError naming
 * the type. The types cannot be instantiated from Python and a pointer never
 * travels through a Python int.
 *
 * `busy` counts method calls that released the GIL while using the pointer;
 * invalidation waits for them, so a handle used from another Python thread
 * cannot be freed under its feet. While it waits, `closing` makes new calls
 * raise ValueError already: a thread calling the handle in a loop would
 * otherwise keep `busy` above zero whenever the waiting thread holds the GIL
 * and delay the end of the callback for as long as it runs.
 */
#ifndef OPY_HANDLE_H
#define OPY_HANDLE_H

#include "opy_python.h"
#include "opy_sdk.h"

typedef struct {
    PyObject_HEAD
    void *ptr;              /* SDK object, NULL once invalid */
    int busy;               /* SDK calls in flight (GIL released) */
    int closing;            /* invalidation started: no new call */
    unsigned flags;         /* per type, e.g. OPY_OUTPUT_ANSWERED */
    int owned;              /* 1: tp_dealloc frees the SDK object */
    const char *url;        /* RestOutput: route being answered (borrowed) */
    struct OpyAnswerLater *later;   /* RestOutput of a REST route: its answer held
                                     * back (opy_restoutput.h), or NULL */
} OpyHandleObject;

/* Returns a new reference, or NULL with an exception set. */
PyObject *opy_handle_new(PyTypeObject *type, void *ptr);

/* Same for an object that Python owns: freed by the type's dealloc. */
PyObject *opy_handle_new_owned(PyTypeObject *type, void *ptr);

/* Returns the pointer, or NULL with ValueError set when invalid. */
void *opy_handle_get(PyObject *self);
/* opy_handle_enter() of an invalid handle, or of a RestOutput whose answer
 * is held back (sent first, in order). */
void *opy_handle_enter_slow(PyObject *self);

/* Right before an SDK call: checks the handle again and counts the call in
 * flight. Methods check their object first (opy_handle_get) and convert
 * their other arguments after; the conversions run no Python code today
 * (ints, floats, str and buffers are taken by type, never through
 * __index__ and the like: tests/robustness/test_objects.py), so nothing can
 * end the callback in between, but this check keeps that true whatever a
 * conversion becomes. The pointer never changes while valid, so a pointer
 * read earlier is still the right one when this succeeds. Returns the
 * pointer, or NULL with ValueError set. */
static inline void *
opy_handle_enter(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;

    if (h->ptr == NULL || h->closing || h->later != NULL)
        return opy_handle_enter_slow(self);
    h->busy++;
    return h->ptr;
}

/* Set in flags of a RestOutput whose answer may be held back when an SDK
 * call on it failed: its next answer then goes to Orthanc at once (Orthanc
 * may refuse it, and the script must see that at the call). */
#define OPY_HANDLE_CALL_FAILED 0x80000000u

/* After the SDK call that opy_handle_enter() opened (the call's error code
 * is still in opy_sdk_last_error). */
static inline void
opy_handle_leave(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;

    h->busy--;
    if (h->later != NULL && opy_sdk_last_error != OrthancPluginErrorCode_Success)
        h->flags |= OPY_HANDLE_CALL_FAILED;
}

/* Marks the handle invalid (waits for in-flight calls). Needs the GIL. */
void opy_handle_invalidate(PyObject *self);

/* Type slots shared by all handle types. */
void opy_handle_dealloc(PyObject *self);
PyObject *opy_handle_repr(PyObject *self);

#endif /* OPY_HANDLE_H */
