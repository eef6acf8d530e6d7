/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_enums.h - the SDK enums as classes of the orthanc module.
 *
 * The table opy_gen_enums[] is generated from the installed SDK header by
 * tools/opy_gen.py (build/gen/opy_gen_enums.c). As in the official plugin,
 * each enum is a plain class whose attributes are ints:
 * orthanc.ChangeType.STABLE_STUDY == 9.
 */
#ifndef OPY_ENUMS_H
#define OPY_ENUMS_H

#include <stddef.h>

typedef struct {
    const char *name;           /* "STABLE_STUDY" */
    long long value;
} OpyEnumValue;

typedef struct {
    const char *name;           /* "ChangeType" */
    const char *doc;
    const OpyEnumValue *values; /* terminated by a NULL name */
    int flags;                  /* a bit mask: any combination of the values */
    const long long *ranges;    /* the values as n_ranges [low, high] runs, ascending */
    size_t n_ranges;
} OpyEnumDef;

extern const OpyEnumDef opy_gen_enums[];   /* terminated by a NULL name */
extern const size_t opy_gen_enums_count;

#ifdef OPY_PYTHON_H
/* Adds every enum class to the module. 0, or -1 with an exception set. */
int opy_enums_module_init(PyObject *module);
#endif

#endif /* OPY_ENUMS_H */
