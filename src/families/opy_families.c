/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_families.c - runs the init and finalize of every callback family.
 */
#include "opy_families.h"

int
opy_families_init(PyObject *module)
{
#define OPY_FAMILY(name) if (opy_cb_##name##_init(module) < 0) return -1;
#include "opy_families.def"
#undef OPY_FAMILY
    return 0;
}

void
opy_families_finalize(void)
{
#define OPY_FAMILY(name) opy_cb_##name##_finalize();
#include "opy_families.def"
#undef OPY_FAMILY
}
