/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_metrics.c - orthanc.RegisterRefreshMetricsCallback.
 *
 * Python signature: callback(), no argument. It typically calls
 * orthanc.SetMetricsValue(name, value, orthanc.MetricsType.DEFAULT).
 * Several callbacks may be registered: called in registration order.
 * Thread: the Orthanc HTTP thread serving GET /tools/metrics-prometheus
 * (Orthanc runs the refresh callbacks one at a time, under its own mutex).
 * Errors: an exception is logged with its traceback (OPY0010); the next
 * callbacks still run and the metrics are served (with the values set so
 * far). The return value is ignored.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_registry.h"
#include "opy_sdk.h"

static PyObject *callables;     /* list, strong reference */

static void on_refresh(void);
OPY_STACK_THUNK_VOID(on_refresh, (), ())

static void
on_refresh(void)
{
    OPY_STACK_SWITCH_VOID(on_refresh, ());
    Py_ssize_t i, n;
    int token = opy_gil_enter();

    if (token < 0)
        return;                         /* Python is stopping */
    n = PyList_Size(callables);
    for (i = 0; i < n; i++) {
        PyObject *r = PyObject_CallNoArgs(PyList_GetItem(callables, i));   /* new */

        if (r == NULL)
            opy_error_report("RefreshMetrics callback", NULL);
        Py_XDECREF(r);
    }
    opy_gil_leave(token);
}

/* Returns a new reference (None) or NULL with an exception set. */
static PyObject *
RegisterRefreshMetricsCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterRefreshMetricsCallback", args, nargs, kwnames);
    int first;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterRefreshMetricsCallback", NULL);
    if (f == NULL || (first = opy_registry_append(&callables, "RegisterRefreshMetricsCallback", f)) < 0)
        return NULL;
    if (first)
        OrthancPluginRegisterRefreshMetricsCallback(opy_context, on_refresh);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterRefreshMetricsCallback", (PyCFunction) (void (*)(void)) RegisterRefreshMetricsCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterRefreshMetricsCallback($module, /, callback)\n--\n\n"
     "Call callback() each time Orthanc refreshes its metrics (GET /tools/metrics-prometheus);\n"
     "it typically calls orthanc.SetMetricsValue(). May be called several times."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_metrics_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_metrics_finalize(void)
{
    Py_CLEAR(callables);
}
