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

    PyObject *stream_of;            /* opy_cb_rest.c: a returned object as a stream, or None */
} OpyModuleState;

/* Returns the state of the orthanc module object `module` (borrowed). */
static inline OpyModuleState *
opy_module_state(PyObject *module)
{
    return (OpyModuleState *) PyModule_GetState(module);
}

/* The state of the orthanc module of the calling thread's interpreter,
 * valid between the module's exec and the end of that interpreter (callback
 * records keep the module alive); NULL outside. With the GIL held. With
 * one interpreter (the usual case) it is the main one's state; with several
 * ("Python.Interpreters", or a script's own interpreters importing orthanc)
 * it is looked up by interpreter. */
extern OpyModuleState *opy_state_main;
extern int opy_state_many;
OpyModuleState *opy_state_lookup(void);

/* Forgets the state of `interp` (it ends), or of every interpreter (NULL:
 * Python stopped). */
void opy_state_forget(PyInterpreterState *interp);

static inline OpyModuleState *
opy_state_get(void)
{
    return opy_state_many ? opy_state_lookup() : opy_state_main;
}
#define opy_state (opy_state_get())

/* The module object of the main interpreter (a strong reference held by
 * the plugin while the interpreter runs), or NULL. */
extern PyObject *opy_module;

/* Entry point registered with PyImport_AppendInittab. */
PyObject *PyInit_orthanc(void);

#endif /* OPY_MODULE_H */
