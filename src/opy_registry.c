/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_registry.c - registration window.
 */
#include "opy_registry.h"

int opy_registration_open;

int
opy_registry_check(const char *fname, PyObject *callable)
{
    if (!opy_registration_open) {
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
