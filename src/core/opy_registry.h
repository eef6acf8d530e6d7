/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_registry.h - when callbacks may be registered, and what they hold.
 *
 * The SDK accepts callback registrations only while the plugin initialises,
 * i.e. while the script is imported. A Register... call after that (from a
 * callback, a thread, a timer) raises RuntimeError instead of reaching the
 * SDK. Registered callables are strong references, released with the GIL
 * held when the plugin stops; registries are written only during the import
 * (single-threaded) and read-only afterwards, so no lock is needed to read
 * them.
 */
#ifndef OPY_REGISTRY_H
#define OPY_REGISTRY_H

#include "opy_python.h"

/* The window: opened around the import of the scripts in interpreter idx
 * (opy_interps.h) on the calling thread, closed after it. Open only for
 * that thread in that interpreter: a thread of a script that registers
 * meanwhile gets the "closed" error. */
void opy_registration_begin(int idx);
void opy_registration_end(void);
int opy_registration_is_open(void);

/* Returns 0 when `fname` may register `callable` now; else -1 with
 * RuntimeError (window closed) or TypeError (not callable) set. */
int opy_registry_check(const char *fname, PyObject *callable);

/* For the families that take one registration: opy_registry_check() (when
 * `callable` is not NULL), then RuntimeError "orthanc.<fname>(): <what> is
 * already registered (only one can be registered)" when `taken`. Returns 0
 * or -1 with the exception set. */
int opy_registry_check_one(const char *fname, PyObject *callable, int taken, const char *what);

/* Families that accept several callables keep them in a Python list, called
 * in registration order. Appends `callable` to *list (created on first use).
 * Returns 1 for the first registration (the caller then registers its C
 * callback with the SDK), 0 for the next ones, -1 with an exception set. */
int opy_registry_append(PyObject **list, const char *fname, PyObject *callable);

/* Parses the single positional callable of a Register...(callback) call.
 * Returns it (borrowed) or NULL with TypeError set. */
PyObject *opy_registry_one_callable(const char *fname, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames);

#endif /* OPY_REGISTRY_H */
