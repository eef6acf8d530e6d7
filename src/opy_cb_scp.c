/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_scp.c - the C-FIND and C-MOVE SCP of Orthanc handled in Python:
 * orthanc.RegisterFindCallback, orthanc.RegisterMoveCallback and
 * orthanc.RegisterMoveCallback2.
 *
 * C-FIND. Python signature (as the official plugin):
 *   callback(answers: orthanc.FindAnswers, query: orthanc.FindQuery,
 *            issuerAet: str, calledAet: str), positional.
 * `answers` and `query` are borrowed: valid only during the call (later use
 * raises ValueError). Thread: the Orthanc DICOM thread of the association
 * (Orthanc serialises the C-FIND callbacks). Return value: ignored. An
 * exception makes the C-FIND fail (the SCU gets a failure status), its
 * traceback is logged once (OPY0010).
 *
 * C-MOVE, RegisterMoveCallback(callback) (official convention): one
 * sub-operation per request, during which
 *   callback(Level=str, PatientID=str, AccessionNumber=str,
 *            StudyInstanceUID=str, SeriesInstanceUID=str, SOPInstanceUID=str,
 *            OriginatorAET=str, SourceAET=str, TargetAET=str,
 *            OriginatorID=int)
 * is called with keyword arguments only; absent values are "" (Level is
 * "PATIENT", "STUDY", "SERIES", "INSTANCE", or "" when the request had no
 * QueryRetrieveLevel). Return value: ignored. An exception makes the C-MOVE
 * fail (the sub-operation is counted as failed), traceback logged once.
 *
 * C-MOVE, RegisterMoveCallback2(create, getMoveSize, applyMove, free): the
 * SDK's driver model. create(**same keywords) returns any Python object,
 * the driver; getMoveSize(driver) -> int (number of sub-operations,
 * 0..2**32-1); applyMove(driver) runs the next sub-operation (return value
 * ignored, raise on failure); free(driver) is called once when Orthanc is
 * done with it (also after failures). An exception in create makes the
 * C-MOVE fail before any sub-operation; a failing getMoveSize (exception or
 * not an int in range) makes the C-MOVE fail with one failed sub-operation,
 * without calling applyMove; an exception in applyMove fails that
 * sub-operation; an exception in free is logged. Every failure logs its
 * traceback once (OPY0010).
 * Thread: the Orthanc DICOM thread of the association, for all four.
 *
 * One registration each: a second RegisterFindCallback, or a second C-MOVE
 * registration (either form), raises RuntimeError.
 */
#include "opy_python.h"
#include "opy_stack.h"
#include "opy_cb_scp.h"
#include "opy_args.h"
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
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MOVE_NARGS 10

static PyObject *find_callable;     /* strong reference or NULL */
static PyObject *move_callable;     /* RegisterMoveCallback: strong reference or NULL */
static PyObject *move_create;       /* RegisterMoveCallback2: strong references or NULL */
static PyObject *move_size;
static PyObject *move_apply;
static PyObject *move_free;
static PyObject *move_kwnames;      /* the MOVE_NARGS keyword names (tuple) */

/* ------------------------------------------------------------ C-FIND */

/* A str for an optional C string ("" for NULL). New reference or NULL. */
static PyObject *
aet(const char *s)
{
    if (s == NULL)
        s = "";
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
}

OPY_STACK_THUNK(OrthancPluginErrorCode, opy_scp_call_query, (PyObject *callable; const char *what; int answers_type; void *answers; int query_type; const void *query; const char *issuerAet; const char *calledAet;), (f->callable, f->what, f->answers_type, f->answers, f->query_type, f->query, f->issuerAet, f->calledAet))

OrthancPluginErrorCode
opy_scp_call_query(PyObject *callable, const char *what, int answers_type, void *answers,
                   int query_type, const void *query, const char *issuerAet, const char *calledAet)
{
    OPY_STACK_SWITCH(opy_scp_call_query, (callable, what, answers_type, answers, query_type, query, issuerAet, calledAet));
    PyObject *a = NULL, *q = NULL, *issuer = NULL, *called = NULL, *r = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Plugin;
    int token = opy_gil_enter();
    char where[64];

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;           /* stopping: fail */
    a = opy_handle_new(opy_state->types[answers_type], answers);
    q = a ? opy_handle_new(opy_state->types[query_type], (void *) query) : NULL;
    issuer = q ? aet(issuerAet) : NULL;
    called = issuer ? aet(calledAet) : NULL;
    if (called == NULL) {
        snprintf(where, sizeof where, "%s (arguments)", what);
        code = opy_error_report(where, NULL);
        goto done;
    }
    r = PyObject_CallFunctionObjArgs(callable, a, q, issuer, called, NULL);
    if (r == NULL) {
        code = opy_error_report(what, NULL);
        goto done;
    }
    code = OrthancPluginErrorCode_Success;
done:
    if (a != NULL)
        opy_handle_invalidate(a);
    if (q != NULL)
        opy_handle_invalidate(q);
    Py_XDECREF(r);
    Py_XDECREF(a);
    Py_XDECREF(q);
    Py_XDECREF(issuer);
    Py_XDECREF(called);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode
on_find(OrthancPluginFindAnswers *answers, const OrthancPluginFindQuery *query,
        const char *issuerAet, const char *calledAet)
{
    return opy_scp_call_query(find_callable, "C-FIND callback", OPY_TYPE_FindAnswers, answers,
                              OPY_TYPE_FindQuery, query, issuerAet, calledAet);
}

/* ------------------------------------------------------------ C-MOVE */

/* What Orthanc holds between the calls of one C-MOVE request. */
typedef struct {
    PyObject *args[MOVE_NARGS];     /* RegisterMoveCallback: keyword values (owned) */
    PyObject *driver;               /* RegisterMoveCallback2: create()'s result (owned) */
    int size_failed;                /* getMoveSize failed: applyMove reports it */
} MoveDriver;

/* A str for an optional C string ("" for NULL). New reference or NULL. */
static PyObject *
str_or_empty(const char *s)
{
    if (s == NULL)
        s = "";
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
}

static const char *
level_name(OrthancPluginResourceType level)
{
    switch (level) {
    case OrthancPluginResourceType_Patient:  return "PATIENT";
    case OrthancPluginResourceType_Study:    return "STUDY";
    case OrthancPluginResourceType_Series:   return "SERIES";
    case OrthancPluginResourceType_Instance: return "INSTANCE";
    default:                                 return "";
    }
}

/* Fills out[MOVE_NARGS] with new references; 0, or -1 with an exception set
 * (then out[] holds what was made, to be released by the caller). */
static int
move_values(PyObject **out, OrthancPluginResourceType resourceType, const char *patientId,
            const char *accessionNumber, const char *studyInstanceUid,
            const char *seriesInstanceUid, const char *sopInstanceUid,
            const char *originatorAet, const char *sourceAet, const char *targetAet,
            uint16_t originatorId)
{
    const char *s[MOVE_NARGS - 1] = {level_name(resourceType), patientId, accessionNumber,
                                     studyInstanceUid, seriesInstanceUid, sopInstanceUid,
                                     originatorAet, sourceAet, targetAet};
    int i;

    for (i = 0; i < MOVE_NARGS - 1; i++) {
        if ((out[i] = str_or_empty(s[i])) == NULL)
            return -1;
    }
    out[MOVE_NARGS - 1] = PyLong_FromLong((long) originatorId);
    return out[MOVE_NARGS - 1] == NULL ? -1 : 0;
}

/* Drops the Python references of d (GIL held) and frees it. */
static void
driver_free(MoveDriver *d)
{
    int i;

    for (i = 0; i < MOVE_NARGS; i++)
        Py_XDECREF(d->args[i]);
    Py_XDECREF(d->driver);
    free(d);
}

static void * on_move_create(OrthancPluginResourceType resourceType, const char *patientId, const char *accessionNumber, const char *studyInstanceUid, const char *seriesInstanceUid, const char *sopInstanceUid, const char *originatorAet, const char *sourceAet, const char *targetAet, uint16_t originatorId);
OPY_STACK_THUNK(void *, on_move_create, (OrthancPluginResourceType resourceType; const char *patientId; const char *accessionNumber; const char *studyInstanceUid; const char *seriesInstanceUid; const char *sopInstanceUid; const char *originatorAet; const char *sourceAet; const char *targetAet; uint16_t originatorId;), (f->resourceType, f->patientId, f->accessionNumber, f->studyInstanceUid, f->seriesInstanceUid, f->sopInstanceUid, f->originatorAet, f->sourceAet, f->targetAet, f->originatorId))

static void *
on_move_create(OrthancPluginResourceType resourceType, const char *patientId,
               const char *accessionNumber, const char *studyInstanceUid,
               const char *seriesInstanceUid, const char *sopInstanceUid,
               const char *originatorAet, const char *sourceAet, const char *targetAet,
               uint16_t originatorId)
{
    OPY_STACK_SWITCH(on_move_create, (resourceType, patientId, accessionNumber, studyInstanceUid, seriesInstanceUid, sopInstanceUid, originatorAet, sourceAet, targetAet, originatorId));
    MoveDriver *d = NULL;
    int token = opy_gil_enter();

    if (token < 0)
        return NULL;                                    /* stopping: fail */
    d = calloc(1, sizeof *d);
    if (d == NULL) {
        PyErr_NoMemory();
        opy_error_report("C-MOVE callback (arguments)", NULL);
        goto done;
    }
    if (move_values(d->args, resourceType, patientId, accessionNumber, studyInstanceUid,
                    seriesInstanceUid, sopInstanceUid, originatorAet, sourceAet, targetAet,
                    originatorId) < 0) {
        opy_error_report("C-MOVE callback (arguments)", NULL);
        driver_free(d);
        d = NULL;
        goto done;
    }
    if (move_create != NULL) {
        int i;

        d->driver = PyObject_Vectorcall(move_create, d->args, 0, move_kwnames);
        for (i = 0; i < MOVE_NARGS; i++)
            Py_CLEAR(d->args[i]);
        if (d->driver == NULL) {
            opy_error_report("C-MOVE create callback", NULL);
            driver_free(d);
            d = NULL;
        }
    }
done:
    opy_gil_leave(token);
    return d;       /* NULL: Orthanc fails the C-MOVE */
}

static uint32_t on_move_size(void *moveDriver);
OPY_STACK_THUNK(uint32_t, on_move_size, (void *moveDriver;), (f->moveDriver))

static uint32_t
on_move_size(void *moveDriver)
{
    OPY_STACK_SWITCH(on_move_size, (moveDriver));
    MoveDriver *d = moveDriver;
    PyObject *r = NULL;
    unsigned long long n = 1;
    int token;

    if (move_create == NULL)
        return 1;                                       /* RegisterMoveCallback */
    token = opy_gil_enter();
    if (token < 0) {
        d->size_failed = 1;
        return 1;
    }
    r = PyObject_CallOneArg(move_size, d->driver);
    if (r != NULL && !PyLong_Check(r))
        PyErr_Format(PyExc_TypeError, "the getMoveSize callback must return an int, not %.100s",
                     Py_TYPE(r)->tp_name);
    else if (r != NULL) {
        n = PyLong_AsUnsignedLongLong(r);
        if (n == (unsigned long long) -1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError,
                         "the getMoveSize callback must return an int in [0, %lu], not %R",
                         (unsigned long) UINT32_MAX, r);
        }
        else if (n > UINT32_MAX)
            PyErr_Format(PyExc_ValueError,
                         "the getMoveSize callback must return an int in [0, %lu], not %R",
                         (unsigned long) UINT32_MAX, r);
    }
    if (PyErr_Occurred()) {
        opy_error_report("C-MOVE getMoveSize callback (the C-MOVE fails)", NULL);
        d->size_failed = 1;
        n = 1;      /* one sub-operation, which applyMove reports as failed */
    }
    Py_XDECREF(r);
    opy_gil_leave(token);
    return (uint32_t) n;
}

static OrthancPluginErrorCode on_move_apply(void *moveDriver);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_move_apply, (void *moveDriver;), (f->moveDriver))

static OrthancPluginErrorCode
on_move_apply(void *moveDriver)
{
    OPY_STACK_SWITCH(on_move_apply, (moveDriver));
    MoveDriver *d = moveDriver;
    PyObject *r = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Plugin;
    int token;

    if (d->size_failed)
        return OrthancPluginErrorCode_Plugin;           /* already logged */
    token = opy_gil_enter();
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    if (move_create != NULL)
        r = PyObject_CallOneArg(move_apply, d->driver);
    else
        r = PyObject_Vectorcall(move_callable, d->args, 0, move_kwnames);
    if (r == NULL)
        code = opy_error_report(move_create ? "C-MOVE applyMove callback" : "C-MOVE callback", NULL);
    else
        code = OrthancPluginErrorCode_Success;
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

static void on_move_free(void *moveDriver);
OPY_STACK_THUNK_VOID(on_move_free, (void *moveDriver;), (f->moveDriver))

static void
on_move_free(void *moveDriver)
{
    OPY_STACK_SWITCH_VOID(on_move_free, (moveDriver));
    MoveDriver *d = moveDriver;
    int token;

    if (d == NULL)
        return;
    token = opy_gil_enter();
    if (token < 0) {
        free(d);    /* Python is gone: its objects cannot be released */
        return;
    }
    if (move_free != NULL) {
        PyObject *r = PyObject_CallOneArg(move_free, d->driver);

        if (r == NULL)
            opy_error_report("C-MOVE free callback", NULL);
        Py_XDECREF(r);
    }
    driver_free(d);
    opy_gil_leave(token);
}

/* ------------------------------------------------------------ registration */

static PyObject *
RegisterFindCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterFindCallback", args, nargs, kwnames);
    OrthancPluginErrorCode code;

    (void) module;
    if (f == NULL || opy_registry_check_one("RegisterFindCallback", f, find_callable != NULL,
                                            "a C-FIND callback") < 0)
        return NULL;
    code = OrthancPluginRegisterFindCallback(opy_context, on_find);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    find_callable = Py_NewRef(f);
    Py_RETURN_NONE;
}

static PyObject *
RegisterMoveCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterMoveCallback", args, nargs, kwnames);
    PyObject *slot = move_callable ? move_callable : move_create;   /* borrowed */
    OrthancPluginErrorCode code;

    (void) module;
    if (f == NULL || opy_registry_check_one("RegisterMoveCallback", f, slot != NULL,
                                            "a C-MOVE callback") < 0)
        return NULL;
    code = OrthancPluginRegisterMoveCallback(opy_context, on_move_create, on_move_size,
                                             on_move_apply, on_move_free);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    move_callable = Py_NewRef(f);
    Py_RETURN_NONE;
}

static PyObject *
RegisterMoveCallback2(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"create", "getMoveSize", "applyMove", "free"};
    PyObject *a[4];
    PyObject *slot = move_callable ? move_callable : move_create;   /* borrowed */
    OrthancPluginErrorCode code;
    int i;

    (void) module;
    if (opy_args_parse("RegisterMoveCallback2", args, nargs, kwnames, names, 4, 4, a) < 0)
        return NULL;
    for (i = 0; i < 4; i++) {
        if (opy_registry_check_one("RegisterMoveCallback2", a[i], slot != NULL, "a C-MOVE callback") < 0)
            return NULL;
    }
    for (i = 0; i < 4; i++)
        if ((a[i] = opy_async_adapt(a[i])) == NULL)
            return NULL;
    code = OrthancPluginRegisterMoveCallback(opy_context, on_move_create, on_move_size,
                                             on_move_apply, on_move_free);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    move_create = Py_NewRef(a[0]);
    move_size = Py_NewRef(a[1]);
    move_apply = Py_NewRef(a[2]);
    move_free = Py_NewRef(a[3]);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterFindCallback", (PyCFunction) (void (*)(void)) RegisterFindCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterFindCallback($module, /, callback)\n--\n\n"
     "Handle the C-FIND requests received by Orthanc (other than worklists): Orthanc calls\n"
     "callback(answers, query, issuerAet, calledAet); answers (orthanc.FindAnswers) and query\n"
     "(orthanc.FindQuery) are valid only during the call. An exception fails the C-FIND.\n"
     "Only one C-FIND callback can be registered."},
    {"RegisterMoveCallback", (PyCFunction) (void (*)(void)) RegisterMoveCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterMoveCallback($module, /, callback)\n--\n\n"
     "Handle the C-MOVE requests received by Orthanc: each request is one sub-operation that\n"
     "calls callback(Level=, PatientID=, AccessionNumber=, StudyInstanceUID=,\n"
     "SeriesInstanceUID=, SOPInstanceUID=, OriginatorAET=, SourceAET=, TargetAET= (str, \"\" when\n"
     "absent), OriginatorID= (int)). An exception fails the C-MOVE. Only one C-MOVE handler\n"
     "(this or RegisterMoveCallback2) can be registered."},
    {"RegisterMoveCallback2", (PyCFunction) (void (*)(void)) RegisterMoveCallback2,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterMoveCallback2($module, /, create, getMoveSize, applyMove, free)\n--\n\n"
     "Handle the C-MOVE requests received by Orthanc with a driver object:\n"
     "driver = create(**same keywords as RegisterMoveCallback), getMoveSize(driver) -> number of\n"
     "sub-operations, applyMove(driver) once per sub-operation (raise on failure), free(driver)\n"
     "at the end. Only one C-MOVE handler can be registered."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_scp_init(PyObject *module)
{
    move_kwnames = Py_BuildValue("(ssssssssss)", "Level", "PatientID", "AccessionNumber",
                                 "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                                 "OriginatorAET", "SourceAET", "TargetAET", "OriginatorID");
    if (move_kwnames == NULL)
        return -1;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_scp_finalize(void)
{
    Py_CLEAR(find_callable);
    Py_CLEAR(move_callable);
    Py_CLEAR(move_create);
    Py_CLEAR(move_size);
    Py_CLEAR(move_apply);
    Py_CLEAR(move_free);
    Py_CLEAR(move_kwnames);
}
