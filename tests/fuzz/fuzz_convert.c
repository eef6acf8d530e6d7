/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libFuzzer harness: the conversions between the bytes Orthanc hands to the
 * plugin and Python objects, inside an embedded interpreter (fake SDK
 * context, module orthanc imported):
 *
 * - opy_dict_from_arrays(), which makes the "headers" and "get" dicts of
 *   REST callbacks and HTTP filters: the input is cut at its NUL bytes into
 *   key, value, key, value...; every key and value must come back
 *   byte-for-byte when encoded with surrogateescape (the decoding rule), and
 *   the dict holds the last value of each key;
 * - opy_bytes_get() on bytes, bytearray, memoryview and str made from the
 *   input (the buffer arguments of every wrapper): the view must be the
 *   input itself (str: its UTF-8 encoding); a str with lone surrogates
 *   must fail with an exception, not crash;
 * - opy_str_get() on the same str.
 *
 * Leak detection is off for this harness (CPython keeps its arenas and
 * caches until exit); the reference counts of the results are checked.
 *
 * Built with -DOPY_FUZZ=ON (clang), run by scripts/fuzz.sh.
 */
#include "opy_python.h"
#include "opy_args.h"
#include "opy_module.h"
#include "fake_context.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
    if (!ok) {
        if (PyErr_Occurred())
            PyErr_Print();
        fprintf(stderr, "fuzz_convert: check failed: %s\n", what);
        abort();
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    PyObject *module;

    (void) argc;
    (void) argv;
    fake_reset();
    PyImport_AppendInittab("orthanc", PyInit_orthanc);
    Py_InitializeEx(0);
    module = PyImport_ImportModule("orthanc");
    check(module != NULL, "import orthanc");
    Py_DECREF(module);
    return 0;
}

/* The round trip of one decoded key or value. */
static void
check_text(PyObject *text, const char *original)
{
    PyObject *back = PyUnicode_AsEncodedString(text, "utf-8", "surrogateescape");

    check(back != NULL, "encode with surrogateescape");
    check((size_t) PyBytes_GET_SIZE(back) == strlen(original) &&
          memcmp(PyBytes_AS_STRING(back), original, strlen(original)) == 0, "round trip");
    Py_DECREF(back);
}

static void
fuzz_dict(const char *buf, size_t size)
{
    const char *keys[MAX_PAIRS], *values[MAX_PAIRS];
    const char *p = buf, *end = buf + size;
    uint32_t n = 0, i;
    PyObject *d;

    while (p <= end && n < MAX_PAIRS) {
        keys[n] = p;
        p += strlen(p) + 1;
        values[n] = p <= end ? p : "";
        if (p <= end)
            p += strlen(p) + 1;
        n++;
    }
    d = opy_dict_from_arrays(n, keys, values);
    check(d != NULL && PyDict_Check(d), "dict made");
    check(PyDict_GET_SIZE(d) <= (Py_ssize_t) n, "dict size");
    for (i = 0; i < n; i++) {
        PyObject *k = PyUnicode_DecodeUTF8(keys[i], (Py_ssize_t) strlen(keys[i]), "surrogateescape");
        PyObject *v;
        uint32_t j, last = i;

        check(k != NULL, "key decodes");
        v = PyDict_GetItemWithError(d, k);
        check(v != NULL, "key present");
        for (j = i + 1; j < n; j++)
            if (strcmp(keys[j], keys[i]) == 0)
                last = j;
        check_text(v, values[last]);
        check_text(k, keys[i]);
        Py_DECREF(k);
    }
    check(Py_REFCNT(d) == 1, "the dict is not referenced elsewhere");
    Py_DECREF(d);
}

static void
expect_view(PyObject *obj, const char *data, Py_ssize_t size)
{
    OpyBytes b;

    check(obj != NULL, "object made");
    check(opy_bytes_get(obj, "buffer", &b) == 0, "opy_bytes_get accepts it");
    check(b.size == size && (size == 0 || memcmp(b.data, data, (size_t) size) == 0), "same bytes");
    opy_bytes_release(&b);
    Py_DECREF(obj);
}

static void
fuzz_bytes(const char *data, size_t size)
{
    PyObject *bytes = PyBytes_FromStringAndSize(data, (Py_ssize_t) size), *str;
    OpyBytes b;

    expect_view(PyByteArray_FromStringAndSize(data, (Py_ssize_t) size), data, (Py_ssize_t) size);
    Py_INCREF(bytes);
    expect_view(PyMemoryView_FromObject(bytes), data, (Py_ssize_t) size);
    expect_view(bytes, data, (Py_ssize_t) size);

    /* a str: valid UTF-8 gives the same bytes; invalid bytes become lone
     * surrogates, which cannot be encoded: an exception, not a crash */
    str = PyUnicode_DecodeUTF8(data, (Py_ssize_t) size, "surrogateescape");
    check(str != NULL, "str made");
    if (opy_bytes_get(str, "buffer", &b) == 0) {
        check(b.size == (Py_ssize_t) size && memcmp(b.data, data, size) == 0, "str as UTF-8");
        opy_bytes_release(&b);
    }
    else {
        check(PyErr_Occurred() != NULL, "exception set on failure");
        PyErr_Clear();
    }
    if (opy_str_get(str, "text") == NULL) {
        check(PyErr_Occurred() != NULL, "exception set on failure (str)");
        PyErr_Clear();
    }
    Py_DECREF(str);

    /* not a buffer: TypeError */
    check(opy_bytes_get(Py_None, "buffer", &b) == -1 && PyErr_ExceptionMatches(PyExc_TypeError),
          "None refused");
    PyErr_Clear();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    fuzz_dict(buf, size);
    fuzz_bytes(buf, size);
    check(!PyErr_Occurred(), "no exception left");
    free(buf);
    fake.calls = 0;
    return 0;
}
