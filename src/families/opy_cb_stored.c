/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_stored.c - orthanc.RegisterOnStoredInstanceCallback.
 *
 * Python signature: callback(instance: orthanc.DicomInstance, instanceId: str),
 * positional. Several callbacks may be registered: called in registration
 * order.
 * Thread: the Orthanc thread that stored the instance (synchronously: keep it
 * short; calls to the core are allowed, the GIL is released around them).
 * `instance` is borrowed: valid only during the call (later use raises
 * ValueError).
 * Errors: an exception is logged with its traceback (OPY0010); the instance
 * stays stored and the next callbacks still run; Orthanc is told the error
 * code. The return value is ignored.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <string.h>

static PyObject *callables;     /* list, strong reference */

static OrthancPluginErrorCode on_stored(const OrthancPluginDicomInstance *instance, const char *instanceId);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_stored, (const OrthancPluginDicomInstance *instance; const char *instanceId;), (f->instance, f->instanceId))

static OrthancPluginErrorCode
on_stored(const OrthancPluginDicomInstance *instance, const char *instanceId)
{
    OPY_STACK_SWITCH(on_stored, (instance, instanceId));
    PyObject *dicom = NULL, *id = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    Py_ssize_t i, n;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    dicom = opy_handle_new(opy_state->types[OPY_TYPE_DicomInstance], (void *) instance);
    id = dicom ? PyUnicode_FromString(instanceId ? instanceId : "") : NULL;
    if (id == NULL) {
        code = opy_error_report("OnStoredInstance callback (arguments)", NULL);
        goto done;
    }
    n = PyList_Size(callables);
    for (i = 0; i < n; i++) {
        PyObject *r = PyObject_CallFunctionObjArgs(PyList_GetItem(callables, i), dicom, id, NULL);

        if (r == NULL)
            code = opy_error_report("OnStoredInstance callback", NULL);
        Py_XDECREF(r);
    }
done:
    if (dicom != NULL)
        opy_handle_invalidate(dicom);
    Py_XDECREF(dicom);
    Py_XDECREF(id);
    opy_gil_leave(token);
    return code;
}

static PyObject *
RegisterOnStoredInstanceCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterOnStoredInstanceCallback", args, nargs, kwnames);
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterOnStoredInstanceCallback", NULL);
    if (f == NULL || (first = opy_registry_append(&callables, "RegisterOnStoredInstanceCallback", f)) < 0)
        return NULL;
    if (first)
        OrthancPluginRegisterOnStoredInstanceCallback(opy_context, on_stored);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterOnStoredInstanceCallback", (PyCFunction) (void (*)(void)) RegisterOnStoredInstanceCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterOnStoredInstanceCallback($module, /, callback)\n--\n\n"
     "Call callback(instance, instanceId) each time Orthanc stores a new instance; instance\n"
     "(orthanc.DicomInstance) is valid only during the call. May be called several times."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_stored_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_stored_finalize(void)
{
    Py_CLEAR(callables);
}
