/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom_kv.c - the key-value stores and queues that Orthanc keeps in
 * its own database (SDK 1.12.8 and 1.12.10): the functions with an out-flag
 * or out-parameters (GetKeyValue, KeysValuesIterator.Next and the Python
 * iteration protocol on it, DequeueValue, ReserveQueueValue, GetQueueSize),
 * and SetStableStatus (SDK 1.12.9). StoreKeyValue, DeleteKeyValue,
 * CreateKeysValuesIterator, EnqueueValue and AcknowledgeQueueValue are
 * generated.
 *
 * Names and results as the official 7.1 plugin: GetKeyValue and
 * DequeueValue give None when there is nothing, ReserveQueueValue
 * (None, None). An SDK error is orthanc.OrthancException, as for every
 * other function of the module (7.1 raises TypeError with the error's
 * description there).
 *
 * Each checks the running Orthanc before anything else (opy_sdk_require):
 * a plugin built with a newer header refuses on an older Orthanc.
 */
#include "opy_custom.h"

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 8)

#define REQUIRE(major, minor, revision, name) \
    do { if (opy_sdk_require(OPY_SDK_VERSION(major, minor, revision), name) < 0) return NULL; } while (0)

/* The bytes of a found value (None when not found); frees the buffer. */
static PyObject *
found_value(uint8_t found, OrthancPluginMemoryBuffer *buffer)
{
    if (!found) {
        if (buffer->data != NULL)
            OrthancPluginFreeMemoryBuffer(opy_context, buffer);
        Py_RETURN_NONE;
    }
    return opy_take_buffer(buffer);
}

static int
queue_origin(PyObject *obj, long long *out)
{
    return opy_enum_get(obj, "origin", &opy_gen_enums[OPY_ENUM_QueueOrigin], out);
}

const char opy_custom_GetKeyValue_doc[] =
    "GetKeyValue($module, /, storeId, key)\n--\n\n"
    "Get the value of a key in a key-value store of the Orthanc database (SDK 1.12.8).\n\n"
    "Parameters:\n  storeId (str): the store (unique to the plugin and the store)\n"
    "  key (str): the key\n\n"
    "Returns:\n  bytes: the value, or None when the key is not in the store";

PyObject *
opy_custom_GetKeyValue(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"storeId", "key"};
    PyObject *a[2];
    const char *store, *key;
    uint8_t found = 0;
    OrthancPluginMemoryBuffer buffer = {NULL, 0};
    OrthancPluginErrorCode code;

    (void) self;
    REQUIRE(1, 12, 8, "GetKeyValue");
    if (opy_args_parse("GetKeyValue", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        (store = opy_str_get(a[0], "storeId")) == NULL || (key = opy_str_get(a[1], "key")) == NULL)
        return NULL;
    OPY_CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginGetKeyValue(opy_context, &found, &buffer, store, key);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return found_value(found, &buffer);
}

/* In OpyHandleObject.flags of a KeysValuesIterator: Next() has reported
 * the end once. Orthanc answers BadSequenceOfCalls to a Next() past the
 * end; the iterator keeps answering False (and StopIteration) instead. */
#define OPY_ITERATOR_ENDED 1u

/* The SDK's flag of KeysValuesIteratorNext: Orthanc 1.12.8-1.13.0 set it
 * when the iterator has moved to an element, whatever the header's name of
 * it ("done") suggests (the official Book sample loops `while it.Next()`);
 * test_kv_queues.py checks it on the Orthanc it runs against. */
static int
iterator_next(PyObject *self, const char *fname)
{
    OpyHandleObject *h = (OpyHandleObject *) self;
    uint8_t flag = 0;
    OrthancPluginErrorCode code;

    if (opy_sdk_require(OPY_SDK_VERSION(1, 12, 8), fname) < 0 || opy_handle_get(self) == NULL)
        return -1;
    if (h->flags & OPY_ITERATOR_ENDED)
        return 0;
    if (opy_sdk_is_closed()) {
        opy_error_sdk_closed();
        return -1;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginKeysValuesIteratorNext(opy_context, &flag, h->ptr);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        return -1;
    }
    if (!flag)
        h->flags |= OPY_ITERATOR_ENDED;
    return flag != 0;
}

const char opy_custom_KeysValuesIterator_Next_doc[] =
    "Next($self, /)\n--\n\n"
    "Move to the next key of the store, in lexicographic order (SDK 1.12.8).\n\n"
    "Returns:\n  bool: True when there is one (read it with GetKey() and GetValue()), False at the end.\n\n"
    "The iterator is also a Python iterator: `for key, value in orthanc.CreateKeysValuesIterator(storeId)`.";

PyObject *
opy_custom_KeysValuesIterator_Next(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    int r;

    if (opy_args_parse("Next", args, nargs, kwnames, NULL, 0, 0, NULL) < 0 ||
        (r = iterator_next(self, "KeysValuesIterator.Next")) < 0)
        return NULL;
    return PyBool_FromLong(r);
}

/* tp_iternext: (key, value) of the next element; NULL without an exception
 * at the end. */
PyObject *
opy_custom_KeysValuesIterator_iternext(PyObject *self)
{
    OpyHandleObject *h = (OpyHandleObject *) self;
    const char *key;
    OrthancPluginMemoryBuffer buffer = {NULL, 0};
    OrthancPluginErrorCode code;
    PyObject *k, *v;
    int r = iterator_next(self, "KeysValuesIterator.__next__");

    if (r <= 0)
        return NULL;
    key = OrthancPluginKeysValuesIteratorGetKey(opy_context, h->ptr);
    if (key == NULL)
        return opy_error_raise(opy_sdk_last_error ? opy_sdk_last_error : OrthancPluginErrorCode_InternalError);
    if ((k = PyUnicode_DecodeUTF8(key, (Py_ssize_t) strlen(key), "surrogateescape")) == NULL)
        return NULL;
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginKeysValuesIteratorGetValue(opy_context, &buffer, h->ptr);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success) {
        Py_DECREF(k);
        return opy_error_raise(code);
    }
    if ((v = opy_take_buffer(&buffer)) == NULL) {
        Py_DECREF(k);
        return NULL;
    }
    return Py_BuildValue("(NN)", k, v);
}

const char opy_custom_DequeueValue_doc[] =
    "DequeueValue($module, /, queueId, origin)\n--\n\n"
    "Take a value out of a queue of the Orthanc database (SDK 1.12.8).\n\n"
    "Parameters:\n  queueId (str): the queue (unique to the plugin and the queue)\n"
    "  origin (int): orthanc.QueueOrigin.FRONT (FIFO) or BACK (LIFO)\n\n"
    "Returns:\n  bytes: the value, or None when the queue is empty\n\n"
    "The value is lost if the caller fails before it is processed: ReserveQueueValue() and\n"
    "AcknowledgeQueueValue() (SDK 1.12.10) are safer.";

PyObject *
opy_custom_DequeueValue(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"queueId", "origin"};
    PyObject *a[2];
    const char *queue;
    long long origin;
    uint8_t found = 0;
    OrthancPluginMemoryBuffer buffer = {NULL, 0};
    OrthancPluginErrorCode code;

    (void) self;
    REQUIRE(1, 12, 8, "DequeueValue");
    if (opy_args_parse("DequeueValue", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        (queue = opy_str_get(a[0], "queueId")) == NULL || queue_origin(a[1], &origin) < 0)
        return NULL;
    OPY_CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginDequeueValue(opy_context, &found, &buffer, queue, (OrthancPluginQueueOrigin) origin);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return found_value(found, &buffer);
}

const char opy_custom_GetQueueSize_doc[] =
    "GetQueueSize($module, /, queueId)\n--\n\n"
    "Number of values in a queue of the Orthanc database (SDK 1.12.8).\n\n"
    "Parameters:\n  queueId (str): the queue\n\nReturns:\n  int: its size";

PyObject *
opy_custom_GetQueueSize(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"queueId"};
    PyObject *a[1];
    const char *queue;
    uint64_t size = 0;
    OrthancPluginErrorCode code;

    (void) self;
    REQUIRE(1, 12, 8, "GetQueueSize");
    if (opy_args_parse("GetQueueSize", args, nargs, kwnames, names, 1, 1, a) < 0 ||
        (queue = opy_str_get(a[0], "queueId")) == NULL)
        return NULL;
    OPY_CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginGetQueueSize(opy_context, queue, &size);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return PyLong_FromUnsignedLongLong(size);
}

#endif /* SDK 1.12.8 */

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 9)

const char opy_custom_SetStableStatus_doc[] =
    "SetStableStatus($module, /, resourceId, stableStatus)\n--\n\n"
    "Force a resource stable or unstable (SDK 1.12.9). Forcing an unstable resource stable\n"
    "fires its STABLE_* change now; forcing it unstable restarts its stabilization delay.\n\n"
    "Parameters:\n  resourceId (str): the Orthanc identifier of a patient, study or series\n"
    "  stableStatus (int): orthanc.StableStatus.STABLE or UNSTABLE\n\n"
    "Returns:\n  tuple: (0, changed), changed being 1 when the status changed, else 0 (as the\n"
    "  official plugin)";

PyObject *
opy_custom_SetStableStatus(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"resourceId", "stableStatus"};
    PyObject *a[2];
    const char *resource;
    long long status;
    uint8_t changed = 0;
    OrthancPluginErrorCode code;

    (void) self;
    if (opy_sdk_require(OPY_SDK_VERSION(1, 12, 9), "SetStableStatus") < 0)
        return NULL;
    if (opy_args_parse("SetStableStatus", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        (resource = opy_str_get(a[0], "resourceId")) == NULL ||
        opy_enum_get(a[1], "stableStatus", &opy_gen_enums[OPY_ENUM_StableStatus], &status) < 0)
        return NULL;
    OPY_CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginSetStableStatus(opy_context, &changed, resource, (OrthancPluginStableStatus) status);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return Py_BuildValue("(ii)", 0, changed ? 1 : 0);
}

#endif /* SDK 1.12.9 */

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 10)

const char opy_custom_ReserveQueueValue_doc[] =
    "ReserveQueueValue($module, /, queueId, origin, releaseTimeout)\n--\n\n"
    "Reserve the next value of a queue of the Orthanc database (SDK 1.12.10): other consumers\n"
    "do not see it until it is acknowledged (AcknowledgeQueueValue(), which removes it) or\n"
    "releaseTimeout seconds have passed (it is then back in the queue).\n\n"
    "Parameters:\n  queueId (str): the queue\n"
    "  origin (int): orthanc.QueueOrigin.FRONT (FIFO) or BACK (LIFO)\n"
    "  releaseTimeout (int): seconds, at least 1\n\n"
    "Returns:\n  tuple: (value bytes, valueId int), or (None, None) when the queue is empty";

PyObject *
opy_custom_ReserveQueueValue(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"queueId", "origin", "releaseTimeout"};
    PyObject *a[3], *value;
    const char *queue;
    long long origin, timeout;
    uint8_t found = 0;
    uint64_t id = 0;
    OrthancPluginMemoryBuffer buffer = {NULL, 0};
    OrthancPluginErrorCode code;

    (void) self;
    REQUIRE(1, 12, 10, "ReserveQueueValue");
    if (opy_args_parse("ReserveQueueValue", args, nargs, kwnames, names, 3, 3, a) < 0 ||
        (queue = opy_str_get(a[0], "queueId")) == NULL || queue_origin(a[1], &origin) < 0 ||
        opy_long_get(a[2], "releaseTimeout", 0, UINT32_MAX, &timeout) < 0)
        return NULL;
    if (timeout == 0) {
        PyErr_SetString(PyExc_ValueError, "ReserveQueueValue(): releaseTimeout must be at least 1 second");
        return NULL;
    }
    OPY_CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginReserveQueueValue(opy_context, &found, &buffer, &id, queue,
                                          (OrthancPluginQueueOrigin) origin, (uint32_t) timeout);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    if (!found) {
        if (buffer.data != NULL)
            OrthancPluginFreeMemoryBuffer(opy_context, &buffer);
        return Py_BuildValue("(OO)", Py_None, Py_None);
    }
    if ((value = opy_take_buffer(&buffer)) == NULL)
        return NULL;
    return Py_BuildValue("(NK)", value, (unsigned long long) id);
}

#endif /* SDK 1.12.10 */
