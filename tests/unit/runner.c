/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * runner.c - runs every test of test-list.h in this process (Python is
 * started once, with the fake SDK context) and prints a summary line.
 */
#include "opy_python.h"
#include "opy_module.h"
#include "fake_context.h"
#include "runner.h"

#define TEST_ENTRY(name) int run_test_##name(void);
#include "test-list.h"
#undef TEST_ENTRY

typedef struct {
    const char *name;
    int (*fn)(void);
} TestEntry;

static const TestEntry tests[] = {
#define TEST_ENTRY(name) {#name, run_test_##name},
#include "test-list.h"
#undef TEST_ENTRY
    {NULL, NULL}
};

int
main(int argc, char **argv)
{
    const TestEntry *t;
    int passed = 0, failed = 0;
    PyObject *module;

    fake_reset();
    PyImport_AppendInittab("orthanc", PyInit_orthanc);
    Py_InitializeEx(0);
    module = PyImport_ImportModule("orthanc");
    if (module == NULL) {
        PyErr_Print();
        return 2;
    }
    for (t = tests; t->name != NULL; t++) {
        int rc;

        if (argc > 1 && strcmp(argv[1], t->name) != 0)
            continue;
        fake_reset();
        rc = t->fn();
        if (PyErr_Occurred()) {
            PyErr_Print();
            rc = 1;
        }
        printf("%s %s\n", rc == 0 ? "ok  " : "FAIL", t->name);
        if (rc == 0)
            passed++;
        else
            failed++;
    }
    Py_DECREF(module);
    if (Py_FinalizeEx() < 0)
        failed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
