/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_python.h - the only header of the plugin that includes <Python.h>.
 *
 * Every file that needs the Python C API includes this header first. The
 * minimal supported CPython is 3.11 (PyConfig, heap types from specs with
 * module state, Py_TPFLAGS_DISALLOW_INSTANTIATION).
 */
#ifndef OPY_PYTHON_H
#define OPY_PYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030B0000
#error "The Orthanc Python plugin needs CPython 3.11 or newer"
#endif

/* Vectorcall is in the limited API only from 3.12: keep its use behind one
 * macro, so that a stable-ABI build stays one switch away. */
#if !defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x030C0000
#define OPY_HAVE_VECTORCALL 1
#else
#define OPY_HAVE_VECTORCALL 0
#endif

/* Take the pending exception as one normalized object with its traceback
 * attached (new reference), or NULL when none is set. Clears it. */
static inline PyObject *
opy_err_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Set `exc` (as returned by opy_err_take, stolen) as the pending exception. */
static inline void
opy_err_restore(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyObject *type = (PyObject *) Py_TYPE(exc);

    Py_INCREF(type);
    PyErr_Restore(type, exc, PyException_GetTraceback(exc));
#endif
}

#endif /* OPY_PYTHON_H */
