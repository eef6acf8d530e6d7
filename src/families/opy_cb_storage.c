/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_storage.c - orthanc.RegisterStorageArea, orthanc.RegisterStorageArea2
 * and orthanc.RegisterStorageArea3 (SDK 1.12.8, custom data): a storage area
 * written in Python.
 *
 * Python signatures (positional):
 *   create(uuid: str, contentType: int, data: bytes) -> ignored
 *   read(uuid: str, contentType: int) -> bytes-like        (RegisterStorageArea)
 *   readWhole(uuid: str, contentType: int) -> bytes-like   (RegisterStorageArea2)
 *   readRange(uuid: str, contentType: int, rangeStart: int, size: int)
 *       -> bytes-like of exactly `size` bytes              (RegisterStorageArea2)
 *   remove(uuid: str, contentType: int) -> ignored
 * RegisterStorageArea3 (only built with a 1.12.8+ header, refused on an
 * older Orthanc):
 *   create(uuid, content_type, compression_type, content: bytes,
 *          dicom_instance: DicomInstance | None) -> (error_code, custom_data)
 *       also accepted: None (stored, no custom data), an int error code,
 *       bytes-like custom data; b"" custom data = none.
 *   read(uuid, content_type, range_start, size, custom_data: bytes)
 *       -> (error_code, bytes of exactly size); also plain bytes-like or an
 *       int error code; with a non-zero code the second item is not looked at.
 *   remove(uuid, content_type, custom_data: bytes) -> error_code or None.
 * dicom_instance is borrowed (invalid once create returns), None for the
 * attachments that are not DICOM files. A non-zero error code goes to
 * Orthanc as it is (no log line of ours); a result of another shape is a
 * TypeError, reported as an exception.
 * contentType is an orthanc.ContentType value. "bytes-like" means bytes,
 * bytearray, memoryview or any C-contiguous buffer; a str is refused.
 *
 * Thread: whichever Orthanc thread reads or writes an attachment (HTTP
 * threads, the DICOM SCP, jobs), several at once; each takes the GIL.
 *
 * Errors: an exception, a read result that is not bytes-like, or a range of
 * the wrong size is logged once with its traceback (OPY0010) and Orthanc gets
 * an error code (the code of an orthanc.OrthancException, otherwise
 * OrthancPluginErrorCode_Plugin): the upload, download or deletion fails
 * with an HTTP error (or a DIMSE failure); nothing is stored half-way.
 *
 * Registrations: Orthanc has one storage area. Only one of RegisterStorageArea,
 * RegisterStorageArea2 and RegisterStorageArea3 may be called, once; a second call raises
 * RuntimeError. For RegisterStorageArea2, readRange may be None (Orthanc then
 * always reads whole files).
 *
 * Memory: RegisterStorageArea's read hands Orthanc a malloc()'ed copy (the SDK
 * frees it with free()); readWhole fills a buffer made with
 * OrthancPluginCreateMemoryBuffer64 (freed by Orthanc); readRange copies into
 * the buffer that Orthanc allocated, whose size is the size of the range.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_async.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strong references, set once while the script is imported. */
static PyObject *f_create, *f_read, *f_range, *f_remove;
static int registered;          /* 1: RegisterStorageArea, 2: ...Area2, 3: ...Area3 */

/* Calls f(uuid, type[, extra...]) and returns its result (new reference),
 * or NULL with an exception set. `data` (borrowed, may be NULL) and the two
 * optional integers are appended when given. */
static PyObject *
call(PyObject *f, const char *uuid, OrthancPluginContentType type, PyObject *data,
     int with_range, uint64_t start, uint64_t size)
{
    PyObject *args[4] = {NULL, NULL, NULL, NULL};
    PyObject *r = NULL;
    Py_ssize_t n = 2, i;

    args[0] = PyUnicode_FromString(uuid ? uuid : "");
    args[1] = PyLong_FromLong((long) type);
    if (data != NULL) {
        Py_INCREF(data);
        args[2] = data;
        n = 3;
    }
    else if (with_range) {
        args[2] = PyLong_FromUnsignedLongLong(start);
        args[3] = PyLong_FromUnsignedLongLong(size);
        n = 4;
    }
    for (i = 0; i < n; i++)
        if (args[i] == NULL)
            goto done;
    r = PyObject_Vectorcall(f, args, (size_t) n, NULL);
done:
    for (i = 0; i < 4; i++)
        Py_XDECREF(args[i]);
    return r;
}

/* The result of a read callback, pinned. str and non-buffers raise
 * TypeError naming the callback. 0 or -1. */
static int
pin_result(PyObject *r, const char *what, OpyBytes *out)
{
    if (r == NULL)
        return -1;
    if (PyUnicode_Check(r) || !PyObject_CheckBuffer(r)) {
        PyErr_Format(PyExc_TypeError, "the %s callback must return bytes (or bytes-like), not %.100s",
                     what, Py_TYPE(r)->tp_name);
        return -1;
    }
    return opy_bytes_get(r, what, out);
}

static OrthancPluginErrorCode
report(const char *what, const char *uuid, OrthancPluginContentType type)
{
    char where[200];

    snprintf(where, sizeof where, "storage area %s callback (uuid %.60s, content type %d)",
             what, uuid ? uuid : "?", (int) type);
    return opy_error_report(where, NULL);
}

static OrthancPluginErrorCode on_create(const char *uuid, const void *content, int64_t size, OrthancPluginContentType type);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_create, (const char *uuid; const void *content; int64_t size; OrthancPluginContentType type;), (f->uuid, f->content, f->size, f->type))

static OrthancPluginErrorCode
on_create(const char *uuid, const void *content, int64_t size, OrthancPluginContentType type)
{
    OPY_STACK_SWITCH(on_create, (uuid, content, size, type));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *data = NULL, *r = NULL;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    if (size < 0 || size > PY_SSIZE_T_MAX) {
        PyErr_Format(PyExc_OverflowError, "attachment of %lld bytes", (long long) size);
        code = report("create", uuid, type);
        goto done;
    }
    data = PyBytes_FromStringAndSize(size ? content : NULL, (Py_ssize_t) size);
    r = data ? call(f_create, uuid, type, data, 0, 0, 0) : NULL;
    if (r == NULL)
        code = report("create", uuid, type);
done:
    Py_XDECREF(r);
    Py_XDECREF(data);
    opy_gil_leave(token);
    return code;
}

/* Where a read callback's bytes go. */
typedef enum {
    READ_MALLOC,        /* RegisterStorageArea: malloc()'ed, freed by Orthanc with free() */
    READ_NEW_BUFFER,    /* StorageArea2 whole read: OrthancPluginCreateMemoryBuffer64 */
    READ_RANGE          /* StorageArea2 range: Orthanc's buffer, of exactly the range's size */
} ReadKind;

/* The one read path of the three read callbacks: calls f, checks and pins
 * its bytes, copies them to the target of `kind`. With range, the callback
 * gets (uuid, type, rangeStart, target->size). */
static OrthancPluginErrorCode read_into(PyObject *f, const char *what, ReadKind kind, const char *uuid, OrthancPluginContentType type, void **content, int64_t *size, OrthancPluginMemoryBuffer64 *target, uint64_t rangeStart);
OPY_STACK_THUNK(OrthancPluginErrorCode, read_into, (PyObject *f; const char *what; ReadKind kind; const char *uuid; OrthancPluginContentType type; void **content; int64_t *size; OrthancPluginMemoryBuffer64 *target; uint64_t rangeStart;), (f->f, f->what, f->kind, f->uuid, f->type, f->content, f->size, f->target, f->rangeStart))

static OrthancPluginErrorCode
read_into(PyObject *f, const char *what, ReadKind kind, const char *uuid,
          OrthancPluginContentType type, void **content, int64_t *size,
          OrthancPluginMemoryBuffer64 *target, uint64_t rangeStart)
{
    OPY_STACK_SWITCH(read_into, (f, what, kind, uuid, type, content, size, target, rangeStart));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *r = NULL;
    OpyBytes b;
    int pinned = 0;
    int token = opy_gil_enter();

    if (kind == READ_MALLOC) {
        *content = NULL;
        *size = 0;
    }
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    r = kind == READ_RANGE ? call(f, uuid, type, NULL, 1, rangeStart, target->size)
                           : call(f, uuid, type, NULL, 0, 0, 0);
    if (pin_result(r, what, &b) < 0)
        goto error;
    pinned = 1;
    switch (kind) {
    case READ_MALLOC:
        /* malloc(0) may return NULL: always ask for at least one byte. */
        *content = malloc(b.size > 0 ? (size_t) b.size : 1);
        if (*content == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        Py_BEGIN_ALLOW_THREADS
        if (b.size > 0)
            memcpy(*content, b.data, (size_t) b.size);
        Py_END_ALLOW_THREADS
        *size = (int64_t) b.size;
        break;
    case READ_NEW_BUFFER:
        OPY_BEGIN_ALLOW_THREADS
        code = OrthancPluginCreateMemoryBuffer64(opy_context, target, (uint64_t) b.size);
        if (code == OrthancPluginErrorCode_Success && b.size > 0)
            memcpy(target->data, b.data, (size_t) b.size);
        OPY_END_ALLOW_THREADS
        if (code != OrthancPluginErrorCode_Success) {
            opy_error_raise(code);
            goto error;
        }
        break;
    case READ_RANGE:
        if ((uint64_t) b.size != target->size) {
            PyErr_Format(PyExc_ValueError,
                         "the readRange callback returned %zd bytes for a range of %llu bytes at %llu",
                         b.size, (unsigned long long) target->size, (unsigned long long) rangeStart);
            goto error;
        }
        Py_BEGIN_ALLOW_THREADS
        if (b.size > 0)
            memcpy(target->data, b.data, (size_t) b.size);
        Py_END_ALLOW_THREADS
        break;
    }
    goto done;
error:
    code = report(what, uuid, type);
done:
    if (pinned)
        opy_bytes_release(&b);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode
on_read(void **content, int64_t *size, const char *uuid, OrthancPluginContentType type)
{
    return read_into(f_read, "read", READ_MALLOC, uuid, type, content, size, NULL, 0);
}

static OrthancPluginErrorCode
on_read_whole(OrthancPluginMemoryBuffer64 *target, const char *uuid, OrthancPluginContentType type)
{
    return read_into(f_read, "readWhole", READ_NEW_BUFFER, uuid, type, NULL, NULL, target, 0);
}

static OrthancPluginErrorCode
on_read_range(OrthancPluginMemoryBuffer64 *target, const char *uuid, OrthancPluginContentType type,
              uint64_t rangeStart)
{
    return read_into(f_range, "readRange", READ_RANGE, uuid, type, NULL, NULL, target, rangeStart);
}

static OrthancPluginErrorCode on_remove(const char *uuid, OrthancPluginContentType type);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_remove, (const char *uuid; OrthancPluginContentType type;), (f->uuid, f->type))

static OrthancPluginErrorCode
on_remove(const char *uuid, OrthancPluginContentType type)
{
    OPY_STACK_SWITCH(on_remove, (uuid, type));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *r = NULL;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    r = call(f_remove, uuid, type, NULL, 0, 0, 0);
    if (r == NULL)
        code = report("remove", uuid, type);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

/* Checks the window, that no storage area is registered yet and that every
 * non-NULL entry of f[0..n) is callable (f[i] NULL or None only where
 * `nullable` == i). 0 or -1 with an exception set. */
static int
check(const char *fname, PyObject **f, int n, int nullable)
{
    int i;

    for (i = 0; i < n; i++) {
        if (i == nullable && f[i] == Py_None)
            continue;
        if (opy_registry_check(fname, f[i]) < 0 || (f[i] = opy_async_adapt(f[i])) == NULL)
            return -1;
    }
    if (opy_registry_check_one(fname, NULL, registered,
                               registered == 3 ? "a storage area (by RegisterStorageArea3)"
                               : "a storage area (by RegisterStorageArea or RegisterStorageArea2)") < 0)
        return -1;
    return 0;
}

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 8)
/* ------------------------------------------------------------ version 3 */

/* An Orthanc error code returned by a v3 callback (an int, not a bool, in
 * the range of OrthancPluginErrorCode). 0 or -1 with TypeError/OverflowError
 * naming the callback. */
static int
code_get(PyObject *o, const char *what, OrthancPluginErrorCode *code)
{
    long long v;
    char name[80];

    if (PyBool_Check(o) || !PyLong_Check(o)) {
        PyErr_Format(PyExc_TypeError, "the %s callback must give an error code as an int, not %.100s",
                     what, Py_TYPE(o)->tp_name);
        return -1;
    }
    snprintf(name, sizeof name, "the error code of the %s callback", what);
    if (opy_long_get(o, name, INT32_MIN, INT32_MAX, &v) < 0)
        return -1;
    *code = (OrthancPluginErrorCode) v;
    return 0;
}

/* bytes-like, not str: the same rule as the v1/v2 read results. */
static int
is_bytes_like(PyObject *o)
{
    return !PyUnicode_Check(o) && PyObject_CheckBuffer(o);
}

/* Splits the result of a v3 create or read callback into its error code and
 * its data (borrowed, may be None): (code, data), a plain int (code, no data),
 * a plain bytes-like (success, data), and for create a plain None (success,
 * no data). 0 or -1 with TypeError set. */
static int
split_result(PyObject *r, const char *what, const char *shape, int none_ok,
             OrthancPluginErrorCode *code, PyObject **data)
{
    *code = OrthancPluginErrorCode_Success;
    *data = Py_None;
    if (r == Py_None && none_ok)
        return 0;
    if (PyTuple_Check(r) && PyTuple_Size(r) == 2) {
        *data = PyTuple_GetItem(r, 1);
        return code_get(PyTuple_GetItem(r, 0), what, code);
    }
    if (PyLong_Check(r) && !PyBool_Check(r))
        return code_get(r, what, code);
    if (is_bytes_like(r)) {
        *data = r;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "the %s callback must return %s, not %.100s", what, shape,
                 Py_TYPE(r)->tp_name);
    return -1;
}

static OrthancPluginErrorCode on_create3(OrthancPluginMemoryBuffer *customData, const char *uuid, const void *content, uint64_t size, OrthancPluginContentType type, OrthancPluginCompressionType compression, const OrthancPluginDicomInstance *instance);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_create3, (OrthancPluginMemoryBuffer *customData; const char *uuid; const void *content; uint64_t size; OrthancPluginContentType type; OrthancPluginCompressionType compression; const OrthancPluginDicomInstance *instance;), (f->customData, f->uuid, f->content, f->size, f->type, f->compression, f->instance))

static OrthancPluginErrorCode
on_create3(OrthancPluginMemoryBuffer *customData, const char *uuid, const void *content, uint64_t size,
           OrthancPluginContentType type, OrthancPluginCompressionType compression,
           const OrthancPluginDicomInstance *instance)
{
    OPY_STACK_SWITCH(on_create3, (customData, uuid, content, size, type, compression, instance));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *args[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *r = NULL, *data;
    OpyBytes b;
    int i, pinned = 0;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    if (size > (uint64_t) PY_SSIZE_T_MAX) {
        PyErr_Format(PyExc_OverflowError, "attachment of %llu bytes", (unsigned long long) size);
        goto error;
    }
    args[0] = PyUnicode_FromString(uuid ? uuid : "");
    args[1] = PyLong_FromLong((long) type);
    args[2] = PyLong_FromLong((long) compression);
    args[3] = PyBytes_FromStringAndSize(size ? content : NULL, (Py_ssize_t) size);
    /* DICOM attachments come with their instance (borrowed, invalid once
     * the callback returns); other attachments with None. */
    args[4] = instance != NULL ? opy_handle_new(opy_state->types[OPY_TYPE_DicomInstance], (void *) instance)
                               : Py_NewRef(Py_None);
    for (i = 0; i < 5; i++)
        if (args[i] == NULL)
            goto error;
    r = PyObject_Vectorcall(f_create, args, 5, NULL);
    if (r == NULL ||
        split_result(r, "create", "(error_code, custom_data), None, an int error code or bytes of custom "
                     "data", 1, &code, &data) < 0)
        goto error;
    if (code != OrthancPluginErrorCode_Success || data == Py_None)
        goto done;
    if (!is_bytes_like(data)) {
        PyErr_Format(PyExc_TypeError, "the custom data returned by the create callback must be bytes "
                     "(or bytes-like) or None, not %.100s", Py_TYPE(data)->tp_name);
        goto error;
    }
    if (opy_bytes_get(data, "custom data", &b) < 0)
        goto error;
    pinned = 1;
    if (b.size == 0)
        goto done;          /* stored without custom data, as with None */
    if (opy_size_check(b.size, UINT32_MAX, "the custom data of the create callback") < 0)
        goto error;
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginCreateMemoryBuffer(opy_context, customData, (uint32_t) b.size);
    if (code == OrthancPluginErrorCode_Success)
        memcpy(customData->data, b.data, (size_t) b.size);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        goto error;
    }
    goto done;
error:
    code = report("create", uuid, type);
done:
    if (pinned)
        opy_bytes_release(&b);
    if (args[4] != NULL && args[4] != Py_None)
        opy_handle_invalidate(args[4]);
    for (i = 0; i < 5; i++)
        Py_XDECREF(args[i]);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode on_read3(OrthancPluginMemoryBuffer64 *target, const char *uuid, OrthancPluginContentType type, uint64_t rangeStart, const void *customData, uint32_t customDataSize);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_read3, (OrthancPluginMemoryBuffer64 *target; const char *uuid; OrthancPluginContentType type; uint64_t rangeStart; const void *customData; uint32_t customDataSize;), (f->target, f->uuid, f->type, f->rangeStart, f->customData, f->customDataSize))

static OrthancPluginErrorCode
on_read3(OrthancPluginMemoryBuffer64 *target, const char *uuid, OrthancPluginContentType type,
         uint64_t rangeStart, const void *customData, uint32_t customDataSize)
{
    OPY_STACK_SWITCH(on_read3, (target, uuid, type, rangeStart, customData, customDataSize));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *args[5] = {NULL, NULL, NULL, NULL, NULL};
    PyObject *r = NULL, *data;
    OpyBytes b;
    int i, pinned = 0;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    args[0] = PyUnicode_FromString(uuid ? uuid : "");
    args[1] = PyLong_FromLong((long) type);
    args[2] = PyLong_FromUnsignedLongLong(rangeStart);
    args[3] = PyLong_FromUnsignedLongLong(target->size);
    args[4] = PyBytes_FromStringAndSize(customDataSize ? customData : NULL, (Py_ssize_t) customDataSize);
    for (i = 0; i < 5; i++)
        if (args[i] == NULL)
            goto error;
    r = PyObject_Vectorcall(f_read, args, 5, NULL);
    if (r == NULL ||
        split_result(r, "read", "(error_code, bytes), bytes or an int error code", 0, &code, &data) < 0)
        goto error;
    if (code != OrthancPluginErrorCode_Success)
        goto done;          /* whatever comes with an error code (None, b"") is not looked at */
    if (data == Py_None && target->size == 0)
        goto done;
    if (!is_bytes_like(data)) {
        PyErr_Format(PyExc_TypeError, "the read callback must return bytes (or bytes-like) with error "
                     "code 0, not %.100s", Py_TYPE(data)->tp_name);
        goto error;
    }
    if (opy_bytes_get(data, "read result", &b) < 0)
        goto error;
    pinned = 1;
    if ((uint64_t) b.size != target->size) {
        PyErr_Format(PyExc_ValueError, "the read callback returned %zd bytes for a range of %llu bytes at %llu",
                     b.size, (unsigned long long) target->size, (unsigned long long) rangeStart);
        goto error;
    }
    Py_BEGIN_ALLOW_THREADS
    if (b.size > 0)
        memcpy(target->data, b.data, (size_t) b.size);
    Py_END_ALLOW_THREADS
    goto done;
error:
    code = report("read", uuid, type);
done:
    if (pinned)
        opy_bytes_release(&b);
    for (i = 0; i < 5; i++)
        Py_XDECREF(args[i]);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}

static OrthancPluginErrorCode on_remove3(const char *uuid, OrthancPluginContentType type, const void *customData, uint32_t customDataSize);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_remove3, (const char *uuid; OrthancPluginContentType type; const void *customData; uint32_t customDataSize;), (f->uuid, f->type, f->customData, f->customDataSize))

static OrthancPluginErrorCode
on_remove3(const char *uuid, OrthancPluginContentType type, const void *customData, uint32_t customDataSize)
{
    OPY_STACK_SWITCH(on_remove3, (uuid, type, customData, customDataSize));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *args[3] = {NULL, NULL, NULL};
    PyObject *r = NULL;
    int i;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    args[0] = PyUnicode_FromString(uuid ? uuid : "");
    args[1] = PyLong_FromLong((long) type);
    args[2] = PyBytes_FromStringAndSize(customDataSize ? customData : NULL, (Py_ssize_t) customDataSize);
    for (i = 0; i < 3; i++)
        if (args[i] == NULL)
            goto error;
    r = PyObject_Vectorcall(f_remove, args, 3, NULL);
    if (r == NULL)
        goto error;
    if (r != Py_None) {         /* None: removed (as v1/v2 remove callbacks) */
        if (PyBool_Check(r) || !PyLong_Check(r)) {
            PyErr_Format(PyExc_TypeError, "the remove callback must return an int error code (or None), "
                         "not %.100s", Py_TYPE(r)->tp_name);
            goto error;
        }
        if (code_get(r, "remove", &code) < 0)
            goto error;
    }
    goto done;
error:
    code = report("remove", uuid, type);
done:
    for (i = 0; i < 3; i++)
        Py_XDECREF(args[i]);
    Py_XDECREF(r);
    opy_gil_leave(token);
    return code;
}
#endif /* SDK 1.12.8 */

static void
keep(PyObject *create, PyObject *read, PyObject *range, PyObject *remove)
{
    Py_INCREF(create);
    f_create = create;
    Py_INCREF(read);
    f_read = read;
    Py_XINCREF(range);
    f_range = range;
    Py_INCREF(remove);
    f_remove = remove;
}

static PyObject *
RegisterStorageArea(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"create", "read", "remove"};
    PyObject *a[3];

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterStorageArea", NULL);
    if (opy_args_parse("RegisterStorageArea", args, nargs, kwnames, names, 3, 3, a) < 0 ||
        check("RegisterStorageArea", a, 3, -1) < 0)
        return NULL;
    keep(a[0], a[1], NULL, a[2]);
    registered = 1;
    OrthancPluginRegisterStorageArea(opy_context, on_create, on_read, on_remove);
    Py_RETURN_NONE;
}

static PyObject *
RegisterStorageArea2(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"create", "readWhole", "readRange", "remove"};
    PyObject *a[4];

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterStorageArea2", NULL);
    if (opy_args_parse("RegisterStorageArea2", args, nargs, kwnames, names, 4, 4, a) < 0 ||
        check("RegisterStorageArea2", a, 4, 2) < 0)
        return NULL;
    keep(a[0], a[1], a[2] == Py_None ? NULL : a[2], a[3]);
    registered = 2;
    OrthancPluginRegisterStorageArea2(opy_context, on_create, on_read_whole,
                                      f_range != NULL ? on_read_range : NULL, on_remove);
    Py_RETURN_NONE;
}

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 8)
static PyObject *
RegisterStorageArea3(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"create", "read", "remove"};
    PyObject *a[3];

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterStorageArea3", NULL);
    if (opy_sdk_require(OPY_SDK_VERSION(1, 12, 8), "RegisterStorageArea3") < 0 ||
        opy_args_parse("RegisterStorageArea3", args, nargs, kwnames, names, 3, 3, a) < 0 ||
        check("RegisterStorageArea3", a, 3, -1) < 0)
        return NULL;
    keep(a[0], a[1], NULL, a[2]);
    registered = 3;
    OrthancPluginRegisterStorageArea3(opy_context, on_create3, on_read3, on_remove3);
    Py_RETURN_NONE;
}
#endif

static PyMethodDef methods[] = {
    {"RegisterStorageArea", (PyCFunction) (void (*)(void)) RegisterStorageArea,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterStorageArea($module, /, create, read, remove)\n--\n\n"
     "Replace Orthanc's storage area: create(uuid, contentType, data) writes an attachment,\n"
     "read(uuid, contentType) returns its bytes, remove(uuid, contentType) deletes it.\n"
     "An exception makes the Orthanc operation fail. Only one storage area may be registered."},
    {"RegisterStorageArea2", (PyCFunction) (void (*)(void)) RegisterStorageArea2,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterStorageArea2($module, /, create, readWhole, readRange, remove)\n--\n\n"
     "Like RegisterStorageArea, with range reads: readRange(uuid, contentType, rangeStart, size)\n"
     "returns exactly size bytes starting at rangeStart (readRange may be None).\n"
     "Only one storage area may be registered."},
#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 8)
    {"RegisterStorageArea3", (PyCFunction) (void (*)(void)) RegisterStorageArea3,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterStorageArea3($module, /, create, read, remove)\n--\n\n"
     "Replace Orthanc's storage area, with custom data per attachment (Orthanc 1.12.8+):\n"
     "create(uuid, content_type, compression_type, content, dicom_instance) -> (error_code, custom_data),\n"
     "read(uuid, content_type, range_start, size, custom_data) -> (error_code, bytes of exactly size),\n"
     "remove(uuid, content_type, custom_data) -> error_code. Only one storage area may be registered."},
#endif
    {NULL, NULL, 0, NULL}
};

int
opy_cb_storage_init(PyObject *module)
{
    /* A new interpreter (first start or after POST /tools/reset): empty again. */
    if (opy_interps_is_main())
        registered = 0;
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_storage_finalize(void)
{
    Py_CLEAR(f_create);
    Py_CLEAR(f_read);
    Py_CLEAR(f_range);
    Py_CLEAR(f_remove);
}
