/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_handle.c - borrowed SDK handles.
 */
#include "opy_handle.h"
#include "opy_restoutput.h"

#include <sched.h>

PyObject *
opy_handle_new(PyTypeObject *type, void *ptr)
{
    OpyHandleObject *h = PyObject_New(OpyHandleObject, type);

    if (h == NULL)
        return NULL;
    h->ptr = ptr;
    h->busy = 0;
    h->closing = 0;
    h->flags = 0;
    h->owned = 0;
    h->url = NULL;
    h->later = NULL;
    return (PyObject *) h;
}

PyObject *
opy_handle_new_owned(PyTypeObject *type, void *ptr)
{
    PyObject *h = opy_handle_new(type, ptr);

    if (h != NULL)
        ((OpyHandleObject *) h)->owned = 1;
    return h;
}

PyObject *
opy_handle_repr(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;

    return PyUnicode_FromFormat("<%s %s>", Py_TYPE(self)->tp_name,
                                h->ptr == NULL ? "(expired)" : h->owned ? "(owned)" : "(borrowed)");
}

void *
opy_handle_get(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;

    if (h->ptr == NULL || h->closing) {
        PyErr_Format(PyExc_ValueError, "%s used after its callback returned",
                     Py_TYPE(self)->tp_name);
        return NULL;
    }
    return h->ptr;
}

void *
opy_handle_enter_slow(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;

    if (h->ptr == NULL || h->closing)
        return opy_handle_get(self);
    if (h->later != NULL) {
        if (opy_answer_later_flush(h) < 0)
            return NULL;
        if (h->ptr == NULL || h->closing)   /* the GIL was released */
            return opy_handle_get(self);
    }
    h->busy++;
    return h->ptr;
}

void
opy_handle_invalidate(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;

    h->closing = 1;
    while (h->busy > 0) {
        Py_BEGIN_ALLOW_THREADS
        sched_yield();
        Py_END_ALLOW_THREADS
    }
    h->ptr = NULL;
    h->url = NULL;
    h->later = NULL;
}

void
opy_handle_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);

    PyObject_Free(self);
    Py_DECREF(tp);
}
