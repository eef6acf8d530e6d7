/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_error.c - error funnels and orthanc.OrthancException.
 */
#include "opy_error.h"
#include "opy_log.h"
#include "opy_module.h"

#include <stdlib.h>
#include <string.h>

const char *opy_script_name = "?";
char **opy_scripts_bases;
char **opy_scripts_paths;
size_t opy_scripts_count;
const char *opy_script_current;

/* The file name of the code of a traceback entry: a new reference or NULL
 * (no exception left). */
static PyObject *
tb_filename(PyObject *tb)
{
    PyObject *frame = PyObject_GetAttrString(tb, "tb_frame"), *code = NULL, *name = NULL;

    if (frame != NULL && (code = PyObject_GetAttrString(frame, "f_code")) != NULL)
        name = PyObject_GetAttrString(code, "co_filename");
    PyErr_Clear();
    Py_XDECREF(code);
    Py_XDECREF(frame);
    return name;
}

/* The script whose file is `filename` (a str), or NULL. */
static const char *
script_of_filename(PyObject *filename)
{
    const char *s = filename != NULL && PyUnicode_Check(filename) ? PyUnicode_AsUTF8(filename) : NULL;
    size_t i;

    for (i = 0; s != NULL && i < opy_scripts_count; i++)
        if (strcmp(s, opy_scripts_paths[i]) == 0)
            return opy_scripts_bases[i];
    PyErr_Clear();
    return NULL;
}

const char *
opy_script_of_callable(PyObject *callable)
{
    PyObject *f = NULL, *code = NULL, *name = NULL;
    const char *found = NULL;

    if (opy_scripts_count < 2 || callable == NULL)
        return opy_script_name;
    /* a function, a bound method (__func__), a functools.wraps wrapper */
    f = PyObject_GetAttrString(callable, "__wrapped__");
    if (f == NULL) {
        PyErr_Clear();
        f = PyObject_GetAttrString(callable, "__func__");
    }
    if (f == NULL) {
        PyErr_Clear();
        f = Py_NewRef(callable);
    }
    code = PyObject_GetAttrString(f, "__code__");
    if (code != NULL)
        name = PyObject_GetAttrString(code, "co_filename");
    PyErr_Clear();
    found = script_of_filename(name);
    Py_XDECREF(name);
    Py_XDECREF(code);
    Py_XDECREF(f);
    return found != NULL ? found : opy_script_name;
}

const char *
opy_script_of_caller(void)
{
    PyFrameObject *frame;
    const char *found = NULL;
    int steps = 0;

    if (opy_scripts_count < 2)
        return opy_script_name;
    frame = PyEval_GetFrame();          /* borrowed */
    Py_XINCREF(frame);
    while (found == NULL && frame != NULL && steps++ < 200) {
        PyCodeObject *code = PyFrame_GetCode(frame);
        PyFrameObject *back;

        found = script_of_filename(code->co_filename);
        Py_DECREF(code);
        back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
    }
    Py_XDECREF(frame);
    return found != NULL ? found : opy_script_name;
}

const char *
opy_script_of(PyObject *exc)
{
    PyObject *tb, *next;
    const char *found = NULL;
    int steps = 0;

    if (opy_scripts_count < 2 || exc == NULL)
        return opy_script_name;
    tb = PyObject_GetAttrString(exc, "__traceback__");
    while (found == NULL && tb != NULL && tb != Py_None && steps++ < 1000) {
        PyObject *name = tb_filename(tb);

        found = script_of_filename(name);
        Py_XDECREF(name);
        next = PyObject_GetAttrString(tb, "tb_next");
        Py_DECREF(tb);
        tb = next;
    }
    Py_XDECREF(tb);
    PyErr_Clear();
    return found != NULL ? found : opy_script_name;
}

int
opy_error_module_init(PyObject *module)
{
    OpyModuleState *st = opy_module_state(module);

    st->OrthancException = PyErr_NewExceptionWithDoc(
        "orthanc.OrthancException",
        "Error reported by the Orthanc core. args == (code, description), where code\n"
        "is a value of orthanc.ErrorCode.",
        NULL, NULL);
    if (st->OrthancException == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "OrthancException", st->OrthancException);
}

PyObject *
opy_error_raise_msg(OrthancPluginErrorCode code, const char *description)
{
    PyObject *args;

    if (opy_state == NULL || opy_state->OrthancException == NULL) {
        PyErr_Format(PyExc_RuntimeError, "Orthanc error %d: %s", (int) code, description);
        return NULL;
    }
    args = Py_BuildValue("(is)", (int) code, description ? description : "");
    if (args != NULL) {
        PyErr_SetObject(opy_state->OrthancException, args);
        Py_DECREF(args);
    }
    return NULL;
}

PyObject *
opy_error_raise(OrthancPluginErrorCode code)
{
    const char *description = NULL;

    if (opy_context != NULL && !opy_log_is_closed())
        description = OrthancPluginGetErrorDescription(opy_context, code);
    return opy_error_raise_msg(code, description ? description : "Unknown error");
}

PyObject *
opy_error_sdk_closed(void)
{
    return opy_error_raise_msg(OrthancPluginErrorCode_BadSequenceOfCalls,
                               "Orthanc is stopping: the orthanc module can no longer be used");
}

/* Returns a new reference to the formatted traceback (str), or NULL. */
static PyObject *
format_traceback(PyObject *exc)
{
    PyObject *tb_mod = NULL, *lines = NULL, *empty = NULL, *text = NULL;

    tb_mod = PyImport_ImportModule("traceback");
    if (tb_mod == NULL)
        goto done;
    lines = PyObject_CallMethod(tb_mod, "format_exception", "O", exc);
    if (lines == NULL)
        goto done;
    empty = PyUnicode_FromString("");
    if (empty == NULL)
        goto done;
    text = PyUnicode_Join(empty, lines);
done:
    PyErr_Clear();
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(tb_mod);
    return text;
}

/* "Type: message" as a malloc'ed string, or NULL. For an OrthancException
 * (code, description) the message is the description. */
static char *
one_line(PyObject *exc)
{
    PyObject *name = NULL, *msg = NULL, *line = NULL, *args = NULL;
    const char *s;
    char *result = NULL;

    name = PyObject_GetAttrString((PyObject *) Py_TYPE(exc), "__name__");
    if (opy_state != NULL && PyObject_IsInstance(exc, opy_state->OrthancException) == 1 &&
        (args = PyObject_GetAttrString(exc, "args")) != NULL &&
        PyTuple_Check(args) && PyTuple_Size(args) == 2)
        msg = PyObject_Str(PyTuple_GetItem(args, 1));
    else
        msg = PyObject_Str(exc);
    if (name == NULL || msg == NULL)
        goto done;
    if (PyUnicode_GetLength(msg) > 0)
        line = PyUnicode_FromFormat("%U: %U", name, msg);
    else
        line = Py_NewRef(name);
    if (line == NULL)
        goto done;
    s = PyUnicode_AsUTF8(line);
    if (s != NULL)
        result = strdup(s);
done:
    PyErr_Clear();
    Py_XDECREF(args);
    Py_XDECREF(line);
    Py_XDECREF(msg);
    Py_XDECREF(name);
    return result;
}

static OrthancPluginErrorCode
code_of(PyObject *exc)
{
    PyObject *args = NULL, *first;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Plugin;
    long v;

    if (opy_state == NULL || !PyObject_IsInstance(exc, opy_state->OrthancException))
        goto done;
    args = PyObject_GetAttrString(exc, "args");
    if (args == NULL || !PyTuple_Check(args) || PyTuple_Size(args) < 1)
        goto done;
    first = PyTuple_GetItem(args, 0);       /* borrowed */
    if (!PyLong_Check(first))
        goto done;
    v = PyLong_AsLong(first);
    if (v == -1 && PyErr_Occurred())
        goto done;
    /* Success would tell Orthanc that nothing failed: never return it. */
    if (v != OrthancPluginErrorCode_Success && v >= INT32_MIN && v <= INT32_MAX)
        code = (OrthancPluginErrorCode) v;
done:
    PyErr_Clear();
    Py_XDECREF(args);
    return code;
}

int opy_dev_mode;

static OrthancPluginErrorCode
report(const char *id, const char *where, char **message, char **full)
{
    PyObject *exc = NULL, *tb = NULL;
    OrthancPluginErrorCode code;
    const char *text = NULL, *script;

    if (message)
        *message = NULL;
    if (full)
        *full = NULL;
    exc = opy_err_take();
    if (exc == NULL) {
        opy_log(OPY_LOG_ERROR, "%s %s (script %s) failed without a Python exception",
                id, where, opy_script_name);
        return OrthancPluginErrorCode_Plugin;
    }
    code = code_of(exc);
    script = opy_script_of(exc);
    tb = format_traceback(exc);
    if (tb != NULL)
        text = PyUnicode_AsUTF8(tb);
    PyErr_Clear();
    if (text != NULL) {
        opy_log(OPY_LOG_ERROR, "%s Exception in %s (script %s):\n%s", id, where, script, text);
    }
    else {
        char *line = one_line(exc);

        opy_log(OPY_LOG_ERROR, "%s Exception in %s (script %s): %s", id, where, script,
                line ? line : "(unprintable exception)");
        free(line);
    }
    if (message)    /* development mode: the whole traceback for the client */
        *message = opy_dev_mode && text != NULL ? strdup(text) : one_line(exc);
    if (full) {
        if (text != NULL)
            *full = strdup(text);
        else
            *full = one_line(exc);
    }
    Py_XDECREF(tb);
    Py_DECREF(exc);
    return code;
}

OrthancPluginErrorCode
opy_error_report(const char *where, char **message)
{
    return report("OPY0010", where, message, NULL);
}

void
opy_error_log(const char *id, const char *what)
{
    report(id, what, NULL, NULL);
}

char *
opy_error_log_text(const char *id, const char *what)
{
    char *full = NULL;

    report(id, what, NULL, &full);
    return full;
}

int
opy_sdk_require(unsigned version, const char *name)
{
    if (opy_sdk_has(version))
        return 0;
    PyErr_Format(PyExc_NotImplementedError, "orthanc.%s() needs Orthanc %u.%u.%u or newer; this is Orthanc %s",
                 name, version / 1000000u, version / 1000u % 1000u, version % 1000u, opy_sdk_running_text());
    return -1;
}
