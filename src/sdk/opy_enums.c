/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_enums.c - creates the enum classes from the generated table.
 */
#include "opy_python.h"
#include "opy_enums.h"

/* Returns a new reference to the class, or NULL. */
static PyObject *
make_enum(const OpyEnumDef *def)
{
    PyObject *ns = NULL, *cls = NULL, *v = NULL;
    const OpyEnumValue *e;

    ns = PyDict_New();
    if (ns == NULL)
        goto done;
    if ((v = PyUnicode_FromString(def->doc)) == NULL || PyDict_SetItemString(ns, "__doc__", v) < 0)
        goto done;
    Py_CLEAR(v);
    if ((v = PyUnicode_FromString("orthanc")) == NULL || PyDict_SetItemString(ns, "__module__", v) < 0)
        goto done;
    Py_CLEAR(v);
    for (e = def->values; e->name != NULL; e++) {
        if ((v = PyLong_FromLongLong(e->value)) == NULL ||
            PyDict_SetItemString(ns, e->name, v) < 0)       /* no steal */
            goto done;
        Py_CLEAR(v);
    }
    cls = PyObject_CallFunction((PyObject *) &PyType_Type, "s(O)O", def->name,
                                (PyObject *) &PyBaseObject_Type, ns);
done:
    Py_XDECREF(v);
    Py_XDECREF(ns);
    return cls;
}

int
opy_enums_module_init(PyObject *module)
{
    const OpyEnumDef *def;

    for (def = opy_gen_enums; def->name != NULL; def++) {
        PyObject *cls = make_enum(def);

        if (cls == NULL)
            return -1;
        if (PyModule_AddObjectRef(module, def->name, cls) < 0) {
            Py_DECREF(cls);
            return -1;
        }
        Py_DECREF(cls);
    }
    return 0;
}
