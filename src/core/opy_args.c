/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_args.c - argument parsing and conversions.
 */
#include "opy_args.h"
#include "opy_bytes.h"
#include "opy_enums.h"
#include "opy_handle.h"

#include <stdint.h>
#include <string.h>

int
opy_args_parse_slow(const char *fname, PyObject *const *args, Py_ssize_t nargs,
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

int
opy_ulonglong_get(PyObject *obj, const char *what, unsigned long long *out)
{
    unsigned long long v;

    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be int, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long) -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_OverflowError, "%s out of range [0, 2**64 - 1]", what);
        }
        return -1;
    }
    *out = v;
    return 0;
}

int
opy_double_get(PyObject *obj, const char *what, double *out)
{
    double v;

    if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be float, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

int
opy_arg_str(PyObject *obj, const char *what, int nullable, const char **out)
{
    if (obj == Py_None && nullable) {
        *out = NULL;
        return 0;
    }
    *out = opy_str_get(obj, what);
    return *out == NULL ? -1 : 0;
}

int
opy_enum_get(PyObject *obj, const char *what, const void *defp, long long *out)
{
    const OpyEnumDef *def = defp;
    const OpyEnumValue *e;
    long long v, all = 0;

    size_t i;

    if (opy_long_get(obj, what, INT32_MIN, INT32_MAX, &v) < 0)
        return -1;
    for (i = 0; i < def->n_ranges; i++) {   /* few runs: ErrorCode has 5 */
        if (v < def->ranges[2 * i])
            break;
        if (v <= def->ranges[2 * i + 1]) {
            *out = v;
            return 0;
        }
    }
    for (e = def->values; def->flags && e->name != NULL; e++)
        all |= e->value;
    if (def->flags && (v & ~all) == 0 && v >= 0) {
        *out = v;
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "%s: %lld is not a value of orthanc.%s", what, v, def->name);
    return -1;
}

int
opy_arg_object(PyObject *obj, const char *what, PyTypeObject *type, int nullable, void **out)
{
    if (obj == Py_None && nullable) {
        *out = NULL;
        return 0;
    }
    if (!PyObject_TypeCheck(obj, type)) {
        PyErr_Format(PyExc_TypeError, "%s must be %s%s, not %.100s", what, type->tp_name,
                     nullable ? " or None" : "", Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = opy_handle_get(obj);
    return *out == NULL ? -1 : 0;
}

int
opy_size_check(Py_ssize_t size, unsigned long long max, const char *what)
{
    if ((unsigned long long) size > max) {
        PyErr_Format(PyExc_OverflowError, "%s is too large (%zd bytes, at most %llu)", what, size, max);
        return -1;
    }
    return 0;
}

int
opy_image_buffer_check(Py_ssize_t size, long long pitch, long long height, const char *what)
{
    if ((unsigned long long) size < (unsigned long long) pitch * (unsigned long long) height) {
        PyErr_Format(PyExc_ValueError, "%s is too short: %zd bytes for pitch %lld x height %lld",
                     what, size, pitch, height);
        return -1;
    }
    return 0;
}

PyObject *
opy_take_buffer(OrthancPluginMemoryBuffer *buf)
{
    PyObject *b = opy_bytes_adopt(buf);     /* large answers: no second block */

    if (b != NULL)
        return b;
    b = PyBytes_FromStringAndSize(buf->size ? buf->data : "", (Py_ssize_t) buf->size);

    if (buf->data != NULL)
        OrthancPluginFreeMemoryBuffer(opy_context, buf);
    return b;
}

PyObject *
opy_take_string(char *s)
{
    PyObject *r = PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");

    OrthancPluginFreeString(opy_context, s);
    return r;
}

PyObject *
opy_borrowed_string(const char *s)
{
    if (s == NULL)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
}

PyObject *
opy_dict_from_arrays(uint32_t n, const char *const *keys, const char *const *values)
{
    PyObject *d = PyDict_New();
    uint32_t i;

    if (d == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *k = PyUnicode_DecodeUTF8(keys[i], (Py_ssize_t) strlen(keys[i]), "surrogateescape");
        PyObject *v = k ? PyUnicode_DecodeUTF8(values[i], (Py_ssize_t) strlen(values[i]),
                                               "surrogateescape") : NULL;

        if (v == NULL || PyDict_SetItem(d, k, v) < 0) {   /* no steal */
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return d;
}

int
opy_bool_get(PyObject *obj, const char *what, int *out)
{
    if (!PyLong_Check(obj)) {               /* bool is a subclass of int */
        PyErr_Format(PyExc_TypeError, "%s must be bool, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = PyObject_IsTrue(obj);
    return *out < 0 ? -1 : 0;
}

/* Results that point into constant tables of Orthanc (the descriptions of
 * GetErrorDescription: string literals, or messages registered for the
 * process's lifetime): one str per pointer, kept in a small direct-mapped
 * cache. Only for such functions (the static_str_result list of the
 * generator's overrides). With the GIL held. */
#define STATIC_CACHE 64
static struct {
    const char *ptr;
    PyObject *str;
} static_cache[STATIC_CACHE];

PyObject *
opy_static_string(const char *s)
{
    size_t slot;
    PyObject *str;

    if (s == NULL)
        Py_RETURN_NONE;
    if (PyInterpreterState_Get() != PyInterpreterState_Main())
        return opy_borrowed_string(s);      /* the cache holds the main one's objects */
    slot = ((uintptr_t) s >> 3) % STATIC_CACHE;
    if (static_cache[slot].ptr == s)
        return Py_NewRef(static_cache[slot].str);
    str = opy_borrowed_string(s);
    if (str != NULL) {
        Py_XSETREF(static_cache[slot].str, Py_NewRef(str));
        static_cache[slot].ptr = s;
    }
    return str;
}

void
opy_static_string_clear(void)
{
    size_t i;

    for (i = 0; i < STATIC_CACHE; i++) {
        static_cache[i].ptr = NULL;
        Py_CLEAR(static_cache[i].str);
    }
}
