/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom_dicom.c - DICOM functions the generator cannot express:
 * DicomInstance.GetInstanceData (pointer without size), the DICOMweb
 * encoders (C callback for binary tags: binary tags are put inline).
 */
#include "opy_custom.h"

#include <string.h>

const char opy_custom_DicomInstance_GetInstanceData_doc[] =
    "GetInstanceData($self, /)\n--\n\n"
    "Get the data of the DICOM file (a copy).\n\n"
    "Returns:\n  bytes: the DICOM file";

PyObject *
opy_custom_DicomInstance_GetInstanceData(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                         PyObject *kwnames)
{
    OpyHandleObject *h = (OpyHandleObject *) self;
    const void *data;
    int64_t size;
    OrthancPluginErrorCode code;
    PyObject *r;

    if (opy_args_parse("GetInstanceData", args, nargs, kwnames, NULL, 0, 0, NULL) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    OPY_CHECK_SDK();
    /* The pointer is only valid while the instance lives: the copy is made
     * with the GIL held, so the instance cannot be released meanwhile. */
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    size = OrthancPluginGetInstanceSize(opy_context, h->ptr);
    data = size >= 0 ? OrthancPluginGetInstanceData(opy_context, h->ptr) : NULL;
    code = opy_sdk_last_error;
    if (code != OrthancPluginErrorCode_Success || size < 0 || (data == NULL && size > 0))
        return opy_error_raise(code != OrthancPluginErrorCode_Success ? code
                               : OrthancPluginErrorCode_InternalError);
    r = PyBytes_FromStringAndSize(size ? data : "", (Py_ssize_t) size);
    return r;
}

typedef char *(*EncodeInstanceFn)(OrthancPluginContext *, const OrthancPluginDicomInstance *,
                                  OrthancPluginDicomWebBinaryCallback2, void *);
typedef char *(*EncodeBufferFn)(OrthancPluginContext *, const void *, uint32_t,
                                OrthancPluginDicomWebBinaryCallback2, void *);

static PyObject *
encode_instance(const char *fname, EncodeInstanceFn fn, PyObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    OpyHandleObject *h = (OpyHandleObject *) self;
    OrthancPluginErrorCode code;
    char *s;

    if (opy_args_parse(fname, args, nargs, kwnames, NULL, 0, 0, NULL) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    OPY_CHECK_SDK();
    if (opy_handle_enter(self) == NULL)
        return NULL;
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    OPY_BEGIN_ALLOW_THREADS
    s = fn(opy_context, h->ptr, NULL, NULL);
    code = opy_sdk_last_error;
    OPY_END_ALLOW_THREADS
    opy_handle_leave(self);
    if (s == NULL)
        return opy_error_raise(code != OrthancPluginErrorCode_Success ? code
                               : OrthancPluginErrorCode_InternalError);
    return opy_take_string(s);
}

static PyObject *
encode_buffer(const char *fname, EncodeBufferFn fn, PyObject *const *args, Py_ssize_t nargs,
              PyObject *kwnames)
{
    static const char *const names[] = {"dicom"};
    PyObject *a[1];
    OpyBytes dicom;
    OrthancPluginErrorCode code;
    char *s;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, 1, a) < 0)
        return NULL;
    OPY_CHECK_SDK();
    if (opy_bytes_get(a[0], "dicom", &dicom) < 0)
        return NULL;
    if (opy_size_check(dicom.size, UINT32_MAX, "dicom") < 0) {
        opy_bytes_release(&dicom);
        return NULL;
    }
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    OPY_BEGIN_ALLOW_THREADS
    s = fn(opy_context, dicom.data, (uint32_t) dicom.size, NULL, NULL);
    code = opy_sdk_last_error;
    OPY_END_ALLOW_THREADS
    opy_bytes_release(&dicom);
    if (s == NULL)
        return opy_error_raise(code != OrthancPluginErrorCode_Success ? code
                               : OrthancPluginErrorCode_InternalError);
    return opy_take_string(s);
}

#define INSTANCE_ENCODER(name, what)                                                              \
    const char opy_custom_DicomInstance_##name##_doc[] =                                           \
        #name "($self, /)\n--\n\nConvert the instance to " what ", binary tags inline.\n\n"       \
        "Returns:\n  str: the " what "\n\nRaises orthanc.OrthancException when Orthanc reports an error."; \
    PyObject *opy_custom_DicomInstance_##name(PyObject *self, PyObject *const *args,                \
                                              Py_ssize_t nargs, PyObject *kwnames)                \
    { return encode_instance(#name, OrthancPlugin##name, self, args, nargs, kwnames); }

#define BUFFER_ENCODER(name, what)                                                                \
    const char opy_custom_##name##_doc[] =                                                        \
        #name "($module, /, dicom)\n--\n\nConvert a DICOM file to " what ", binary tags inline.\n\n" \
        "Parameters:\n  dicom (Buffer): the DICOM file\n\n"                                        \
        "Returns:\n  str: the " what "\n\nRaises orthanc.OrthancException when Orthanc reports an error."; \
    PyObject *opy_custom_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs,           \
                                PyObject *kwnames)                                                 \
    { (void) self; return encode_buffer(#name, OrthancPlugin##name, args, nargs, kwnames); }

INSTANCE_ENCODER(GetInstanceDicomWebJson, "DICOMweb JSON")
INSTANCE_ENCODER(GetInstanceDicomWebXml, "DICOMweb XML")
BUFFER_ENCODER(EncodeDicomWebJson2, "DICOMweb JSON")
BUFFER_ENCODER(EncodeDicomWebXml2, "DICOMweb XML")
