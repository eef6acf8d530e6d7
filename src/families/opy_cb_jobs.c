/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_jobs.c - Python jobs: orthanc.CreateJob and
 * orthanc.RegisterJobsUnserializer.
 *
 * orthanc.CreateJob(job, type) -> orthanc.Job wraps a Python object whose
 * methods Orthanc's jobs engine calls:
 *     step() -> orthanc.JobStepStatus      (required)
 *     stop(reason: orthanc.JobStopReason)  (optional)
 *     reset()                              (optional)
 *     get_progress() -> float in [0, 1]    (optional, default 0)
 *     get_content() -> dict, or str of a JSON object   (optional, default {})
 *     get_serialized() -> dict, str of a JSON object, or None (optional,
 *                         default None: the job is not saved)
 * Job.SubmitJob(priority) hands it to Orthanc and returns the job id; an
 * orthanc.Job never submitted is freed with its Python object.
 * orthanc.RegisterJobsUnserializer(callback): callback(type: str,
 * serialized: str) -> job object (as given to CreateJob) or None, called
 * when Orthanc reloads the jobs saved in its database (start-up, main
 * thread). One registration only (a second raises RuntimeError).
 *
 * Threads: step() runs on Orthanc's jobs worker threads; stop(), reset(),
 * get_progress() and get_content() on the thread that changes or reads the
 * job (a jobs thread or an HTTP thread of /jobs/...); get_serialized() on
 * the thread saving the jobs registry.
 * Errors (traceback logged once, OPY0010, each time):
 *   step() raises or returns anything but a JobStepStatus value -> the job
 *     fails (FAILURE);
 *   stop()/reset() raise -> Orthanc is told the error (it goes on);
 *   get_progress() raises or returns a bad value -> the last good value;
 *   get_content()/get_serialized() raise or return a bad value -> no content
 *     ({}) / not saved;
 *   the unserializer raises or returns a bad value -> that job is not
 *     reloaded (Orthanc logs it and skips it).
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_async.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_log.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject *obj;          /* strong reference to the Python job */
    char *type;
    float progress;         /* last good get_progress() */
    int interp;             /* the interpreter of obj (opy_interps.h): where its methods run */
} OpyJob;

static PyObject *unserializer;  /* strong reference, or NULL */

/* Reports the pending exception for `method` of job `j`. */
static OrthancPluginErrorCode
job_error(OpyJob *j, const char *method)
{
    char where[300];

    snprintf(where, sizeof where, "job %.200s %s()", j->type, method);
    return opy_error_report(where, NULL);
}

/* Calls j->obj.<name>(*args). New reference, or NULL: with an exception
 * set, or without one (and *missing = 1) when the method does not exist. */
static PyObject *
call_method(OpyJob *j, const char *name, PyObject *arg, int *missing)
{
    PyObject *m, *r;

    *missing = 0;
    m = PyObject_GetAttrString(j->obj, name);       /* new */
    if (m == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            *missing = 1;
        }
        return NULL;
    }
    r = opy_async_result(arg != NULL ? PyObject_CallOneArg(m, arg) : PyObject_CallNoArgs(m));
    Py_DECREF(m);
    return r;
}

/* A JSON object from a dict, or from a str holding a JSON object, as a
 * malloc'ed UTF-8 text. None gives NULL without an exception; anything else
 * NULL with TypeError/ValueError set. `value` is borrowed. */
static char *
json_text(PyObject *value, const char *method)
{
    PyObject *json = NULL, *text = NULL, *parsed = NULL;
    const char *s;
    char *result = NULL;

    if (value == Py_None)
        return NULL;
    json = PyImport_ImportModule("json");
    if (json == NULL)
        goto done;
    if (PyDict_Check(value)) {
        text = PyObject_CallMethod(json, "dumps", "O", value);
    }
    else if (PyUnicode_Check(value)) {
        parsed = PyObject_CallMethod(json, "loads", "O", value);
        if (parsed == NULL)
            goto done;
        if (!PyDict_Check(parsed)) {
            PyErr_Format(PyExc_ValueError, "%s() must return a JSON object, not a JSON %.50s",
                         method, Py_TYPE(parsed)->tp_name);
            goto done;
        }
        text = Py_NewRef(value);
    }
    else {
        PyErr_Format(PyExc_TypeError, "%s() must return a dict or a str holding a JSON object%s, "
                     "not %.100s", method, strcmp(method, "get_serialized") == 0 ? " (or None)" : "",
                     Py_TYPE(value)->tp_name);
        goto done;
    }
    if (text == NULL || (s = PyUnicode_AsUTF8(text)) == NULL)
        goto done;
    result = strdup(s);
    if (result == NULL)
        PyErr_NoMemory();
done:
    Py_XDECREF(parsed);
    Py_XDECREF(text);
    Py_XDECREF(json);
    return result;
}

static void job_finalize(void *p);
OPY_STACK_THUNK_VOID(job_finalize, (void *p;), (f->p))

static void
job_finalize(void *p)
{
    OPY_STACK_SWITCH_VOID(job_finalize, (p));
    OpyJob *j = p;
    int token = opy_gil_enter_in(j->interp);

    if (token >= 0) {
        Py_CLEAR(j->obj);
        opy_gil_leave(token);
    }
    /* else: Python is gone, the object is left to it. */
    free(j->type);
    free(j);
}

static float job_progress(void *p);
OPY_STACK_THUNK(float, job_progress, (void *p;), (f->p))

static float
job_progress(void *p)
{
    OPY_STACK_SWITCH(job_progress, (p));
    OpyJob *j = p;
    PyObject *r;
    float progress;
    int missing;
    int token = opy_gil_enter_in(j->interp);

    if (token < 0)
        return j->progress;
    r = call_method(j, "get_progress", NULL, &missing);
    if (r != NULL) {
        double v = PyFloat_AsDouble(r);

        if (v == -1.0 && PyErr_Occurred()) {
            /* not a number: reported below */
        }
        else if (!(v >= 0.0 && v <= 1.0)) {
            PyErr_Format(PyExc_ValueError, "get_progress() must return a number between 0 and 1, "
                         "not %R", r);
        }
        else {
            j->progress = (float) v;
        }
    }
    if (PyErr_Occurred())
        job_error(j, "get_progress");
    progress = j->progress;
    Py_XDECREF(r);
    opy_gil_leave(token);
    return progress;
}

/* get_content / get_serialized: the SDK's v1 callbacks return a text that
 * Orthanc copies right after the call. It is kept per thread (until that
 * thread asks again, for any job): two threads reading one job at once (the
 * jobs engine saving it, a GET /jobs/...) never see each other's text
 * freed. (CreateJob2, whose callbacks fill a buffer, would not need that,
 * but Orthanc 1.13.0 never calls its getSerialized: a job made by it is not
 * saved, so CreateJob2 is not used.) */
static pthread_key_t text_key[2];       /* 0: content, 1: serialized */
static pthread_once_t text_once = PTHREAD_ONCE_INIT;

static void
text_keys(void)
{
    (void) pthread_key_create(&text_key[0], free);
    (void) pthread_key_create(&text_key[1], free);
}

static const char * job_text(OpyJob *j, const char *method, int slot);
OPY_STACK_THUNK(const char *, job_text, (OpyJob *j; const char *method; int slot;), (f->j, f->method, f->slot))

static const char *
job_text(OpyJob *j, const char *method, int slot)
{
    OPY_STACK_SWITCH(job_text, (j, method, slot));
    PyObject *r;
    char *text = NULL;
    int missing;
    int token = opy_gil_enter_in(j->interp);

    if (token < 0)
        return NULL;
    r = call_method(j, method, NULL, &missing);
    if (r != NULL)
        text = json_text(r, method);
    if (PyErr_Occurred())
        job_error(j, method);
    (void) pthread_once(&text_once, text_keys);
    free(pthread_getspecific(text_key[slot]));
    (void) pthread_setspecific(text_key[slot], text);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return text;
}

static const char *
job_content(void *p)
{
    OpyJob *j = p;

    return job_text(j, "get_content", 0);
}

static const char *
job_serialized(void *p)
{
    OpyJob *j = p;

    return job_text(j, "get_serialized", 1);
}

static OrthancPluginJobStepStatus job_step(void *p);
OPY_STACK_THUNK(OrthancPluginJobStepStatus, job_step, (void *p;), (f->p))

static OrthancPluginJobStepStatus
job_step(void *p)
{
    OPY_STACK_SWITCH(job_step, (p));
    OpyJob *j = p;
    PyObject *r;
    OrthancPluginJobStepStatus status = OrthancPluginJobStepStatus_Failure;
    int missing;
    int token = opy_gil_enter_in(j->interp);

    if (token < 0)
        return OrthancPluginJobStepStatus_Failure;      /* Python is stopping */
    r = call_method(j, "step", NULL, &missing);
    if (r == NULL) {
        if (missing)
            PyErr_SetString(PyExc_TypeError, "the job has no step() method");
        job_error(j, "step");
        goto done;
    }
    if (PyLong_Check(r) && !PyBool_Check(r)) {
        long v = PyLong_AsLong(r);

        if (v == OrthancPluginJobStepStatus_Success || v == OrthancPluginJobStepStatus_Failure ||
            v == OrthancPluginJobStepStatus_Continue) {
            status = (OrthancPluginJobStepStatus) v;
            goto done;
        }
        PyErr_Clear();
    }
    PyErr_Format(PyExc_TypeError, "step() must return orthanc.JobStepStatus.SUCCESS, FAILURE or "
                 "CONTINUE, not %R (the job fails)", r);
    job_error(j, "step");
done:
    Py_XDECREF(r);
    opy_gil_leave(token);
    return status;
}

static OrthancPluginErrorCode job_stop(void *p, OrthancPluginJobStopReason reason);
OPY_STACK_THUNK(OrthancPluginErrorCode, job_stop, (void *p; OrthancPluginJobStopReason reason;), (f->p, f->reason))

static OrthancPluginErrorCode
job_stop(void *p, OrthancPluginJobStopReason reason)
{
    OPY_STACK_SWITCH(job_stop, (p, reason));
    OpyJob *j = p;
    PyObject *arg, *r = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int missing = 0;
    int token = opy_gil_enter_in(j->interp);

    if (token < 0)
        return OrthancPluginErrorCode_Success;
    arg = PyLong_FromLong((long) reason);
    if (arg != NULL)
        r = call_method(j, "stop", arg, &missing);
    if (r == NULL && !missing)
        code = job_error(j, "stop");
    Py_XDECREF(r);
    Py_XDECREF(arg);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode job_reset(void *p);
OPY_STACK_THUNK(OrthancPluginErrorCode, job_reset, (void *p;), (f->p))

static OrthancPluginErrorCode
job_reset(void *p)
{
    OPY_STACK_SWITCH(job_reset, (p));
    OpyJob *j = p;
    PyObject *r;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int missing;
    int token = opy_gil_enter_in(j->interp);

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    j->progress = 0;
    r = call_method(j, "reset", NULL, &missing);
    if (r == NULL && !missing)
        code = job_error(j, "reset");
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

/* Creates the SDK job around `obj` (borrowed). Needs the GIL. Returns the
 * job (owned by the caller), or NULL with an exception set. */
static OrthancPluginJob *
make_job(PyObject *obj, const char *type)
{
    PyObject *step;
    OpyJob *j;
    OrthancPluginJob *job;
    OrthancPluginErrorCode code;

    step = PyObject_GetAttrString(obj, "step");     /* new */
    if (step == NULL || !PyCallable_Check(step)) {
        Py_XDECREF(step);
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "a job must have a callable step() method (%.100s has none)",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    Py_DECREF(step);
    if (opy_interps_current() < 0) {
        PyErr_SetString(PyExc_RuntimeError, "orthanc.CreateJob() was called in a Python interpreter that the "
                        "plugin did not start: a job runs in one of the plugin's interpreters");
        return NULL;
    }
    j = calloc(1, sizeof *j);
    if (j == NULL || (j->type = strdup(type)) == NULL) {
        free(j);
        PyErr_NoMemory();
        return NULL;
    }
    j->obj = Py_NewRef(obj);
    j->interp = opy_interps_current();      /* a route served by another interpreter made it */
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    OPY_BEGIN_ALLOW_THREADS
    job = OrthancPluginCreateJob(opy_context, j, job_finalize, j->type, job_progress, job_content,
                                 job_serialized, job_step, job_stop, job_reset);
    code = opy_sdk_last_error;
    OPY_END_ALLOW_THREADS
    if (job == NULL) {
        Py_DECREF(j->obj);
        free(j->type);
        free(j);
        opy_error_raise(code != OrthancPluginErrorCode_Success ? code : OrthancPluginErrorCode_InternalError);
    }
    return job;
}

/* Returns a new reference (orthanc.Job) or NULL with an exception set. */
static PyObject *
CreateJob(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"job", "type"};
    PyObject *a[2], *result;
    OrthancPluginJob *job;
    const char *type;

    (void) module;
    if (opy_args_parse("CreateJob", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        (type = opy_str_get(a[1], "type")) == NULL)
        return NULL;
    if (opy_sdk_is_closed())
        return opy_error_sdk_closed();
    job = make_job(a[0], type);
    if (job == NULL)
        return NULL;
    result = opy_handle_new_owned(opy_state->types[OPY_TYPE_Job], job);
    if (result == NULL)
        OrthancPluginFreeJob(opy_context, job);     /* calls job_finalize (GIL held: re-entry) */
    return result;
}

static OrthancPluginJob * unserialize(const char *type, const char *serialized);
OPY_STACK_THUNK(OrthancPluginJob *, unserialize, (const char *type; const char *serialized;), (f->type, f->serialized))

static OrthancPluginJob *
unserialize(const char *type, const char *serialized)
{
    OPY_STACK_SWITCH(unserialize, (type, serialized));
    PyObject *r = NULL;
    OrthancPluginJob *job = NULL;
    char where[300];
    int token = opy_gil_enter();

    if (token < 0)
        return NULL;
    snprintf(where, sizeof where, "jobs unserializer (job type %.200s)", type ? type : "?");
    if (unserializer == NULL || type == NULL)
        goto done;
    r = opy_async_result(PyObject_CallFunction(unserializer, "ss", type, serialized ? serialized : ""));
    if (r == NULL) {
        opy_error_report(where, NULL);
        goto done;
    }
    if (r == Py_None)
        goto done;
    job = make_job(r, type);
    if (job == NULL)
        opy_error_report(where, NULL);
done:
    Py_XDECREF(r);
    opy_gil_leave(token);
    return job;
}

/* Returns a new reference (None) or NULL with an exception set. */
static PyObject *
RegisterJobsUnserializer(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterJobsUnserializer", args, nargs, kwnames);

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterJobsUnserializer", NULL);
    if (f == NULL || opy_registry_check_one("RegisterJobsUnserializer", f, unserializer != NULL,
                                            "a jobs unserializer") < 0)
        return NULL;
    unserializer = Py_NewRef(f);
    OrthancPluginRegisterJobsUnserializer(opy_context, unserialize);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"CreateJob", (PyCFunction) (void (*)(void)) CreateJob, METH_FASTCALL | METH_KEYWORDS,
     "CreateJob($module, /, job, type)\n--\n\n"
     "Wrap the Python object job into an orthanc.Job of the given type (submit it with\n"
     "Job.SubmitJob(priority)). job.step() -> orthanc.JobStepStatus is required; stop(reason),\n"
     "reset(), get_progress() -> float, get_content() -> dict and get_serialized() -> dict or\n"
     "None are optional."},
    {"RegisterJobsUnserializer", (PyCFunction) (void (*)(void)) RegisterJobsUnserializer,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterJobsUnserializer($module, /, callback)\n--\n\n"
     "Call callback(type, serialized) for each saved job Orthanc reloads at start-up; it\n"
     "returns a job object (as given to CreateJob) or None. One registration only."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_jobs_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_jobs_finalize(void)
{
    Py_CLEAR(unserializer);
}
