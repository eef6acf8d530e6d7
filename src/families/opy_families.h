/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_families.h - declarations of every callback family (opy_families.def).
 */
#ifndef OPY_FAMILIES_H
#define OPY_FAMILIES_H

#include "opy_python.h"

#define OPY_FAMILY(name)                          \
    int opy_cb_##name##_init(PyObject *module);   \
    void opy_cb_##name##_finalize(void);
#include "opy_families.def"
#undef OPY_FAMILY

/* Calls every family's init: 0, or -1 with an exception set. */
int opy_families_init(PyObject *module);

/* Calls every family's finalize (GIL held, Orthanc no longer calls in). */
void opy_families_finalize(void);

#endif
