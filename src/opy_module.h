/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_module.h - the built-in module "orthanc" and its state.
 */
#ifndef OPY_MODULE_H
#define OPY_MODULE_H

#include "opy_python.h"
#include "opy_gen.h"

typedef struct {
    /* types and exception */
    PyObject *OrthancException;
    PyTypeObject *LogStreamType;
    PyTypeObject *types[OPY_TYPE_COUNT];    /* generated object types */

    /* interned strings and kwnames for the REST call convention */
    PyObject *str_method[5];        /* "GET", "POST", "PUT", "DELETE" (1..4) */
    PyObject *kwnames_get;          /* (method, groups, get, headers) */
    PyObject *kwnames_body;         /* (method, groups, headers, body) */
    PyObject *kwnames_plain;        /* (method, groups, headers) */
    PyObject *empty_tuple;
    PyObject *empty_bytes;
} OpyModuleState;

/* Returns the state of the orthanc module object `module` (borrowed). */
static inline OpyModuleState *
opy_module_state(PyObject *module)
{
    return (OpyModuleState *) PyModule_GetState(module);
}

/* The state of the one orthanc module of this process, valid between the
 * module's exec and Py_FinalizeEx (callback records keep the module alive). */
extern OpyModuleState *opy_state;

/* The module object itself (a strong reference held by the plugin while the
 * interpreter runs), or NULL. */
extern PyObject *opy_module;

/* Entry point registered with PyImport_AppendInittab. */
PyObject *PyInit_orthanc(void);

#endif /* OPY_MODULE_H */
