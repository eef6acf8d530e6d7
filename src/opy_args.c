/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_args.c - argument parsing and conversions.
 */
#include "opy_args.h"

#include <string.h>

int
opy_args_parse(const char *fname, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames, const char *const *names, int n, int required,
               PyObject **out)
{
    Py_ssize_t nkw = kwnames ? PyTuple_Size(kwnames) : 0;
    Py_ssize_t k;
    int i;

    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d argument%s (%zd given)",
                     fname, n, n == 1 ? "" : "s", nargs);
        return -1;
    }
    for (i = 0; i < n; i++)
        out[i] = i < nargs ? args[i] : NULL;
    for (k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GetItem(kwnames, k);   /* borrowed */
        const char *kname = PyUnicode_AsUTF8(key);
        int found = -1;

        if (kname == NULL)
            return -1;
        for (i = 0; i < n; i++) {
            if (strcmp(kname, names[i]) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'",
                         fname, kname);
            return -1;
        }
        if (out[found] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
                         fname, kname);
            return -1;
        }
        out[found] = args[nargs + k];
    }
    for (i = 0; i < required; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %d)",
                         fname, names[i], i + 1);
            return -1;
        }
    }
    return 0;
}

int
opy_bytes_get(PyObject *obj, const char *what, OpyBytes *out)
{
    out->has_view = 0;
    if (PyUnicode_Check(obj)) {
        out->data = PyUnicode_AsUTF8AndSize(obj, &out->size);
        return out->data == NULL ? -1 : 0;
    }
    if (PyObject_CheckBuffer(obj)) {
        if (PyObject_GetBuffer(obj, &out->view, PyBUF_SIMPLE) < 0)
            return -1;
        out->has_view = 1;
        out->data = out->view.buf;
        out->size = out->view.len;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s must be str, bytes, bytearray or memoryview, not %.100s",
                 what, Py_TYPE(obj)->tp_name);
    return -1;
}

void
opy_bytes_release(OpyBytes *b)
{
    if (b->has_view) {
        PyBuffer_Release(&b->view);
        b->has_view = 0;
    }
}

const char *
opy_str_get(PyObject *obj, const char *what)
{
    const char *s;
    Py_ssize_t size;

    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(obj, &size);
    if (s == NULL)
        return NULL;
    if ((Py_ssize_t) strlen(s) != size) {
        PyErr_Format(PyExc_ValueError, "%s must not contain a NUL character", what);
        return NULL;
    }
    return s;
}

int
opy_long_get(PyObject *obj, const char *what, long long min, long long max, long long *out)
{
    long long v;

    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be int, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsLongLong(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < min || v > max) {
        PyErr_Format(PyExc_OverflowError, "%s out of range [%lld, %lld]: %lld", what, min, max, v);
        return -1;
    }
    *out = v;
    return 0;
}
