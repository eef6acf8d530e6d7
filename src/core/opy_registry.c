/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_registry.c - registration window.
 */
#include "opy_registry.h"
#include "opy_async.h"
#include "opy_args.h"
#include "opy_interps.h"

#include <pthread.h>

static int open_;
static pthread_t open_thread;
static int open_interp;

void
opy_registration_begin(int idx)
{
    open_thread = pthread_self();
    open_interp = idx;
    open_ = 1;
}

void
opy_registration_end(void)
{
    open_ = 0;
}

int
opy_registration_is_open(void)
{
    return open_ && pthread_equal(pthread_self(), open_thread) && opy_interps_current() == open_interp;
}

int
opy_registry_check(const char *fname, PyObject *callable)
{
    if (!opy_registration_is_open()) {
        PyErr_Format(PyExc_RuntimeError,
                     "orthanc.%s() can only be called while the plugin script is imported "
                     "(Orthanc accepts callbacks only during plugin initialisation)", fname);
        return -1;
    }
    if (!PyCallable_Check(callable)) {
        PyErr_Format(PyExc_TypeError, "orthanc.%s() expects a callable, not %.100s",
                     fname, Py_TYPE(callable)->tp_name);
        return -1;
    }
    return 0;
}

int
opy_registry_check_one(const char *fname, PyObject *callable, int taken, const char *what)
{
    if (callable != NULL && opy_registry_check(fname, callable) < 0)
        return -1;
    if (taken) {
        PyErr_Format(PyExc_RuntimeError, "orthanc.%s(): %s is already registered "
                     "(only one can be registered)", fname, what);
        return -1;
    }
    return 0;
}

int
opy_registry_append(PyObject **list, const char *fname, PyObject *callable)
{
    int first = *list == NULL;

    if (opy_registry_check(fname, callable) < 0)
        return -1;
    if (first && (*list = PyList_New(0)) == NULL)
        return -1;
    if (PyList_Append(*list, callable) < 0)
        return -1;
    return first;
}

PyObject *
opy_registry_one_callable(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"callback"};
    PyObject *a[1];

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, 1, a) < 0)
        return NULL;
    return opy_async_adapt(a[0]);       /* async def: its synchronous wrapper */
}
