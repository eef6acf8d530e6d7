/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_webdav.c - orthanc.RegisterWebDavCollection(uri, collection).
 *
 * `collection` is any Python object with these methods; `path` is a list of
 * str (the path items below `uri`, [] for its root):
 *     is_existing_folder(path) -> bool
 *     list_folder(path) -> None (no such folder) or an iterable of entries,
 *         each a dict: {'name': str, 'is_folder': bool (default False),
 *         'size': int (files only, required), 'mime_type': str or None
 *         (files only; None/absent: Orthanc guesses from the extension),
 *         'date': datetime.datetime, str 'YYYYMMDDTHHMMSS' (UTC) or None
 *         (default: now)}
 *     retrieve_file(path) -> None (no such file) or (data: bytes-like,
 *         mime_type: str or None, date: as above)
 *     store_file(path, data: bytes) -> bool  (optional)
 *     create_folder(path) -> bool            (optional)
 *     delete_item(path) -> bool              (optional)
 * The last three return True when done, False when refused (read-only);
 * when absent the collection is read-only for that operation. A naive
 * datetime is taken as UTC; an aware one is converted to UTC.
 * Several collections may be registered, each on its own uri (Orthanc
 * refuses a uri already in use: orthanc.OrthancException).
 * Thread: Orthanc's HTTP threads (several requests may run at once).
 * Errors: an exception or a bad return value (a non-bool where a bool is
 * expected, a malformed entry, ...) is logged once with its traceback
 * (OPY0010) and Orthanc is told the error code (that of an
 * orthanc.OrthancException, else "plugin error"), so the WebDAV request
 * fails; nothing is stored or listed half-way on our side.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_async.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPY_WEBDAV_MAX 64

typedef struct {
    PyObject *collection;       /* strong reference */
    char *uri;
} OpyWebDav;

static OpyWebDav collections[OPY_WEBDAV_MAX];
static int n_collections;

/* Reports the pending exception for `method` of collection `c`. */
static OrthancPluginErrorCode
dav_error(OpyWebDav *c, const char *method, uint32_t n, const char *const *items)
{
    char where[400];
    size_t len;
    uint32_t i;

    len = (size_t) snprintf(where, sizeof where, "WebDAV collection %.100s %s(", c->uri, method);
    for (i = 0; i < n && len < sizeof where - 1; i++)
        len += (size_t) snprintf(where + len, sizeof where - len, "/%s", items[i]);
    if (len < sizeof where - 1)
        snprintf(where + len, sizeof where - len, ")");
    return opy_error_report(where, NULL);
}

/* New reference to the list of path items, or NULL. */
static PyObject *
path_list(uint32_t n, const char *const *items)
{
    PyObject *list = PyList_New(n);
    uint32_t i;

    if (list == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *s = PyUnicode_DecodeUTF8(items[i], (Py_ssize_t) strlen(items[i]), "surrogateescape");

        if (s == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SetItem(list, i, s);     /* steals s */
    }
    return list;
}

/* 0/1 from a bool result, or -1 with TypeError. `r` borrowed. */
static int
bool_result(PyObject *r, const char *method)
{
    if (!PyBool_Check(r)) {
        PyErr_Format(PyExc_TypeError, "%s() must return True or False, not %R", method, r);
        return -1;
    }
    return r == Py_True;
}

/* Writes the date `v` (borrowed) as "YYYYMMDDTHHMMSS" into buf. 0 or -1. */
static int
date_text(PyObject *v, char *buf, size_t size, const char *what)
{
    PyObject *dt_mod = NULL, *dt_type = NULL, *offset = NULL, *utc = NULL, *tz = NULL;
    PyObject *conv = NULL, *text = NULL;
    const char *s;
    int rc = -1;

    if (v == NULL || v == Py_None) {
        time_t now = time(NULL);
        struct tm tm;

        if (gmtime_r(&now, &tm) == NULL || strftime(buf, size, "%Y%m%dT%H%M%S", &tm) == 0) {
            PyErr_SetString(PyExc_OSError, "cannot format the current time");
            return -1;
        }
        return 0;
    }
    if (PyUnicode_Check(v)) {
        size_t i, len;

        s = PyUnicode_AsUTF8(v);
        if (s == NULL)
            return -1;
        len = strlen(s);
        for (i = 0; i < len; i++) {
            char ch = s[i];
            int ok = (i < 8 || (i >= 9 && i < 15)) ? (ch >= '0' && ch <= '9')
                : i == 8 ? ch == 'T'
                : i == 15 ? (ch == ',' || ch == '.')
                : (ch >= '0' && ch <= '9');
            if (!ok)
                break;
        }
        if (i != len || (len != 15 && len < 17) || len >= size) {
            PyErr_Format(PyExc_ValueError, "%s: a date string must be 'YYYYMMDDTHHMMSS' (UTC, "
                         "optionally with ',fraction'), not %R", what, v);
            return -1;
        }
        memcpy(buf, s, len + 1);
        return 0;
    }
    dt_mod = PyImport_ImportModule("datetime");
    if (dt_mod == NULL || (dt_type = PyObject_GetAttrString(dt_mod, "datetime")) == NULL)
        goto done;
    if (PyObject_IsInstance(v, dt_type) != 1) {
        PyErr_Format(PyExc_TypeError, "%s: a date must be a datetime.datetime, a str "
                     "'YYYYMMDDTHHMMSS' or None, not %.100s", what, Py_TYPE(v)->tp_name);
        goto done;
    }
    offset = PyObject_CallMethod(v, "utcoffset", NULL);
    if (offset == NULL)
        goto done;
    if (offset != Py_None) {
        if ((tz = PyObject_GetAttrString(dt_mod, "timezone")) == NULL ||
            (utc = PyObject_GetAttrString(tz, "utc")) == NULL ||
            (conv = PyObject_CallMethod(v, "astimezone", "O", utc)) == NULL)
            goto done;
    }
    else {
        conv = Py_NewRef(v);
    }
    text = PyObject_CallMethod(conv, "strftime", "s", "%Y%m%dT%H%M%S");
    if (text == NULL || (s = PyUnicode_AsUTF8(text)) == NULL)
        goto done;
    if (strlen(s) >= size) {
        PyErr_Format(PyExc_ValueError, "%s: date out of range: %R", what, v);
        goto done;
    }
    strcpy(buf, s);
    rc = 0;
done:
    Py_XDECREF(text);
    Py_XDECREF(conv);
    Py_XDECREF(utc);
    Py_XDECREF(tz);
    Py_XDECREF(offset);
    Py_XDECREF(dt_type);
    Py_XDECREF(dt_mod);
    return rc;
}

/* Calls collection.<method>(path[, extra]). New reference or NULL. *missing
 * is set (no exception) when the method does not exist. */
static PyObject *
call(OpyWebDav *c, const char *method, uint32_t n, const char *const *items, PyObject *extra,
     int *missing)
{
    PyObject *m = NULL, *path = NULL, *r = NULL;

    *missing = 0;
    m = PyObject_GetAttrString(c->collection, method);
    if (m == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            *missing = 1;
        }
        goto done;
    }
    path = path_list(n, items);
    if (path == NULL)
        goto done;
    r = opy_async_result(extra != NULL ? PyObject_CallFunctionObjArgs(m, path, extra, NULL)
                                       : PyObject_CallOneArg(m, path));
done:
    Py_XDECREF(path);
    Py_XDECREF(m);
    return r;
}

static OrthancPluginErrorCode is_existing_folder(uint8_t *isExisting, uint32_t n, const char *const *items, void *payload);
OPY_STACK_THUNK(OrthancPluginErrorCode, is_existing_folder, (uint8_t *isExisting; uint32_t n; const char *const *items; void *payload;), (f->isExisting, f->n, f->items, f->payload))

static OrthancPluginErrorCode
is_existing_folder(uint8_t *isExisting, uint32_t n, const char *const *items, void *payload)
{
    OPY_STACK_SWITCH(is_existing_folder, (isExisting, n, items, payload));
    OpyWebDav *c = payload;
    PyObject *r;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int missing, v;
    int token = opy_gil_enter();

    *isExisting = 0;
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    r = call(c, "is_existing_folder", n, items, NULL, &missing);
    if (r == NULL || (v = bool_result(r, "is_existing_folder")) < 0)
        code = dav_error(c, "is_existing_folder", n, items);
    else
        *isExisting = (uint8_t) v;
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

/* One entry of list_folder() (borrowed) given to Orthanc. 0 or -1. */
static int
add_entry(PyObject *entry, OrthancPluginWebDavCollection *collection,
          OrthancPluginWebDavAddFile addFile, OrthancPluginWebDavAddFolder addFolder)
{
    static const char *const keys[] = {"name", "is_folder", "size", "mime_type", "date"};
    PyObject *v[5], *key, *value;
    Py_ssize_t pos = 0;
    const char *name, *mime = NULL;
    char date[40];
    unsigned long long size = 0;
    int i, folder = 0;
    OrthancPluginErrorCode code;

    if (!PyDict_Check(entry)) {
        PyErr_Format(PyExc_TypeError, "list_folder() entries must be dicts, not %.100s",
                     Py_TYPE(entry)->tp_name);
        return -1;
    }
    while (PyDict_Next(entry, &pos, &key, &value)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;

        for (i = 0; i < 5 && (k == NULL || strcmp(k, keys[i]) != 0); i++)
            ;
        if (i == 5) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "list_folder() entry has an unknown key %R (known: "
                         "name, is_folder, size, mime_type, date)", key);
            return -1;
        }
    }
    for (i = 0; i < 5; i++)
        v[i] = PyDict_GetItemString(entry, keys[i]);     /* borrowed or NULL */
    if (v[0] == NULL || (name = opy_str_get(v[0], "list_folder() entry 'name'")) == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "list_folder() entry without 'name': %R", entry);
        return -1;
    }
    if (v[1] != NULL && (folder = bool_result(v[1], "list_folder() entry 'is_folder' of")) < 0)
        return -1;
    if (date_text(v[4], date, sizeof date, "list_folder() entry 'date'") < 0)
        return -1;
    if (folder) {
        if (v[2] != NULL || v[3] != NULL) {
            PyErr_Format(PyExc_ValueError, "list_folder(): folder entry %R has 'size' or "
                         "'mime_type'", v[0]);
            return -1;
        }
        code = addFolder(collection, name, date);
    }
    else {
        if (v[2] == NULL) {
            PyErr_Format(PyExc_ValueError, "list_folder(): file entry %R needs a 'size'", v[0]);
            return -1;
        }
        if (opy_ulonglong_get(v[2], "list_folder() entry 'size'", &size) < 0 ||
            (v[3] != NULL && opy_arg_str(v[3], "list_folder() entry 'mime_type'", 1, &mime) < 0))
            return -1;
        code = addFile(collection, name, (uint64_t) size, mime, date);
    }
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        return -1;
    }
    return 0;
}

static OrthancPluginErrorCode list_folder(uint8_t *isExisting, OrthancPluginWebDavCollection *collection, OrthancPluginWebDavAddFile addFile, OrthancPluginWebDavAddFolder addFolder, uint32_t n, const char *const *items, void *payload);
OPY_STACK_THUNK(OrthancPluginErrorCode, list_folder, (uint8_t *isExisting; OrthancPluginWebDavCollection *collection; OrthancPluginWebDavAddFile addFile; OrthancPluginWebDavAddFolder addFolder; uint32_t n; const char *const *items; void *payload;), (f->isExisting, f->collection, f->addFile, f->addFolder, f->n, f->items, f->payload))

static OrthancPluginErrorCode
list_folder(uint8_t *isExisting, OrthancPluginWebDavCollection *collection,
            OrthancPluginWebDavAddFile addFile, OrthancPluginWebDavAddFolder addFolder,
            uint32_t n, const char *const *items, void *payload)
{
    OPY_STACK_SWITCH(list_folder, (isExisting, collection, addFile, addFolder, n, items, payload));
    OpyWebDav *c = payload;
    PyObject *r = NULL, *it = NULL, *entry;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int missing;
    int token = opy_gil_enter();

    *isExisting = 0;
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    r = call(c, "list_folder", n, items, NULL, &missing);
    if (r == NULL)
        goto fail;
    if (r == Py_None)
        goto done;
    it = PyObject_GetIter(r);
    if (it == NULL) {
        PyErr_Format(PyExc_TypeError, "list_folder() must return None or an iterable of dicts, "
                     "not %.100s", Py_TYPE(r)->tp_name);
        goto fail;
    }
    /* addFile/addFolder only append to Orthanc's answer: called with the GIL. */
    while ((entry = PyIter_Next(it)) != NULL) {
        int rc = add_entry(entry, collection, addFile, addFolder);

        Py_DECREF(entry);
        if (rc < 0)
            goto fail;
    }
    if (PyErr_Occurred())
        goto fail;
    *isExisting = 1;
    goto done;
fail:
    code = dav_error(c, "list_folder", n, items);
done:
    Py_XDECREF(it);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode retrieve_file(OrthancPluginWebDavCollection *collection, OrthancPluginWebDavRetrieveFile retrieveFile, uint32_t n, const char *const *items, void *payload);
OPY_STACK_THUNK(OrthancPluginErrorCode, retrieve_file, (OrthancPluginWebDavCollection *collection; OrthancPluginWebDavRetrieveFile retrieveFile; uint32_t n; const char *const *items; void *payload;), (f->collection, f->retrieveFile, f->n, f->items, f->payload))

static OrthancPluginErrorCode
retrieve_file(OrthancPluginWebDavCollection *collection, OrthancPluginWebDavRetrieveFile retrieveFile,
              uint32_t n, const char *const *items, void *payload)
{
    OPY_STACK_SWITCH(retrieve_file, (collection, retrieveFile, n, items, payload));
    OpyWebDav *c = payload;
    PyObject *r = NULL;
    OpyBytes data = {0};
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    const char *mime = NULL;
    char date[40];
    int missing, pinned = 0;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    r = call(c, "retrieve_file", n, items, NULL, &missing);
    if (r == NULL)
        goto fail;
    if (r == Py_None)
        goto done;          /* no such file: Orthanc answers 404 */
    if (!PyTuple_Check(r) || PyTuple_Size(r) != 3) {
        PyErr_Format(PyExc_TypeError, "retrieve_file() must return None or a tuple (data, "
                     "mime_type, date), not %.100s", Py_TYPE(r)->tp_name);
        goto fail;
    }
    if (opy_arg_str(PyTuple_GetItem(r, 1), "retrieve_file() mime_type", 1, &mime) < 0 ||
        date_text(PyTuple_GetItem(r, 2), date, sizeof date, "retrieve_file() date") < 0 ||
        opy_bytes_get(PyTuple_GetItem(r, 0), "retrieve_file() data", &data) < 0)
        goto fail;
    pinned = 1;
    OPY_BEGIN_ALLOW_THREADS
    code = retrieveFile(collection, data.data, (uint64_t) data.size, mime, date);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        goto fail;
    }
    goto done;
fail:
    code = dav_error(c, "retrieve_file", n, items);
done:
    if (pinned)
        opy_bytes_release(&data);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

/* store_file / create_folder / delete_item: a bool result, False or an
 * absent method meaning refused (read-only). `data` may be NULL (empty file).
 *
 * The SDK names the out flag "isReadOnly", but Orthanc 1.10.1 reads it as
 * "done" (its WebDAV bucket returns the flag as the success of the
 * operation: 1 gives 201/204, 0 gives 403), so *done receives True for a
 * done operation. */
static OrthancPluginErrorCode change(const char *method, uint8_t *done, uint32_t n, const char *const *items, const void *data, uint64_t size, void *payload);
OPY_STACK_THUNK(OrthancPluginErrorCode, change, (const char *method; uint8_t *done; uint32_t n; const char *const *items; const void *data; uint64_t size; void *payload;), (f->method, f->done, f->n, f->items, f->data, f->size, f->payload))

static OrthancPluginErrorCode
change(const char *method, uint8_t *done, uint32_t n, const char *const *items,
       const void *data, uint64_t size, void *payload)
{
    OPY_STACK_SWITCH(change, (method, done, n, items, data, size, payload));
    OpyWebDav *c = payload;
    PyObject *r = NULL, *bytes = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    int missing = 0, v;
    int token = opy_gil_enter();

    *done = 0;
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    if (data != NULL || strcmp(method, "store_file") == 0) {
        if (size > (uint64_t) PY_SSIZE_T_MAX) {
            PyErr_SetString(PyExc_OverflowError, "file too large");
            code = dav_error(c, method, n, items);
            goto done;
        }
        bytes = PyBytes_FromStringAndSize(data, (Py_ssize_t) size);
        if (bytes == NULL) {
            code = dav_error(c, method, n, items);
            goto done;
        }
    }
    r = call(c, method, n, items, bytes, &missing);
    if (r == NULL) {
        if (!missing)
            code = dav_error(c, method, n, items);
        goto done;
    }
    v = bool_result(r, method);
    if (v < 0)
        code = dav_error(c, method, n, items);
    else
        *done = (uint8_t) v;
done:
    Py_XDECREF(r);
    Py_XDECREF(bytes);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode
store_file(uint8_t *done, uint32_t n, const char *const *items, const void *data,
           uint64_t size, void *payload)
{
    return change("store_file", done, n, items, data, size, payload);
}

static OrthancPluginErrorCode
create_folder(uint8_t *done, uint32_t n, const char *const *items, void *payload)
{
    return change("create_folder", done, n, items, NULL, 0, payload);
}

static OrthancPluginErrorCode
delete_item(uint8_t *done, uint32_t n, const char *const *items, void *payload)
{
    return change("delete_item", done, n, items, NULL, 0, payload);
}

/* Returns a new reference (None) or NULL with an exception set. */
static PyObject *
RegisterWebDavCollection(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"uri", "collection"};
    static const char *const required[] = {"is_existing_folder", "list_folder", "retrieve_file"};
    static const char *const optional[] = {"store_file", "create_folder", "delete_item"};
    PyObject *a[2], *m;
    OpyWebDav *c;
    const char *uri;
    OrthancPluginErrorCode code;
    int i;

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterWebDavCollection", NULL);
    if (opy_args_parse("RegisterWebDavCollection", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        (uri = opy_str_get(a[0], "uri")) == NULL)
        return NULL;
    for (i = 0; i < 3; i++) {
        int rc;

        m = PyObject_GetAttrString(a[1], required[i]);      /* new */
        if (m == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "orthanc.RegisterWebDavCollection(): the collection "
                         "(%.100s) has no %s() method", Py_TYPE(a[1])->tp_name, required[i]);
            return NULL;
        }
        /* window open and method callable */
        rc = opy_registry_check("RegisterWebDavCollection", m);
        Py_DECREF(m);
        if (rc < 0)
            return NULL;
    }
    for (i = 0; i < 3; i++) {
        m = PyObject_GetAttrString(a[1], optional[i]);
        if (m == NULL) {
            PyErr_Clear();
            continue;
        }
        if (!PyCallable_Check(m)) {
            Py_DECREF(m);
            PyErr_Format(PyExc_TypeError, "orthanc.RegisterWebDavCollection(): %s of the "
                         "collection is not callable", optional[i]);
            return NULL;
        }
        Py_DECREF(m);
    }
    if (n_collections >= OPY_WEBDAV_MAX) {
        PyErr_Format(PyExc_RuntimeError, "too many WebDAV collections (at most %d)", OPY_WEBDAV_MAX);
        return NULL;
    }
    c = &collections[n_collections];
    c->uri = strdup(uri);
    if (c->uri == NULL)
        return PyErr_NoMemory();
    /* Still inside OrthancPluginInitialize(): no need to release the GIL. */
    code = OrthancPluginRegisterWebDavCollection(opy_context, c->uri, is_existing_folder, list_folder,
                                                 retrieve_file, store_file, create_folder,
                                                 delete_item, c);
    if (code != OrthancPluginErrorCode_Success) {
        /* Orthanc did not keep the payload. */
        free(c->uri);
        c->uri = NULL;
        return opy_error_raise(code);
    }
    c->collection = Py_NewRef(a[1]);
    n_collections++;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterWebDavCollection", (PyCFunction) (void (*)(void)) RegisterWebDavCollection,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterWebDavCollection($module, /, uri, collection)\n--\n\n"
     "Serve a WebDAV folder tree at uri from collection, an object with is_existing_folder(path),\n"
     "list_folder(path), retrieve_file(path) and optionally store_file(path, data),\n"
     "create_folder(path), delete_item(path); path is a list of str (see\n"
     "docs/callbacks/webdav.md)."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_webdav_init(PyObject *module)
{
    /* A new interpreter (first start or after POST /tools/reset): empty again. */
    if (opy_interps_is_main())
        n_collections = 0;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_webdav_finalize(void)
{
    int i;

    /* Orthanc keeps the payloads; a late call finds Python closed. */
    for (i = 0; i < n_collections; i++)
        Py_CLEAR(collections[i].collection);
}
