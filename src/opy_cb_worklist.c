/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_worklist.c - orthanc.RegisterWorklistCallback: the modality
 * worklist C-FIND SCP of Orthanc handled in Python.
 *
 * Python signature (as the official plugin):
 *   callback(answers: orthanc.WorklistAnswers, query: orthanc.WorklistQuery,
 *            issuerAet: str, calledAet: str), positional.
 * `answers` and `query` are borrowed: valid only during the call (later use
 * raises ValueError).
 * Thread: the Orthanc DICOM thread of the association (Orthanc serialises
 * the worklist callbacks).
 * Errors: an exception makes the worklist C-FIND fail (the SCU gets a
 * failure status); its traceback is logged once (OPY0010). The return value
 * is ignored.
 * One registration: a second RegisterWorklistCallback raises RuntimeError.
 */
#include "opy_python.h"
#include "opy_cb_scp.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <string.h>

static PyObject *callable;      /* strong reference or NULL */

static OrthancPluginErrorCode
on_worklist(OrthancPluginWorklistAnswers *answers, const OrthancPluginWorklistQuery *query,
            const char *issuerAet, const char *calledAet)
{
    return opy_scp_call_query(callable, "worklist callback", OPY_TYPE_WorklistAnswers, answers,
                              OPY_TYPE_WorklistQuery, query, issuerAet, calledAet);
}

static PyObject *
RegisterWorklistCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterWorklistCallback", args, nargs, kwnames);
    OrthancPluginErrorCode code;

    (void) module;
    if (f == NULL || opy_registry_check_one("RegisterWorklistCallback", f, callable != NULL,
                                            "a worklist callback") < 0)
        return NULL;
    code = OrthancPluginRegisterWorklistCallback(opy_context, on_worklist);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    callable = Py_NewRef(f);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterWorklistCallback", (PyCFunction) (void (*)(void)) RegisterWorklistCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterWorklistCallback($module, /, callback)\n--\n\n"
     "Handle the modality worklist C-FIND requests received by Orthanc: Orthanc calls\n"
     "callback(answers, query, issuerAet, calledAet); answers (orthanc.WorklistAnswers) and\n"
     "query (orthanc.WorklistQuery) are valid only during the call. An exception fails the\n"
     "C-FIND. Only one worklist callback can be registered."},
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
