/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_storage_commitment.c - orthanc.RegisterStorageCommitmentScpCallback
 * and (SDK 1.12.10, header and running Orthanc)
 * orthanc.RegisterStorageCommitmentScpCallback2: the storage commitment SCP
 * of Orthanc handled in Python.
 *
 * Python signatures (as the official plugin, 4.1):
 *   factory(jobId: str, transactionUid: str, sopClassUids: list[str],
 *           sopInstanceUids: list[str], remoteAet: str, calledAet: str) -> data
 *   lookup(sopClassUid: str, sopInstanceUid: str, data)
 *       -> orthanc.StorageCommitmentFailureReason value (int)
 * all positional. v2 (official 7.1 convention): factory(jobId,
 * transactionUid, sopClassUids, sopInstanceUids,
 * connection: orthanc.DicomConnection), the connection borrowed: valid only
 * during the factory (not in the lookups); lookup as v1.
 * `data` is any Python object returned by the factory; the
 * plugin keeps a reference to it until Orthanc destroys the handler of the
 * request (after the last lookup), then drops it.
 * Thread: an Orthanc jobs thread, the one running the StorageCommitmentScp
 * job of the request: the factory, then one lookup per queried instance, in
 * request order. `data` is dropped when Orthanc destroys the job (it keeps
 * finished jobs in its history, "JobsHistorySize"), with the GIL held.
 * Errors (fail closed: an instance is never reported committed by mistake):
 * - an exception in the factory: traceback logged once (OPY0010), lookup is
 *   not called and every instance of the request is reported
 *   PROCESSING_FAILURE, so that the SCU still gets its report;
 * - an exception in lookup, or a return value that is not an int of
 *   orthanc.StorageCommitmentFailureReason (bool refused too), reports that
 *   instance as PROCESSING_FAILURE; the traceback is logged once (OPY0010)
 *   and the next instances are still looked up.
 * Both forms follow these rules (unlike the official 7.1, whose v1 and v2
 * report success to Orthanc when the factory or a lookup raises, so that
 * Orthanc's own lookup, or an unset status, decides the instances).
 * One registration, one slot for both forms (as 7.1): a second call of
 * either raises RuntimeError.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_cb_scp.h"
#include "opy_enums.h"
#include "opy_async.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static PyObject *factory_callable;  /* strong references or NULL */
static PyObject *lookup_callable;

/* Handler of a request whose factory raised: every instance fails. */
static char factory_failed;

/* A str for an optional C string ("" for NULL). New reference or NULL. */
static PyObject *
str_or_empty(const char *s)
{
    if (s == NULL)
        s = "";
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
}

/* A list of n str. New reference or NULL with an exception set. */
static PyObject *
str_list(const char *const *items, uint32_t n)
{
    PyObject *list = PyList_New((Py_ssize_t) n);
    uint32_t i;

    if (list == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *s = str_or_empty(items ? items[i] : NULL);

        if (s == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SetItem(list, (Py_ssize_t) i, s);        /* steals s */
    }
    return list;
}

/* The handler given to Orthanc is the PyObject* returned by the factory
 * (a strong reference, dropped by on_destroy), or &factory_failed. Never
 * fails: a failing factory makes every instance a PROCESSING_FAILURE.
 * v1: factory(jobId, transactionUid, sopClassUids, sopInstanceUids,
 * remoteAet, calledAet); v2: factory(jobId, transactionUid, sopClassUids,
 * sopInstanceUids, connection). */
static OrthancPluginErrorCode call_factory(void **handler, const char *jobId, const char *transactionUid, const char *const *sopClassUids, const char *const *sopInstanceUids, uint32_t countInstances, const char *remoteAet, const char *calledAet, int v2, const void *connection);
OPY_STACK_THUNK(OrthancPluginErrorCode, call_factory, (void **handler; const char *jobId; const char *transactionUid; const char *const *sopClassUids; const char *const *sopInstanceUids; uint32_t countInstances; const char *remoteAet; const char *calledAet; int v2; const void *connection;), (f->handler, f->jobId, f->transactionUid, f->sopClassUids, f->sopInstanceUids, f->countInstances, f->remoteAet, f->calledAet, f->v2, f->connection))

static OrthancPluginErrorCode
call_factory(void **handler, const char *jobId, const char *transactionUid,
             const char *const *sopClassUids, const char *const *sopInstanceUids,
             uint32_t countInstances, const char *remoteAet, const char *calledAet, int v2,
             const void *connection)
{
    OPY_STACK_SWITCH(call_factory, (handler, jobId, transactionUid, sopClassUids, sopInstanceUids, countInstances, remoteAet, calledAet, v2, connection));
    PyObject *a[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    PyObject *r = NULL;
    int i, n = v2 ? 5 : 6, token = opy_gil_enter();

    *handler = &factory_failed;
    if (token < 0)
        return OrthancPluginErrorCode_Success;          /* stopping: every instance fails */
    a[0] = str_or_empty(jobId);
    a[1] = a[0] ? str_or_empty(transactionUid) : NULL;
    a[2] = a[1] ? str_list(sopClassUids, countInstances) : NULL;
    a[3] = a[2] ? str_list(sopInstanceUids, countInstances) : NULL;
    if (a[3] != NULL && v2)
        a[4] = opy_scp_connection_new(connection);
    else if (a[3] != NULL) {
        a[4] = str_or_empty(remoteAet);
        a[5] = a[4] ? str_or_empty(calledAet) : NULL;
    }
    if (a[n - 1] != NULL)
        r = PyObject_Vectorcall(factory_callable, a, (size_t) n, NULL);
    if (r == NULL) {
        opy_error_report("storage commitment factory (every instance reported as "
                         "PROCESSING_FAILURE)", NULL);
    }
    else
        *handler = r;   /* the reference goes to Orthanc's handler */
    if (v2 && a[4] != NULL)
        opy_handle_invalidate(a[4]);                    /* the connection expires here */
    for (i = 0; i < 6; i++)
        Py_XDECREF(a[i]);
    opy_gil_leave(token);
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
on_factory(void **handler, const char *jobId, const char *transactionUid,
           const char *const *sopClassUids, const char *const *sopInstanceUids,
           uint32_t countInstances, const char *remoteAet, const char *calledAet)
{
    return call_factory(handler, jobId, transactionUid, sopClassUids, sopInstanceUids,
                        countInstances, remoteAet, calledAet, 0, NULL);
}

#if OPY_HAVE_SCP2
static OrthancPluginErrorCode
on_factory2(void **handler, const char *jobId, const char *transactionUid,
            const char *const *sopClassUids, const char *const *sopInstanceUids,
            uint32_t countInstances, const OrthancPluginDicomConnection *connection)
{
    return call_factory(handler, jobId, transactionUid, sopClassUids, sopInstanceUids,
                        countInstances, NULL, NULL, 1, connection);
}
#endif

static void on_destroy(void *handler);
OPY_STACK_THUNK_VOID(on_destroy, (void *handler;), (f->handler))

static void
on_destroy(void *handler)
{
    OPY_STACK_SWITCH_VOID(on_destroy, (handler));
    int token;

    if (handler == NULL || handler == &factory_failed)
        return;
    token = opy_gil_enter();
    if (token < 0)
        return;     /* Python is gone: the object cannot be released */
    Py_DECREF((PyObject *) handler);
    opy_gil_leave(token);
}

static OrthancPluginErrorCode on_lookup(OrthancPluginStorageCommitmentFailureReason *target, void *handler, const char *sopClassUid, const char *sopInstanceUid);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_lookup, (OrthancPluginStorageCommitmentFailureReason *target; void *handler; const char *sopClassUid; const char *sopInstanceUid;), (f->target, f->handler, f->sopClassUid, f->sopInstanceUid))

static OrthancPluginErrorCode
on_lookup(OrthancPluginStorageCommitmentFailureReason *target, void *handler,
          const char *sopClassUid, const char *sopInstanceUid)
{
    OPY_STACK_SWITCH(on_lookup, (target, handler, sopClassUid, sopInstanceUid));
    PyObject *a[3] = {NULL, NULL, (PyObject *) handler};
    PyObject *r = NULL;
    long long v = OrthancPluginStorageCommitmentFailureReason_ProcessingFailure;
    int token;

    *target = OrthancPluginStorageCommitmentFailureReason_ProcessingFailure;
    if (handler == &factory_failed)
        return OrthancPluginErrorCode_Success;          /* already logged */
    token = opy_gil_enter();
    if (token < 0)
        return OrthancPluginErrorCode_Success;          /* stopping: that instance failed */
    a[0] = str_or_empty(sopClassUid);
    a[1] = a[0] ? str_or_empty(sopInstanceUid) : NULL;
    if (a[1] == NULL)
        goto error;
    r = PyObject_Vectorcall(lookup_callable, a, 3, NULL);
    if (r == NULL)
        goto error;
    if (PyBool_Check(r)) {
        PyErr_Format(PyExc_TypeError, "the storage commitment lookup callback must return a "
                     "value of orthanc.StorageCommitmentFailureReason, not %R", r);
        goto error;
    }
    if (opy_enum_get(r, "the value returned by the storage commitment lookup callback",
                     &opy_gen_enums[OPY_ENUM_StorageCommitmentFailureReason], &v) < 0)
        goto error;
    *target = (OrthancPluginStorageCommitmentFailureReason) v;
    goto done;
error:
    {
        char where[400];

        snprintf(where, sizeof where, "storage commitment lookup of %.200s "
                 "(reported as PROCESSING_FAILURE)", sopInstanceUid ? sopInstanceUid : "");
        opy_error_report(where, NULL);
    }
done:
    Py_XDECREF(a[0]);
    Py_XDECREF(a[1]);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return OrthancPluginErrorCode_Success;
}

/* RegisterStorageCommitmentScpCallback (v2 = 0) and ...2 (v2 = 1): one slot. */
static PyObject *
register_scp(const char *fname, int v2, PyObject *const *args, Py_ssize_t nargs,
             PyObject *kwnames)
{
    static const char *const names[] = {"factory", "lookup"};
    PyObject *a[2];
    OrthancPluginErrorCode code;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 2, 2, a) < 0)
        return NULL;
    if (opy_registry_check(fname, a[0]) < 0 ||
        opy_registry_check_one(fname, a[1], factory_callable != NULL,
                               "a storage commitment SCP callback") < 0)
        return NULL;
#if OPY_HAVE_SCP2
    if (v2)
        code = OrthancPluginRegisterStorageCommitmentScpCallback2(opy_context, on_factory2,
                                                                  on_destroy, on_lookup);
    else
#endif
        code = OrthancPluginRegisterStorageCommitmentScpCallback(opy_context, on_factory,
                                                                 on_destroy, on_lookup);
    (void) v2;
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    if ((a[0] = opy_async_adapt(a[0])) == NULL || (a[1] = opy_async_adapt(a[1])) == NULL)
        return NULL;
    factory_callable = Py_NewRef(a[0]);
    lookup_callable = Py_NewRef(a[1]);
    Py_RETURN_NONE;
}

static PyObject *
RegisterStorageCommitmentScpCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterStorageCommitmentScpCallback", NULL);
    return register_scp("RegisterStorageCommitmentScpCallback", 0, args, nargs, kwnames);
}

#if OPY_HAVE_SCP2
static PyObject *
RegisterStorageCommitmentScpCallback2(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                      PyObject *kwnames)
{
    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterStorageCommitmentScpCallback2", NULL);
    if (opy_sdk_require(OPY_SCP2_SINCE, "RegisterStorageCommitmentScpCallback2") < 0)
        return NULL;
    return register_scp("RegisterStorageCommitmentScpCallback2", 1, args, nargs, kwnames);
}
#endif

static PyMethodDef methods[] = {
    {"RegisterStorageCommitmentScpCallback",
     (PyCFunction) (void (*)(void)) RegisterStorageCommitmentScpCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterStorageCommitmentScpCallback($module, /, factory, lookup)\n--\n\n"
     "Handle the storage commitment requests received by Orthanc: for each request Orthanc\n"
     "calls data = factory(jobId, transactionUid, sopClassUids, sopInstanceUids, remoteAet,\n"
     "calledAet), then lookup(sopClassUid, sopInstanceUid, data) for each instance, which\n"
     "returns an orthanc.StorageCommitmentFailureReason (an exception or another value reports\n"
     "the instance as PROCESSING_FAILURE). Only one handler can be registered."},
#if OPY_HAVE_SCP2
    {"RegisterStorageCommitmentScpCallback2",
     (PyCFunction) (void (*)(void)) RegisterStorageCommitmentScpCallback2,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterStorageCommitmentScpCallback2($module, /, factory, lookup)\n--\n\n"
     "Handle the storage commitment requests received by Orthanc, with the calling\n"
     "connection: for each request Orthanc calls data = factory(jobId, transactionUid,\n"
     "sopClassUids, sopInstanceUids, connection) (connection: orthanc.DicomConnection, valid\n"
     "only during that call), then lookup(sopClassUid, sopInstanceUid, data) for each\n"
     "instance, as RegisterStorageCommitmentScpCallback. An exception reports the instances as\n"
     "PROCESSING_FAILURE. Only one handler (this or RegisterStorageCommitmentScpCallback) can\n"
     "be registered. Needs Orthanc 1.12.10."},
#endif
    {NULL, NULL, 0, NULL}
};

int
opy_cb_storage_commitment_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_storage_commitment_finalize(void)
{
    Py_CLEAR(factory_callable);
    Py_CLEAR(lookup_callable);
}
