/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_worklist.c - orthanc.RegisterWorklistCallback and (SDK 1.12.10,
 * header and running Orthanc) orthanc.RegisterWorklistCallback2: the
 * modality worklist C-FIND SCP of Orthanc handled in Python.
 *
 * Python signature (as the official plugin):
 *   callback(answers: orthanc.WorklistAnswers, query: orthanc.WorklistQuery,
 *            issuerAet: str, calledAet: str), positional.
 * `answers` and `query` are borrowed: valid only during the call (later use
 * raises ValueError).
 * v2 (official 7.1 convention): callback(answers, query,
 * connection: orthanc.DicomConnection), positional, the connection borrowed
 * as well; everything else as v1.
 * Thread: the Orthanc DICOM thread of the association (Orthanc serialises
 * the worklist callbacks).
 * Errors: an exception makes the worklist C-FIND fail (the SCU gets a
 * failure status); its traceback is logged once (OPY0010). The return value
 * is ignored.
 * One registration, one slot for both forms (as 7.1): a second
 * RegisterWorklistCallback or RegisterWorklistCallback2, whichever came
 * first, raises RuntimeError.
 */
#include "opy_python.h"
#include "opy_cb_scp.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_interps.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <string.h>

static PyObject *callable;      /* strong reference or NULL (either form) */

static OrthancPluginErrorCode
on_worklist(OrthancPluginWorklistAnswers *answers, const OrthancPluginWorklistQuery *query,
            const char *issuerAet, const char *calledAet)
{
    return opy_scp_call_query(callable, "worklist callback", OPY_TYPE_WorklistAnswers, answers,
                              OPY_TYPE_WorklistQuery, query, issuerAet, calledAet);
}

#if OPY_HAVE_SCP2
static OrthancPluginErrorCode
on_worklist2(OrthancPluginWorklistAnswers *answers, const OrthancPluginWorklistQuery *query,
             const OrthancPluginDicomConnection *connection)
{
    return opy_scp_call_query2(callable, "worklist callback", OPY_TYPE_WorklistAnswers, answers,
                               OPY_TYPE_WorklistQuery, query, connection);
}
#endif

static PyObject *
RegisterWorklistCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterWorklistCallback", args, nargs, kwnames);
    OrthancPluginErrorCode code;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterWorklistCallback", NULL);
    if (f == NULL || opy_registry_check_one("RegisterWorklistCallback", f, callable != NULL,
                                            "a worklist callback") < 0)
        return NULL;
    code = OrthancPluginRegisterWorklistCallback(opy_context, on_worklist);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    callable = Py_NewRef(f);
    Py_RETURN_NONE;
}

#if OPY_HAVE_SCP2
static PyObject *
RegisterWorklistCallback2(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                          PyObject *kwnames)
{
    PyObject *f;
    OrthancPluginErrorCode code;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterWorklistCallback2", NULL);
    if (opy_sdk_require(OPY_SCP2_SINCE, "RegisterWorklistCallback2") < 0)
        return NULL;
    f = opy_registry_one_callable("RegisterWorklistCallback2", args, nargs, kwnames);
    if (f == NULL || opy_registry_check_one("RegisterWorklistCallback2", f, callable != NULL,
                                            "a worklist callback") < 0)
        return NULL;
    code = OrthancPluginRegisterWorklistCallback2(opy_context, on_worklist2);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    callable = Py_NewRef(f);
    Py_RETURN_NONE;
}
#endif

static PyMethodDef methods[] = {
    {"RegisterWorklistCallback", (PyCFunction) (void (*)(void)) RegisterWorklistCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterWorklistCallback($module, /, callback)\n--\n\n"
     "Handle the modality worklist C-FIND requests received by Orthanc: Orthanc calls\n"
     "callback(answers, query, issuerAet, calledAet); answers (orthanc.WorklistAnswers) and\n"
     "query (orthanc.WorklistQuery) are valid only during the call. An exception fails the\n"
     "C-FIND. Only one worklist callback can be registered."},
#if OPY_HAVE_SCP2
    {"RegisterWorklistCallback2", (PyCFunction) (void (*)(void)) RegisterWorklistCallback2,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterWorklistCallback2($module, /, callback)\n--\n\n"
     "Handle the modality worklist C-FIND requests received by Orthanc, with the calling\n"
     "connection: Orthanc calls callback(answers, query, connection); answers\n"
     "(orthanc.WorklistAnswers), query (orthanc.WorklistQuery) and connection\n"
     "(orthanc.DicomConnection) are valid only during the call. An exception fails the C-FIND.\n"
     "Only one worklist callback (this or RegisterWorklistCallback) can be registered. Needs\n"
     "Orthanc 1.12.10."},
#endif
    {NULL, NULL, 0, NULL}
};

int
opy_cb_worklist_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_worklist_finalize(void)
{
    Py_CLEAR(callable);
}
