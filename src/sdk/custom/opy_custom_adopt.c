/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom_adopt.c - orthanc.AdoptDicomInstance (SDK 1.12.8; not in the
 * official plugin): three out-parameters, returned as a tuple.
 *
 * Orthanc indexes a DICOM file that stays where it is: its attachment gets
 * the custom data given here, which the storage area registered with
 * RegisterStorageArea3 receives back when the attachment is read or removed
 * (so it can tell adopted files from the ones it stores itself).
 */
#include "opy_custom.h"

#if ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 8)

const char opy_custom_AdoptDicomInstance_doc[] =
    "AdoptDicomInstance($module, /, dicom, customData)\n--\n\n"
    "Index a DICOM instance that stays where it is (SDK 1.12.8): only with a storage area\n"
    "registered by RegisterStorageArea3, which gets customData back when the attachment is\n"
    "read or removed.\n\n"
    "Parameters:\n  dicom (bytes): the DICOM file\n"
    "  customData (bytes or str or None): what the storage area needs to find the file\n\n"
    "Returns:\n  tuple: (instanceId str, attachmentUuid str, storeStatus int: orthanc.StoreStatus)";

PyObject *
opy_custom_AdoptDicomInstance(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"dicom", "customData"};
    PyObject *a[2], *id = NULL, *uuid = NULL;
    OpyBytes dicom, custom = {NULL, 0, {0}, 0};
    int have_custom = 0;
    OrthancPluginMemoryBuffer instance = {NULL, 0}, attachment = {NULL, 0};
    OrthancPluginStoreStatus status = OrthancPluginStoreStatus_Failure;
    OrthancPluginErrorCode code;

    (void) self;
    if (opy_sdk_require(OPY_SDK_VERSION(1, 12, 8), "AdoptDicomInstance") < 0 ||
        opy_args_parse("AdoptDicomInstance", args, nargs, kwnames, names, 2, 2, a) < 0 ||
        opy_bytes_get(a[0], "dicom", &dicom) < 0)
        return NULL;
    if (a[1] != Py_None) {
        if (opy_bytes_get(a[1], "customData", &custom) < 0) {
            opy_bytes_release(&dicom);
            return NULL;
        }
        have_custom = 1;
    }
    if (opy_size_check(custom.size, UINT32_MAX, "customData") < 0 || opy_sdk_is_closed()) {
        if (!PyErr_Occurred())
            opy_error_sdk_closed();
        goto done;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginAdoptDicomInstance(opy_context, &instance, &attachment, &status, dicom.data,
                                           (uint64_t) dicom.size, custom.data, (uint32_t) custom.size);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        goto done;
    }
    id = PyUnicode_FromStringAndSize(instance.data ? instance.data : "", (Py_ssize_t) instance.size);
    uuid = PyUnicode_FromStringAndSize(attachment.data ? attachment.data : "", (Py_ssize_t) attachment.size);
done:
    if (instance.data != NULL)
        OrthancPluginFreeMemoryBuffer(opy_context, &instance);
    if (attachment.data != NULL)
        OrthancPluginFreeMemoryBuffer(opy_context, &attachment);
    opy_bytes_release(&dicom);
    if (have_custom)
        opy_bytes_release(&custom);
    if (id == NULL || uuid == NULL) {
        Py_XDECREF(id);
        Py_XDECREF(uuid);
        return NULL;
    }
    return Py_BuildValue("(NNi)", id, uuid, (int) status);
}

#endif
