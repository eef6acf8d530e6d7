/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the Python-facing helpers, run inside an interpreter started by
 * the runner with the fake SDK context.
 */
#include "opy_python.h"
#include "opy_args.h"
#include "opy_enums.h"
#include "opy_error.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "fake_context.h"
#include "runner.h"

/* Evaluates a Python expression in a namespace holding the orthanc module.
 * Returns a new reference, or NULL with an exception set. */
static PyObject *
eval(const char *expr, PyObject *extra_name_value_pairs[2])
{
    PyObject *globals = PyDict_New(), *r = NULL, *mod = PyImport_ImportModule("orthanc");

    if (globals != NULL && mod != NULL &&
        PyDict_SetItemString(globals, "orthanc", mod) == 0 &&
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0 &&
        (extra_name_value_pairs == NULL ||
         PyDict_SetItem(globals, extra_name_value_pairs[0], extra_name_value_pairs[1]) == 0))
        r = PyRun_String(expr, Py_eval_input, globals, globals);
    Py_XDECREF(globals);
    Py_XDECREF(mod);
    return r;
}

TEST_IMPL(args_positional_and_keywords)
{
    static const char *const names[] = {"a", "b", "c"};
    PyObject *one = PyLong_FromLong(1), *two = PyLong_FromLong(2);
    PyObject *kw = Py_BuildValue("(s)", "c");
    PyObject *stack[2] = {one, two};
    PyObject *out[3];

    ASSERT_EQ_INT(opy_args_parse("f", stack, 1, kw, names, 3, 1, out), 0);
    ASSERT_TRUE(out[0] == one && out[1] == NULL && out[2] == two);
    Py_DECREF(kw);
    Py_DECREF(one);
    Py_DECREF(two);
    return 0;
}

TEST_IMPL(args_errors)
{
    static const char *const names[] = {"a", "b"};
    PyObject *one = PyLong_FromLong(1);
    PyObject *stack[3] = {one, one, one};
    PyObject *kw_dup = Py_BuildValue("(s)", "a"), *kw_bad = Py_BuildValue("(s)", "zz");
    PyObject *out[2];

    ASSERT_EQ_INT(opy_args_parse("f", stack, 3, NULL, names, 2, 2, out), -1);   /* too many */
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
    PyErr_Clear();
    ASSERT_EQ_INT(opy_args_parse("f", stack, 1, NULL, names, 2, 2, out), -1);   /* missing b */
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
    PyErr_Clear();
    ASSERT_EQ_INT(opy_args_parse("f", stack, 1, kw_dup, names, 2, 1, out), -1); /* a twice */
    PyErr_Clear();
    ASSERT_EQ_INT(opy_args_parse("f", stack, 1, kw_bad, names, 2, 1, out), -1); /* unknown */
    PyErr_Clear();
    Py_DECREF(kw_dup);
    Py_DECREF(kw_bad);
    Py_DECREF(one);
    return 0;
}

TEST_IMPL(bytes_conversions)
{
    PyObject *s = PyUnicode_FromString("h\xc3\xa9"), *b = PyBytes_FromString("abc");
    PyObject *ba = PyByteArray_FromStringAndSize("xy", 2), *i = PyLong_FromLong(3);
    PyObject *nul = PyUnicode_FromStringAndSize("a\0b", 3);
    OpyBytes v;
    long long ll;

    ASSERT_EQ_INT(opy_bytes_get(s, "x", &v), 0);
    ASSERT_EQ_INT(v.size, 3);
    opy_bytes_release(&v);
    ASSERT_EQ_INT(opy_bytes_get(b, "x", &v), 0);
    ASSERT_EQ_INT(v.size, 3);
    opy_bytes_release(&v);
    ASSERT_EQ_INT(opy_bytes_get(ba, "x", &v), 0);
    ASSERT_EQ_INT(v.size, 2);
    ASSERT_TRUE(PyByteArray_Resize(ba, 10) < 0);      /* pinned while viewed */
    PyErr_Clear();
    opy_bytes_release(&v);
    ASSERT_EQ_INT(opy_bytes_get(i, "x", &v), -1);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
    PyErr_Clear();
    ASSERT_TRUE(opy_str_get(nul, "x") == NULL);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_ValueError));
    PyErr_Clear();
    ASSERT_EQ_INT(opy_long_get(i, "x", 0, 2, &ll), -1);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_OverflowError));
    PyErr_Clear();
    ASSERT_EQ_INT(opy_long_get(i, "x", 0, 3, &ll), 0);
    ASSERT_EQ_INT(ll, 3);
    Py_DECREF(s); Py_DECREF(b); Py_DECREF(ba); Py_DECREF(i); Py_DECREF(nul);
    return 0;
}

TEST_IMPL(error_report_codes)
{
    PyObject *r;
    char *msg = NULL;

    r = eval("exec('raise orthanc.OrthancException(17, \"gone\")')", NULL);
    ASSERT_TRUE(r == NULL);
    ASSERT_EQ_INT(opy_error_report("unit test", &msg), 17);
    ASSERT_TRUE(!PyErr_Occurred());
    ASSERT_EQ_STR(msg, "OrthancException: gone");
    free(msg);
    ASSERT_CONTAINS(fake.last_log, "OPY0010 Exception in unit test");
    ASSERT_CONTAINS(fake.last_log, "Traceback (most recent call last)");

    r = eval("1/0", NULL);
    ASSERT_TRUE(r == NULL);
    ASSERT_EQ_INT(opy_error_report("unit test", &msg), OrthancPluginErrorCode_Plugin);
    ASSERT_EQ_STR(msg, "ZeroDivisionError: division by zero");
    free(msg);

    /* code 0 (success) must never be reported for a failure */
    r = eval("exec('raise orthanc.OrthancException(0, \"x\")')", NULL);
    ASSERT_TRUE(r == NULL);
    ASSERT_EQ_INT(opy_error_report("unit test", NULL), OrthancPluginErrorCode_Plugin);
    return 0;
}

TEST_IMPL(error_raise_shape)
{
    PyObject *r, *exc, *args;

    ASSERT_TRUE(opy_error_raise(OrthancPluginErrorCode_UnknownResource) == NULL);
    exc = opy_err_take();
    ASSERT_TRUE(exc != NULL);
    ASSERT_TRUE(PyObject_IsInstance(exc, opy_state->OrthancException) == 1);
    args = PyObject_GetAttrString(exc, "args");
    r = PyObject_Repr(args);
    ASSERT_EQ_STR(PyUnicode_AsUTF8(r), "(17, 'fake description')");
    Py_DECREF(r);
    Py_DECREF(args);
    Py_DECREF(exc);
    return 0;
}

TEST_IMPL(restoutput_answer_and_errors)
{
    PyObject *out = opy_handle_new(opy_state->types[OPY_TYPE_RestOutput], (void *) 0x1);
    PyObject *r, *name = PyUnicode_FromString("out");
    PyObject *pair[2] = {name, out};

    r = eval("out.AnswerBuffer(answer=b'ok\\n', mimeType='text/plain')", pair);
    ASSERT_TRUE(r == Py_None);
    Py_DECREF(r);
    ASSERT_EQ_INT(fake_count(_OrthancPluginService_AnswerBuffer), 1);
    ASSERT_EQ_INT(fake.last_answer_size, 3);
    ASSERT_EQ_STR(fake.last_mime, "text/plain");

    fake.next_result = OrthancPluginErrorCode_ParameterOutOfRange;
    r = eval("out.SendHttpStatusCode(418)", pair);
    ASSERT_TRUE(r == NULL);
    ASSERT_TRUE(PyErr_ExceptionMatches(opy_state->OrthancException));
    PyErr_Clear();

    r = eval("out.SendHttpStatusCode(99999)", pair);            /* refused before the SDK */
    ASSERT_TRUE(r == NULL);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_OverflowError));
    PyErr_Clear();
    ASSERT_EQ_INT(fake_count(_OrthancPluginService_SendHttpStatusCode), 1);

    r = eval("out.AnswerBuffer(3, 'text/plain')", pair);
    ASSERT_TRUE(r == NULL);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
    PyErr_Clear();

    r = eval("type(out)()", pair);                              /* cannot be forged */
    ASSERT_TRUE(r == NULL);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_TypeError));
    PyErr_Clear();
    Py_DECREF(name);
    Py_DECREF(out);
    return 0;
}

TEST_IMPL(restoutput_invalidated)
{
    PyObject *out = opy_handle_new(opy_state->types[OPY_TYPE_RestOutput], (void *) 0x1);
    PyObject *r, *name = PyUnicode_FromString("out");
    PyObject *pair[2] = {name, out};

    opy_handle_invalidate(out);
    r = eval("out.AnswerBuffer('x', 'text/plain')", pair);
    ASSERT_TRUE(r == NULL);
    ASSERT_TRUE(PyErr_ExceptionMatches(PyExc_ValueError));
    PyErr_Clear();
    ASSERT_EQ_INT(fake.calls, 0);                               /* the SDK was never reached */
    Py_DECREF(name);
    Py_DECREF(out);
    return 0;
}

TEST_IMPL(enums_generated)
{
    PyObject *r;

    /* 21 enumerations in SDK 1.10.1, more in later headers (28 in 1.13.0) */
    ASSERT_TRUE(opy_gen_enums_count >= 21);
    ASSERT_EQ_INT(opy_gen_enums_count, OPY_ENUM_COUNT);
    r = eval("(orthanc.ChangeType.STABLE_STUDY, orthanc.ErrorCode.NO_CFIND_HANDLER,"
             " orthanc.ErrorCode.SQLITE_NOT_OPENED, orthanc.ValueRepresentation.LO)", NULL);
    ASSERT_TRUE(r != NULL);
    {
        PyObject *repr = PyObject_Repr(r);
        ASSERT_EQ_STR(PyUnicode_AsUTF8(repr), "(9, 2010, 1000, 11)");
        Py_DECREF(repr);
    }
    Py_DECREF(r);
    return 0;
}
