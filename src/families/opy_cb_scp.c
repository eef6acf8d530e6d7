/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_scp.c - the C-FIND and C-MOVE SCP of Orthanc handled in Python:
 * orthanc.RegisterFindCallback, orthanc.RegisterMoveCallback,
 * orthanc.RegisterMoveCallback2 and, with SDK 1.12.10 (header and running
 * Orthanc), orthanc.RegisterFindCallback2 and orthanc.RegisterMoveCallback3.
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
 * C-FIND v2, RegisterFindCallback2(callback) (official 7.1 convention):
 *   callback(answers, query, connection: orthanc.DicomConnection),
 * positional, all three borrowed; otherwise as v1. It shares the slot of
 * v1: Orthanc accepts one C-FIND handler, v1 or v2 (the official 7.1 has
 * two slots and ignores the core's refusal of the second).
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
 *
 * C-MOVE v3, RegisterMoveCallback3(callback, get_move_size, apply_move,
 * free_move) (official 7.1 convention, on the SDK's
 * OrthancPluginRegisterMoveCallback2): callback(connection, Level=,
 * PatientID=, AccessionNumber=, StudyInstanceUID=, SeriesInstanceUID=,
 * SOPInstanceUID=, TargetAET=, OriginatorID=): the borrowed
 * orthanc.DicomConnection is the one positional argument, valid only during
 * that call (not in the three others); no OriginatorAET / SourceAET (the
 * connection's remote and called AETs). The three others and every error
 * rule are those of RegisterMoveCallback2.
 * Thread: the Orthanc DICOM thread of the association, for all of them.
 *
 * One registration each: a second C-FIND registration (either form) or a
 * second C-MOVE registration (any of the three forms: they share one slot)
 * raises RuntimeError.
 */
#include "opy_python.h"
#include "opy_interps.h"
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
static PyObject *move_create;       /* RegisterMoveCallback2 or 3: strong references or NULL */
static PyObject *move_size;
static PyObject *move_apply;
static PyObject *move_free;
static PyObject *move_kwnames;      /* the MOVE_NARGS keyword names (tuple) */
static const char *move_size_what = "getMoveSize";  /* names in messages: v2's or v3's */
static const char *move_apply_what = "C-MOVE applyMove callback";
static const char *move_free_what = "C-MOVE free callback";
#if OPY_HAVE_SCP2
static PyObject *find2_callable;    /* RegisterFindCallback2: strong reference or NULL */
static PyObject *move3_kwnames;     /* the MOVE3_NKW keyword names of v3's create (tuple) */
#endif

#define MOVE3_NKW 8

/* ------------------------------------------------------------ C-FIND */

/* A str for an optional C string ("" for NULL). New reference or NULL. */
static PyObject *
aet(const char *s)
{
    if (s == NULL)
        s = "";
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "surrogateescape");
}

PyObject *
opy_scp_connection_new(const void *connection)
{
#if OPY_HAVE_SCP2
    return opy_handle_new(opy_state->types[OPY_TYPE_DicomConnection], (void *) connection);
#else
    (void) connection;
    PyErr_SetString(PyExc_SystemError, "this build has no orthanc.DicomConnection");
    return NULL;
#endif
}

/* The C-FIND and worklist calls: callable(answers, query, issuerAet,
 * calledAet), or with v2 callable(answers, query, connection). */
static OrthancPluginErrorCode call_query(PyObject *callable, const char *what, int answers_type, void *answers, int query_type, const void *query, const char *issuerAet, const char *calledAet, int v2, const void *connection);
OPY_STACK_THUNK(OrthancPluginErrorCode, call_query, (PyObject *callable; const char *what; int answers_type; void *answers; int query_type; const void *query; const char *issuerAet; const char *calledAet; int v2; const void *connection;), (f->callable, f->what, f->answers_type, f->answers, f->query_type, f->query, f->issuerAet, f->calledAet, f->v2, f->connection))

static OrthancPluginErrorCode
call_query(PyObject *callable, const char *what, int answers_type, void *answers,
           int query_type, const void *query, const char *issuerAet, const char *calledAet,
           int v2, const void *connection)
{
    OPY_STACK_SWITCH(call_query, (callable, what, answers_type, answers, query_type, query, issuerAet, calledAet, v2, connection));
    PyObject *argv[4] = {NULL, NULL, NULL, NULL};   /* answers, query, then the AETs or the connection */
    PyObject *r = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Plugin;
    int i, n = v2 ? 3 : 4, token = opy_gil_enter();
    char where[64];

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;           /* stopping: fail */
    argv[0] = opy_handle_new(opy_state->types[answers_type], answers);
    argv[1] = argv[0] ? opy_handle_new(opy_state->types[query_type], (void *) query) : NULL;
    if (argv[1] != NULL && v2)
        argv[2] = opy_scp_connection_new(connection);
    else if (argv[1] != NULL) {
        argv[2] = aet(issuerAet);
        argv[3] = argv[2] ? aet(calledAet) : NULL;
    }
    if (argv[n - 1] == NULL) {
        snprintf(where, sizeof where, "%s (arguments)", what);
        code = opy_error_report(where, NULL);
        goto done;
    }
    r = PyObject_Vectorcall(callable, argv, (size_t) n, NULL);
    if (r == NULL) {
        code = opy_error_report(what, NULL);
        goto done;
    }
    code = OrthancPluginErrorCode_Success;
done:
    /* the handles (answers, query, connection) expire with the callback */
    for (i = 0; i < 3; i++)
        if (argv[i] != NULL && (i < 2 || v2))
            opy_handle_invalidate(argv[i]);
    Py_XDECREF(r);
    for (i = 0; i < 4; i++)
        Py_XDECREF(argv[i]);
    opy_gil_leave(token);
    return code;
}

OrthancPluginErrorCode
opy_scp_call_query(PyObject *callable, const char *what, int answers_type, void *answers,
                   int query_type, const void *query, const char *issuerAet, const char *calledAet)
{
    return call_query(callable, what, answers_type, answers, query_type, query, issuerAet,
                      calledAet, 0, NULL);
}

OrthancPluginErrorCode
opy_scp_call_query2(PyObject *callable, const char *what, int answers_type, void *answers,
                    int query_type, const void *query, const void *connection)
{
    return call_query(callable, what, answers_type, answers, query_type, query, NULL, NULL, 1,
                      connection);
}

static OrthancPluginErrorCode
on_find(OrthancPluginFindAnswers *answers, const OrthancPluginFindQuery *query,
        const char *issuerAet, const char *calledAet)
{
    return opy_scp_call_query(find_callable, "C-FIND callback", OPY_TYPE_FindAnswers, answers,
                              OPY_TYPE_FindQuery, query, issuerAet, calledAet);
}

#if OPY_HAVE_SCP2
static OrthancPluginErrorCode
on_find2(OrthancPluginFindAnswers *answers, const OrthancPluginFindQuery *query,
         const OrthancPluginDicomConnection *connection)
{
    return opy_scp_call_query2(find2_callable, "C-FIND callback", OPY_TYPE_FindAnswers, answers,
                               OPY_TYPE_FindQuery, query, connection);
}
#endif

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

/* Fills out[0..n-1] with the str of s[0..n-1] ("" for NULL) and out[n]
 * with the int originatorId, new references; 0, or -1 with an exception set
 * (then out[] holds what was made, to be released by the caller). */
static int
move_values(PyObject **out, const char *const *s, int n, uint16_t originatorId)
{
    int i;

    for (i = 0; i < n; i++) {
        if ((out[i] = str_or_empty(s[i])) == NULL)
            return -1;
    }
    out[n] = PyLong_FromLong((long) originatorId);
    return out[n] == NULL ? -1 : 0;
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
    const char *const s[MOVE_NARGS - 1] = {level_name(resourceType), patientId, accessionNumber,
                                           studyInstanceUid, seriesInstanceUid, sopInstanceUid,
                                           originatorAet, sourceAet, targetAet};
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
    if (move_values(d->args, s, MOVE_NARGS - 1, originatorId) < 0) {
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

#if OPY_HAVE_SCP2
/* RegisterMoveCallback3's create: callback(connection, Level=, PatientID=,
 * AccessionNumber=, StudyInstanceUID=, SeriesInstanceUID=, SOPInstanceUID=,
 * TargetAET=, OriginatorID=). The connection expires when it returns. */
static void * on_move_create3(OrthancPluginResourceType resourceType, const char *patientId, const char *accessionNumber, const char *studyInstanceUid, const char *seriesInstanceUid, const char *sopInstanceUid, const OrthancPluginDicomConnection *connection, const char *targetAet, uint16_t originatorId);
OPY_STACK_THUNK(void *, on_move_create3, (OrthancPluginResourceType resourceType; const char *patientId; const char *accessionNumber; const char *studyInstanceUid; const char *seriesInstanceUid; const char *sopInstanceUid; const OrthancPluginDicomConnection *connection; const char *targetAet; uint16_t originatorId;), (f->resourceType, f->patientId, f->accessionNumber, f->studyInstanceUid, f->seriesInstanceUid, f->sopInstanceUid, f->connection, f->targetAet, f->originatorId))

static void *
on_move_create3(OrthancPluginResourceType resourceType, const char *patientId,
                const char *accessionNumber, const char *studyInstanceUid,
                const char *seriesInstanceUid, const char *sopInstanceUid,
                const OrthancPluginDicomConnection *connection, const char *targetAet,
                uint16_t originatorId)
{
    OPY_STACK_SWITCH(on_move_create3, (resourceType, patientId, accessionNumber, studyInstanceUid, seriesInstanceUid, sopInstanceUid, connection, targetAet, originatorId));
    const char *const s[MOVE3_NKW - 1] = {level_name(resourceType), patientId, accessionNumber,
                                          studyInstanceUid, seriesInstanceUid, sopInstanceUid,
                                          targetAet};
    PyObject *argv[1 + MOVE3_NKW] = {NULL};     /* the connection, then the keyword values */
    MoveDriver *d = NULL;
    int i, token = opy_gil_enter();

    if (token < 0)
        return NULL;                                    /* stopping: fail */
    d = calloc(1, sizeof *d);
    if (d == NULL) {
        PyErr_NoMemory();
        goto arguments;
    }
    argv[0] = opy_scp_connection_new(connection);
    if (argv[0] == NULL || move_values(argv + 1, s, MOVE3_NKW - 1, originatorId) < 0)
        goto arguments;
    d->driver = PyObject_Vectorcall(move_create, argv, 1, move3_kwnames);
    if (d->driver != NULL)
        goto done;
    opy_error_report("C-MOVE create callback", NULL);
    goto failed;
arguments:
    opy_error_report("C-MOVE callback (arguments)", NULL);
failed:
    if (d != NULL)
        driver_free(d);
    d = NULL;
done:
    if (argv[0] != NULL)
        opy_handle_invalidate(argv[0]);
    for (i = 0; i < 1 + MOVE3_NKW; i++)
        Py_XDECREF(argv[i]);
    opy_gil_leave(token);
    return d;       /* NULL: Orthanc fails the C-MOVE */
}
#endif

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
        PyErr_Format(PyExc_TypeError, "the %s callback must return an int, not %.100s",
                     move_size_what, Py_TYPE(r)->tp_name);
    else if (r != NULL) {
        n = PyLong_AsUnsignedLongLong(r);
        if (n == (unsigned long long) -1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError,
                         "the %s callback must return an int in [0, %lu], not %R",
                         move_size_what, (unsigned long) UINT32_MAX, r);
        }
        else if (n > UINT32_MAX)
            PyErr_Format(PyExc_ValueError,
                         "the %s callback must return an int in [0, %lu], not %R",
                         move_size_what, (unsigned long) UINT32_MAX, r);
    }
    if (PyErr_Occurred()) {
        char where[80];

        snprintf(where, sizeof where, "C-MOVE %s callback (the C-MOVE fails)", move_size_what);
        opy_error_report(where, NULL);
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
        code = opy_error_report(move_create ? move_apply_what : "C-MOVE callback", NULL);
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
            opy_error_report(move_free_what, NULL);
        Py_XDECREF(r);
    }
    driver_free(d);
    opy_gil_leave(token);
}

/* ------------------------------------------------------------ registration */

/* One C-FIND slot for both forms: Orthanc accepts one C-FIND handler, v1
 * or v2 (a second one fails with ErrorCode.PLUGIN), so Python says so
 * clearly first. */
static int
find_slot_taken(void)
{
#if OPY_HAVE_SCP2
    if (find2_callable != NULL)
        return 1;
#endif
    return find_callable != NULL;
}

static PyObject *
RegisterFindCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterFindCallback", args, nargs, kwnames);
    OrthancPluginErrorCode code;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterFindCallback", NULL);
    if (f == NULL || opy_registry_check_one("RegisterFindCallback", f, find_slot_taken(),
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
    OPY_MAIN_INTERPRETER_ONLY("RegisterMoveCallback", NULL);
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

/* RegisterMoveCallback2 (v3 = 0: the SDK's v1 C-MOVE) and
 * RegisterMoveCallback3 (v3 = 1: the SDK's OrthancPluginRegisterMoveCallback2,
 * whose create gets the connection): the same driver model, one slot. */
static PyObject *
register_move_driver(const char *fname, const char *const *names, int v3, PyObject *const *args,
                     Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[4];
    PyObject *slot = move_callable ? move_callable : move_create;   /* borrowed */
    OrthancPluginErrorCode code;
    int i;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 4, 4, a) < 0)
        return NULL;
    for (i = 0; i < 4; i++) {
        if (opy_registry_check_one(fname, a[i], slot != NULL, "a C-MOVE callback") < 0)
            return NULL;
    }
    for (i = 0; i < 4; i++)
        if ((a[i] = opy_async_adapt(a[i])) == NULL)
            return NULL;
#if OPY_HAVE_SCP2
    if (v3)
        code = OrthancPluginRegisterMoveCallback2(opy_context, on_move_create3, on_move_size,
                                                  on_move_apply, on_move_free);
    else
#endif
        code = OrthancPluginRegisterMoveCallback(opy_context, on_move_create, on_move_size,
                                                 on_move_apply, on_move_free);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    move_create = Py_NewRef(a[0]);
    move_size = Py_NewRef(a[1]);
    move_apply = Py_NewRef(a[2]);
    move_free = Py_NewRef(a[3]);
    if (v3) {
        move_size_what = "get_move_size";
        move_apply_what = "C-MOVE apply_move callback";
        move_free_what = "C-MOVE free_move callback";
    }
    Py_RETURN_NONE;
}

static PyObject *
RegisterMoveCallback2(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"create", "getMoveSize", "applyMove", "free"};

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterMoveCallback2", NULL);
    return register_move_driver("RegisterMoveCallback2", names, 0, args, nargs, kwnames);
}

#if OPY_HAVE_SCP2
static PyObject *
RegisterMoveCallback3(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"callback", "get_move_size", "apply_move", "free_move"};

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterMoveCallback3", NULL);
    if (opy_sdk_require(OPY_SCP2_SINCE, "RegisterMoveCallback3") < 0)
        return NULL;
    return register_move_driver("RegisterMoveCallback3", names, 1, args, nargs, kwnames);
}

static PyObject *
RegisterFindCallback2(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f;
    OrthancPluginErrorCode code;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterFindCallback2", NULL);
    if (opy_sdk_require(OPY_SCP2_SINCE, "RegisterFindCallback2") < 0)
        return NULL;
    f = opy_registry_one_callable("RegisterFindCallback2", args, nargs, kwnames);
    if (f == NULL || opy_registry_check_one("RegisterFindCallback2", f, find_slot_taken(),
                                            "a C-FIND callback") < 0)
        return NULL;
    code = OrthancPluginRegisterFindCallback2(opy_context, on_find2);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    find2_callable = Py_NewRef(f);
    Py_RETURN_NONE;
}
#endif

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
#if OPY_HAVE_SCP2
    {"RegisterFindCallback2", (PyCFunction) (void (*)(void)) RegisterFindCallback2,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterFindCallback2($module, /, callback)\n--\n\n"
     "Handle the C-FIND requests received by Orthanc (other than worklists), with the calling\n"
     "connection: Orthanc calls callback(answers, query, connection); answers\n"
     "(orthanc.FindAnswers), query (orthanc.FindQuery) and connection (orthanc.DicomConnection)\n"
     "are valid only during the call. An exception fails the C-FIND. Only one such callback\n"
     "(this or RegisterFindCallback) can be registered. Needs Orthanc 1.12.10."},
    {"RegisterMoveCallback3", (PyCFunction) (void (*)(void)) RegisterMoveCallback3,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterMoveCallback3($module, /, callback, get_move_size, apply_move, free_move)\n--\n\n"
     "Handle the C-MOVE requests received by Orthanc with a driver object, with the calling\n"
     "connection: driver = callback(connection, Level=, PatientID=, AccessionNumber=,\n"
     "StudyInstanceUID=, SeriesInstanceUID=, SOPInstanceUID=, TargetAET= (str), OriginatorID=\n"
     "(int)) (connection: orthanc.DicomConnection, valid only during that call),\n"
     "get_move_size(driver) -> number of sub-operations, apply_move(driver) once per\n"
     "sub-operation (raise on failure), free_move(driver) at the end. Only one C-MOVE handler\n"
     "(this, RegisterMoveCallback or RegisterMoveCallback2) can be registered. Needs Orthanc\n"
     "1.12.10."},
#endif
    {NULL, NULL, 0, NULL}
};

int
opy_cb_scp_init(PyObject *module)
{
    if (!opy_interps_is_main())         /* the family runs in the main one only */
        return PyModule_AddFunctions(module, methods);
    move_kwnames = Py_BuildValue("(ssssssssss)", "Level", "PatientID", "AccessionNumber",
                                 "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                                 "OriginatorAET", "SourceAET", "TargetAET", "OriginatorID");
    if (move_kwnames == NULL)
        return -1;
#if OPY_HAVE_SCP2
    move3_kwnames = Py_BuildValue("(ssssssss)", "Level", "PatientID", "AccessionNumber",
                                  "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                                  "TargetAET", "OriginatorID");
    if (move3_kwnames == NULL)
        return -1;
#endif
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
    move_size_what = "getMoveSize";
    move_apply_what = "C-MOVE applyMove callback";
    move_free_what = "C-MOVE free callback";
#if OPY_HAVE_SCP2
    Py_CLEAR(find2_callable);
    Py_CLEAR(move3_kwnames);
#endif
}
