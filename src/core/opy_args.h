/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_args.h - argument parsing for METH_FASTCALL | METH_KEYWORDS functions,
 * and the conversions shared by the wrappers.
 */
#ifndef OPY_ARGS_H
#define OPY_ARGS_H

#include "opy_python.h"

#include <stdint.h>

/* Match positional and keyword arguments against `names` (n names, the
 * first `required` of them mandatory). On success out[i] is a borrowed
 * reference or NULL for an omitted optional argument, and 0 is returned;
 * otherwise -1 with TypeError set, naming the function `fname`. */
int opy_args_parse_slow(const char *fname, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames, const char *const *names, int n, int required,
                        PyObject **out);

/* The hot path (every wrapper): all arguments given by position. */
static inline int
opy_args_parse(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               const char *const *names, int n, int required, PyObject **out)
{
    if (kwnames == NULL && nargs == n) {
        int i;

        for (i = 0; i < n; i++)
            out[i] = args[i];
        return 0;
    }
    return opy_args_parse_slow(fname, args, nargs, kwnames, names, n, required, out);
}

/* A pinned view of a str or bytes-like argument, valid until
 * opy_bytes_release(), also with the GIL released. */
typedef struct {
    const char *data;
    Py_ssize_t size;
    Py_buffer view;     /* used for bytes-like objects */
    int has_view;
} OpyBytes;

/* Accepts str (UTF-8), bytes, bytearray, memoryview or any C-contiguous
 * buffer. `what` names the argument in the TypeError. Returns 0 or -1. */
int opy_bytes_get(PyObject *obj, const char *what, OpyBytes *out);
void opy_bytes_release(OpyBytes *b);

/* A str argument as UTF-8 (borrowed from `obj`, valid while obj lives).
 * NULL with TypeError when obj is not a str or has a NUL character. */
const char *opy_str_get(PyObject *obj, const char *what);

/* Integer conversions with range checks (OverflowError), -1 on error. */
int opy_long_get(PyObject *obj, const char *what, long long min, long long max, long long *out);

/* unsigned 64-bit integer, OverflowError when out of range. 0 or -1. */
int opy_ulonglong_get(PyObject *obj, const char *what, unsigned long long *out);

/* bool (or int): TypeError for anything else, None included. 0 or -1. */
int opy_bool_get(PyObject *obj, const char *what, int *out);

/* float (int accepted). 0 or -1. */
int opy_double_get(PyObject *obj, const char *what, double *out);

/* str argument, None allowed when nullable (then *out = NULL). 0 or -1. */
int opy_arg_str(PyObject *obj, const char *what, int nullable, const char **out);

/* A value of the enum `def` (any combination of its bits for flag enums);
 * ValueError otherwise. 0 or -1. */
int opy_enum_get(PyObject *obj, const char *what, const void *def, long long *out);

/* An object of `type` (None when nullable), valid: *out = its SDK pointer. */
int opy_arg_object(PyObject *obj, const char *what, PyTypeObject *type, int nullable, void **out);

/* OverflowError when a buffer is larger than `max` bytes. 0 or -1. */
int opy_size_check(Py_ssize_t size, unsigned long long max, const char *what);

/* ValueError when an image buffer is shorter than pitch * height. 0 or -1. */
int opy_image_buffer_check(Py_ssize_t size, long long pitch, long long height, const char *what);

/* Results. Each returns a new reference or NULL with an exception set. */
#include "opy_sdk.h"
PyObject *opy_take_buffer(OrthancPluginMemoryBuffer *buffer);   /* frees the buffer */
PyObject *opy_take_string(char *s);                             /* frees s */
PyObject *opy_borrowed_string(const char *s);                   /* None for NULL */
PyObject *opy_static_string(const char *s);     /* same, cached: s points into a constant table */
void opy_static_string_clear(void);             /* drops the cache (module clear) */

/* A dict {str: str} from parallel arrays of UTF-8 strings (invalid bytes
 * kept as surrogate escapes). New reference or NULL. */
PyObject *opy_dict_from_arrays(uint32_t n, const char *const *keys, const char *const *values);

#endif /* OPY_ARGS_H */
