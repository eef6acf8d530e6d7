/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_received.c - what Orthanc does with an incoming instance:
 * orthanc.RegisterReceivedInstanceCallback,
 * orthanc.RegisterIncomingCStoreInstanceFilter and
 * orthanc.RegisterIncomingDicomInstanceFilter.
 *
 * Thread: all three run synchronously on the Orthanc thread that received
 * the instance (an HTTP thread for POST /instances, the DICOM SCP thread of
 * the association for C-STORE), before it is stored. Calls to the core are
 * allowed (the GIL is released around them) but the SDK advises against
 * calling the REST API from here.
 *
 * RegisterReceivedInstanceCallback(callback), one registration (the SDK
 * allows one in the whole of Orthanc; a second call raises RuntimeError):
 *   callback(receivedDicom: bytes, origin: int (orthanc.InstanceOrigin))
 *     -> (orthanc.ReceivedInstanceAction, bytes-like or None)
 *   KEEP_AS_IS stores the instance unchanged, DISCARD drops it, MODIFY stores
 *   the bytes given as second item (bytes, bytearray, memoryview).
 *   An exception or a bad return value (not a 2-tuple, unknown action,
 *   MODIFY without bytes) fails closed: the traceback is logged once
 *   (OPY0010) and the instance is refused with an error, so the sender
 *   learns it (REST: HTTP 500; C-STORE: a failure status); nothing is stored,
 *   not even the unmodified instance (a modifying callback is often an
 *   anonymiser).
 *
 * RegisterIncomingCStoreInstanceFilter(callback), several allowed (called in
 * registration order, the first rejection stops the others):
 *   callback(instance: orthanc.DicomInstance) -> int
 *   0 stores the instance; a non-zero value (1..0xFFFF) discards it and is
 *   the DIMSE status answered to the C-STORE SCU (e.g. 0xA700, out of
 *   resources). Only instances received by C-STORE go through it.
 *   Fails closed: an exception or a bad return value (not an int, a bool,
 *   out of range) rejects the instance with status 0xA700 and the traceback
 *   is logged once (OPY0010).
 *
 * RegisterIncomingDicomInstanceFilter(callback), several allowed (all must
 * accept; the first refusal stops the others):
 *   callback(instance: orthanc.DicomInstance) -> truth value
 *   True stores the instance, False discards it (REST: the upload answers
 *   Status "FilteredOut"). Applies to every origin (REST, C-STORE, plugins,
 *   Lua, WebDAV).
 *   Fails closed: an exception or a result without a truth value refuses the
 *   instance with an error (Orthanc answers the sender with an error: HTTP
 *   500, or a C-STORE failure) and the traceback is logged once (OPY0010).
 *
 * `instance` (DicomInstance) is borrowed: valid only during the call, later
 * use raises ValueError. Its metadata is not available yet.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_enums.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <string.h>

/* DIMSE status answered when a C-STORE filter fails: "Refused: Out of
 * Resources" (the sender may retry later, once the script is fixed). */
#define OPY_CSTORE_FAILED_STATUS 0xA700

/* An action outside the SDK enum: Orthanc 1.10.1 turns it into an error for
 * the sender (checked by the integration tests). */
#define OPY_RECEIVED_ERROR ((OrthancPluginReceivedInstanceAction) 0)

static PyObject *received;          /* strong reference, or NULL */
static PyObject *cstore_filters;    /* list, strong reference */
static PyObject *dicom_filters;     /* list, strong reference */

/* ------------------------------------------------------------------ */
/* Received instance                                                   */

/* Interprets the callback result `r` (borrowed). Returns the action, with
 * *modified filled for MODIFY, or -1 with an exception set. */
static int
received_result(PyObject *r, OrthancPluginMemoryBuffer64 *modified)
{
    PyObject *item = NULL;
    OpyBytes b;
    long long action;
    OrthancPluginErrorCode code;

    if (!PyTuple_Check(r) || PyTuple_Size(r) != 2) {
        PyErr_Format(PyExc_TypeError,
                     "the received-instance callback must return a tuple "
                     "(orthanc.ReceivedInstanceAction, bytes or None), not %.100s",
                     Py_TYPE(r)->tp_name);
        return -1;
    }
    if (opy_enum_get(PyTuple_GetItem(r, 0), "the action returned by the received-instance callback",
                     &opy_gen_enums[OPY_ENUM_ReceivedInstanceAction], &action) < 0)
        return -1;
    if (action != OrthancPluginReceivedInstanceAction_Modify)
        return (int) action;
    item = PyTuple_GetItem(r, 1);      /* borrowed */
    if (PyUnicode_Check(item) || !PyObject_CheckBuffer(item)) {
        PyErr_Format(PyExc_TypeError,
                     "the received-instance callback returned MODIFY with %.100s instead of "
                     "the bytes of the modified DICOM file", Py_TYPE(item)->tp_name);
        return -1;
    }
    if (opy_bytes_get(item, "the modified DICOM file", &b) < 0)
        return -1;
    if (b.size == 0) {
        opy_bytes_release(&b);
        PyErr_SetString(PyExc_ValueError,
                        "the received-instance callback returned MODIFY with an empty DICOM file");
        return -1;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginCreateMemoryBuffer64(opy_context, modified, (uint64_t) b.size);
    if (code == OrthancPluginErrorCode_Success)
        memcpy(modified->data, b.data, (size_t) b.size);
    OPY_END_ALLOW_THREADS
    opy_bytes_release(&b);
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        return -1;
    }
    return (int) action;
}

static OrthancPluginReceivedInstanceAction on_received(OrthancPluginMemoryBuffer64 *modified, const void *dicom, uint64_t size, OrthancPluginInstanceOrigin origin);
OPY_STACK_THUNK(OrthancPluginReceivedInstanceAction, on_received, (OrthancPluginMemoryBuffer64 *modified; const void *dicom; uint64_t size; OrthancPluginInstanceOrigin origin;), (f->modified, f->dicom, f->size, f->origin))

static OrthancPluginReceivedInstanceAction
on_received(OrthancPluginMemoryBuffer64 *modified, const void *dicom, uint64_t size,
            OrthancPluginInstanceOrigin origin)
{
    OPY_STACK_SWITCH(on_received, (modified, dicom, size, origin));
    OrthancPluginReceivedInstanceAction action = OPY_RECEIVED_ERROR;
    PyObject *args[2] = {NULL, NULL};
    PyObject *r = NULL;
    int a, token = opy_gil_enter();

    if (token < 0)
        return OPY_RECEIVED_ERROR;                  /* stopping: refuse */
    if (size > (uint64_t) PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_OverflowError, "received DICOM file too large");
        goto fail;
    }
    args[0] = PyBytes_FromStringAndSize(dicom, (Py_ssize_t) size);
    args[1] = args[0] ? PyLong_FromLong((long) origin) : NULL;
    if (args[1] == NULL)
        goto fail;
    r = PyObject_Vectorcall(received, args, 2, NULL);
    if (r == NULL || (a = received_result(r, modified)) < 0)
        goto fail;
    action = (OrthancPluginReceivedInstanceAction) a;
    goto done;
fail:
    opy_error_report("received-instance callback (instance refused)", NULL);
done:
    Py_XDECREF(r);
    Py_XDECREF(args[0]);
    Py_XDECREF(args[1]);
    opy_gil_leave(token);
    return action;
}

static PyObject *
RegisterReceivedInstanceCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterReceivedInstanceCallback", args, nargs, kwnames);

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterReceivedInstanceCallback", NULL);
    if (f == NULL || opy_registry_check_one("RegisterReceivedInstanceCallback", f, received != NULL,
                                            "a received-instance callback") < 0)
        return NULL;
    Py_INCREF(f);
    received = f;
    OrthancPluginRegisterReceivedInstanceCallback(opy_context, on_received);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* C-STORE filter                                                      */

/* The DIMSE status in `r` (borrowed): 0 stores, 1..0xFFFF rejects; -1
 * with an exception set for anything else. */
static long
cstore_status(PyObject *r)
{
    long v;

    if (PyBool_Check(r) || !PyLong_Check(r)) {
        PyErr_Format(PyExc_TypeError,
                     "the C-STORE filter must return an int (0 stores, otherwise the DIMSE "
                     "status of the rejection), not %.100s", Py_TYPE(r)->tp_name);
        return -1;
    }
    v = PyLong_AsLong(r);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 0 || v > 0xFFFF) {
        PyErr_Format(PyExc_ValueError,
                     "the C-STORE filter returned %ld: a DIMSE status is 0..0xFFFF", v);
        return -1;
    }
    return v;
}

static int32_t on_cstore(uint16_t *dimseStatus, const OrthancPluginDicomInstance *instance);
OPY_STACK_THUNK(int32_t, on_cstore, (uint16_t *dimseStatus; const OrthancPluginDicomInstance *instance;), (f->dimseStatus, f->instance))

static int32_t
on_cstore(uint16_t *dimseStatus, const OrthancPluginDicomInstance *instance)
{
    OPY_STACK_SWITCH(on_cstore, (dimseStatus, instance));
    PyObject *dicom = NULL;
    int32_t store = 0;
    Py_ssize_t i, n;
    int token = opy_gil_enter();

    *dimseStatus = OPY_CSTORE_FAILED_STATUS;
    if (token < 0)
        return 0;                                   /* stopping: reject */
    dicom = opy_handle_new(opy_state->types[OPY_TYPE_DicomInstance], (void *) instance);
    if (dicom == NULL) {
        opy_error_report("C-STORE filter (arguments; instance rejected)", NULL);
        goto done;
    }
    store = 1;
    n = PyList_Size(cstore_filters);
    for (i = 0; i < n && store; i++) {
        PyObject *r = PyObject_CallOneArg(PyList_GetItem(cstore_filters, i), dicom);
        long status = r ? cstore_status(r) : -1;

        if (status < 0) {
            opy_error_report("C-STORE filter (instance rejected with status 0xA700)", NULL);
            *dimseStatus = OPY_CSTORE_FAILED_STATUS;
            store = 0;
        }
        else if (status > 0) {
            *dimseStatus = (uint16_t) status;
            store = 0;
        }
        Py_XDECREF(r);
    }
done:
    if (dicom != NULL)
        opy_handle_invalidate(dicom);
    Py_XDECREF(dicom);
    opy_gil_leave(token);
    return store;
}

static PyObject *
RegisterIncomingCStoreInstanceFilter(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterIncomingCStoreInstanceFilter", args, nargs, kwnames);
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterIncomingCStoreInstanceFilter", NULL);
    if (f == NULL ||
        (first = opy_registry_append(&cstore_filters, "RegisterIncomingCStoreInstanceFilter", f)) < 0)
        return NULL;
    if (first)
        OrthancPluginRegisterIncomingCStoreInstanceFilter(opy_context, on_cstore);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* DICOM instance filter (all origins)                                 */

static int32_t on_dicom(const OrthancPluginDicomInstance *instance);
OPY_STACK_THUNK(int32_t, on_dicom, (const OrthancPluginDicomInstance *instance;), (f->instance))

static int32_t
on_dicom(const OrthancPluginDicomInstance *instance)
{
    OPY_STACK_SWITCH(on_dicom, (instance));
    PyObject *dicom = NULL;
    int32_t result = -1;
    Py_ssize_t i, n;
    int token = opy_gil_enter();

    if (token < 0)
        return -1;                                  /* stopping: refuse */
    dicom = opy_handle_new(opy_state->types[OPY_TYPE_DicomInstance], (void *) instance);
    if (dicom == NULL) {
        opy_error_report("incoming DICOM instance filter (arguments; instance refused)", NULL);
        goto done;
    }
    result = 1;
    n = PyList_Size(dicom_filters);
    for (i = 0; i < n && result == 1; i++) {
        PyObject *r = PyObject_CallOneArg(PyList_GetItem(dicom_filters, i), dicom);
        int truth = r ? PyObject_IsTrue(r) : -1;

        if (truth < 0) {
            opy_error_report("incoming DICOM instance filter (instance refused)", NULL);
            result = -1;
        }
        else
            result = truth;
        Py_XDECREF(r);
    }
done:
    if (dicom != NULL)
        opy_handle_invalidate(dicom);
    Py_XDECREF(dicom);
    opy_gil_leave(token);
    return result;
}

static PyObject *
RegisterIncomingDicomInstanceFilter(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterIncomingDicomInstanceFilter", args, nargs, kwnames);
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterIncomingDicomInstanceFilter", NULL);
    if (f == NULL ||
        (first = opy_registry_append(&dicom_filters, "RegisterIncomingDicomInstanceFilter", f)) < 0)
        return NULL;
    if (first)
        OrthancPluginRegisterIncomingDicomInstanceFilter(opy_context, on_dicom);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterReceivedInstanceCallback", (PyCFunction) (void (*)(void)) RegisterReceivedInstanceCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterReceivedInstanceCallback($module, /, callback)\n--\n\n"
     "Call callback(receivedDicom: bytes, origin: int) for each received instance, before it is\n"
     "stored; it returns (orthanc.ReceivedInstanceAction, bytes or None): KEEP_AS_IS, DISCARD,\n"
     "or MODIFY with the bytes to store instead. An exception or a bad return value refuses\n"
     "the instance with an error. Only one callback may be registered."},
    {"RegisterIncomingCStoreInstanceFilter", (PyCFunction) (void (*)(void)) RegisterIncomingCStoreInstanceFilter,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterIncomingCStoreInstanceFilter($module, /, callback)\n--\n\n"
     "Call callback(instance: orthanc.DicomInstance) for each instance received by C-STORE:\n"
     "0 stores it, a non-zero DIMSE status rejects it with that status. An exception or a\n"
     "bad return value rejects it with 0xA700. May be called several times."},
    {"RegisterIncomingDicomInstanceFilter", (PyCFunction) (void (*)(void)) RegisterIncomingDicomInstanceFilter,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterIncomingDicomInstanceFilter($module, /, callback)\n--\n\n"
     "Call callback(instance: orthanc.DicomInstance) for each received instance, whatever its\n"
     "origin: a true result stores it, a false one discards it; an exception refuses it with\n"
     "an error. May be called several times: all filters must accept."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_received_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_received_finalize(void)
{
    Py_CLEAR(received);
    Py_CLEAR(cstore_filters);
    Py_CLEAR(dicom_filters);
}
