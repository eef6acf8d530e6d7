/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_module.c - the built-in module "orthanc" (multi-phase init).
 *
 * The exec slot fills the module state and calls one init function per
 * part (error, log, types, enums, core API, callback families).
 */
#include "opy_module.h"
#include "opy_args.h"
#include "opy_families.h"
#include "opy_enums.h"
#include "opy_error.h"
#include "opy_log.h"

#include <pthread.h>
#include <stdatomic.h>

OpyModuleState *opy_state_main;
int opy_state_many;
PyObject *opy_module;

/* The module states of every interpreter that imported orthanc. Written
 * with the GIL of that interpreter and the lock; read without the lock
 * (an interpreter only looks up its own entry, which only it writes). */
#define STATE_SLOTS 64
static struct {
    _Atomic(PyInterpreterState *) interp;
    OpyModuleState *st;
} slots[STATE_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

OpyModuleState *
opy_state_lookup(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    int i;

    for (i = 0; i < STATE_SLOTS; i++)
        if (atomic_load_explicit(&slots[i].interp, memory_order_acquire) == interp)
            return slots[i].st;
    return NULL;
}

/* 0, or -1 with an exception when every slot is taken. */
static int
state_register(OpyModuleState *st)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    int i, rc = -1;

    if (interp == PyInterpreterState_Main())
        opy_state_main = st;
    pthread_mutex_lock(&slots_lock);
    /* an interpreter that ended without freeing its module may have had
     * this address: its entry is stale */
    for (i = 0; i < STATE_SLOTS; i++) {
        if (atomic_load(&slots[i].interp) == interp) {
            atomic_store(&slots[i].interp, NULL);
            slots[i].st = NULL;
        }
    }
    for (i = 0; i < STATE_SLOTS; i++) {
        if (atomic_load(&slots[i].interp) == NULL) {
            slots[i].st = st;
            atomic_store_explicit(&slots[i].interp, interp, memory_order_release);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&slots_lock);
    if (rc < 0)
        PyErr_Format(PyExc_ImportError, "orthanc: the module is imported in more than %d interpreters", STATE_SLOTS);
    else if (interp != PyInterpreterState_Main())
        opy_state_many = 1;
    return rc;
}

void
opy_state_forget(PyInterpreterState *interp)
{
    int i;

    pthread_mutex_lock(&slots_lock);
    for (i = 0; i < STATE_SLOTS; i++) {
        if (interp == NULL || atomic_load(&slots[i].interp) == interp) {
            atomic_store(&slots[i].interp, NULL);
            slots[i].st = NULL;
        }
    }
    pthread_mutex_unlock(&slots_lock);
    if (interp == NULL) {
        opy_state_main = NULL;
        opy_state_many = 0;
    }
}

static void
state_unregister(OpyModuleState *st)
{
    int i;

    if (opy_state_main == st)
        opy_state_main = NULL;
    pthread_mutex_lock(&slots_lock);
    for (i = 0; i < STATE_SLOTS; i++) {
        if (slots[i].st == st && atomic_load(&slots[i].interp) != NULL) {
            atomic_store(&slots[i].interp, NULL);
            slots[i].st = NULL;
        }
    }
    pthread_mutex_unlock(&slots_lock);
}

/* Returns a new reference to a tuple of interned strings. */
static PyObject *
interned_tuple(const char *const *names, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    Py_ssize_t i;

    if (t == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *s = PyUnicode_InternFromString(names[i]);

        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SetItem(t, i, s);       /* steals s */
    }
    return t;
}

static int
state_init(OpyModuleState *st)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const kw_get[] = {"method", "groups", "get", "headers"};
    static const char *const kw_body[] = {"method", "groups", "headers", "body"};
    static const char *const kw_plain[] = {"method", "groups", "headers"};
    int i;

    for (i = 0; i < 4; i++)
        if ((st->str_method[i + 1] = PyUnicode_InternFromString(methods[i])) == NULL)
            return -1;
    st->kwnames_get = interned_tuple(kw_get, 4);
    st->kwnames_body = interned_tuple(kw_body, 4);
    st->kwnames_plain = interned_tuple(kw_plain, 3);
    st->empty_tuple = PyTuple_New(0);
    st->empty_bytes = PyBytes_FromStringAndSize("", 0);
    if (st->kwnames_get == NULL || st->kwnames_body == NULL || st->kwnames_plain == NULL ||
        st->empty_tuple == NULL || st->empty_bytes == NULL)
        return -1;
    return 0;
}

static int
module_exec(PyObject *module)
{
    OpyModuleState *st = opy_module_state(module);

    if (state_init(st) < 0 ||
        opy_error_module_init(module) < 0 ||
        opy_log_module_init(module) < 0 ||
        opy_gen_types_init(module, st->types) < 0 ||
        PyModule_AddFunctions(module, opy_gen_functions) < 0 ||
        opy_enums_module_init(module) < 0 ||
        state_register(st) < 0 ||
        opy_families_init(module) < 0)
        return -1;
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    OpyModuleState *st = opy_module_state(module);
    int i;

    if (st == NULL)
        return 0;
    Py_VISIT(st->OrthancException);
    Py_VISIT(st->LogStreamType);
    for (i = 0; i < OPY_TYPE_COUNT; i++)
        Py_VISIT(st->types[i]);
    for (i = 1; i <= 4; i++)
        Py_VISIT(st->str_method[i]);
    Py_VISIT(st->kwnames_get);
    Py_VISIT(st->kwnames_body);
    Py_VISIT(st->kwnames_plain);
    Py_VISIT(st->empty_tuple);
    Py_VISIT(st->empty_bytes);
    Py_VISIT(st->stream_of);
    return 0;
}

static int
module_clear(PyObject *module)
{
    OpyModuleState *st = opy_module_state(module);
    int i;

    if (st == NULL)
        return 0;
    state_unregister(st);
    if (PyInterpreterState_Get() == PyInterpreterState_Main())
        opy_static_string_clear();
    Py_CLEAR(st->OrthancException);
    Py_CLEAR(st->LogStreamType);
    for (i = 0; i < OPY_TYPE_COUNT; i++)
        Py_CLEAR(st->types[i]);
    for (i = 1; i <= 4; i++)
        Py_CLEAR(st->str_method[i]);
    Py_CLEAR(st->kwnames_get);
    Py_CLEAR(st->kwnames_body);
    Py_CLEAR(st->kwnames_plain);
    Py_CLEAR(st->empty_tuple);
    Py_CLEAR(st->empty_bytes);
    Py_CLEAR(st->stream_of);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *) module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#ifdef Py_mod_multiple_interpreters
    /* Every interpreter gets a module of its own (its state holds its
     * types); what the families share is C data, guarded (opy_interps.h). */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL}
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "orthanc",
    .m_doc = "Orthanc plugin SDK for Python scripts (C implementation).",
    .m_size = sizeof(OpyModuleState),
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyObject *
PyInit_orthanc(void)
{
    return PyModuleDef_Init(&module_def);
}
