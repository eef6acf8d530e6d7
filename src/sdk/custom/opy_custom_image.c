/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom_image.c - images and Python buffers: Image.GetImageBuffer (a
 * copy of pitch x height bytes) and CreateImageFromBuffer (a copy into a new
 * image that owns its memory; replaces CreateImageAccessor, whose image
 * would point into a Python object).
 */
#include "opy_custom.h"
#include "opy_check.h"

#include <string.h>

const char opy_custom_Image_GetImageBuffer_doc[] =
    "GetImageBuffer($self, /)\n--\n\n"
    "Return a copy of the pixels of the image (pitch x height bytes).\n\n"
    "Returns:\n  bytes: the pixels, line after line";

PyObject *
opy_custom_Image_GetImageBuffer(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    OpyHandleObject *h = (OpyHandleObject *) self;
    uint32_t pitch, height;
    const void *data;
    OrthancPluginErrorCode code;

    if (opy_args_parse("GetImageBuffer", args, nargs, kwnames, NULL, 0, 0, NULL) < 0 ||
        opy_handle_get(self) == NULL)
        return NULL;
    OPY_CHECK_SDK();
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    pitch = OrthancPluginGetImagePitch(opy_context, h->ptr);
    height = OrthancPluginGetImageHeight(opy_context, h->ptr);
    data = OrthancPluginGetImageBuffer(opy_context, h->ptr);
    code = opy_sdk_last_error;
    if (code != OrthancPluginErrorCode_Success || (data == NULL && (uint64_t) pitch * height > 0))
        return opy_error_raise(code != OrthancPluginErrorCode_Success ? code
                               : OrthancPluginErrorCode_InternalError);
    return PyBytes_FromStringAndSize(data ? data : "", (Py_ssize_t) ((uint64_t) pitch * height));
}

const char opy_custom_CreateImageFromBuffer_doc[] =
    "CreateImageFromBuffer($module, /, format, width, height, pitch, buffer)\n--\n\n"
    "Create an image from a copy of a Python buffer.\n\n"
    "Parameters:\n  format (int): an orthanc.PixelFormat\n  width (int): width in pixels\n"
    "  height (int): height in pixels\n  pitch (int): bytes between two lines of buffer\n"
    "  buffer (Buffer): the pixels, at least pitch x height bytes\n\n"
    "Returns:\n  Image: a new image owning a copy of the pixels\n\n"
    "Raises orthanc.OrthancException when Orthanc reports an error.";

PyObject *
opy_custom_CreateImageFromBuffer(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    static const char *const names[] = {"format", "width", "height", "pitch", "buffer"};
    PyObject *a[5], *result = NULL;
    long long format, width, height, pitch;
    OpyBytes buffer;
    OrthancPluginImage *image = NULL;
    OrthancPluginErrorCode code;

    (void) self;
    if (opy_args_parse("CreateImageFromBuffer", args, nargs, kwnames, names, 5, 5, a) < 0 ||
        opy_enum_get(a[0], "format", &opy_gen_enums[OPY_ENUM_PixelFormat], &format) < 0 ||
        opy_long_get(a[1], "width", 0, UINT32_MAX, &width) < 0 ||
        opy_long_get(a[2], "height", 0, UINT32_MAX, &height) < 0 ||
        opy_long_get(a[3], "pitch", 0, UINT32_MAX, &pitch) < 0)
        return NULL;
    OPY_CHECK_SDK();
    if (opy_bytes_get(a[4], "buffer", &buffer) < 0)
        return NULL;
    if (opy_image_check(format, width, height, pitch, (long long) buffer.size) < 0)
        goto done;
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    OPY_BEGIN_ALLOW_THREADS
    image = OrthancPluginCreateImage(opy_context, (OrthancPluginPixelFormat) format,
                                     (uint32_t) width, (uint32_t) height);
    OPY_END_ALLOW_THREADS
    code = opy_sdk_last_error;
    if (image == NULL) {
        opy_error_raise(code != OrthancPluginErrorCode_Success ? code : OrthancPluginErrorCode_InternalError);
        goto done;
    }
    {
        uint32_t target_pitch = OrthancPluginGetImagePitch(opy_context, image);
        char *target = OrthancPluginGetImageBuffer(opy_context, image);
        size_t line = (size_t) (pitch < target_pitch ? pitch : target_pitch);
        long long y;

        for (y = 0; y < height && target != NULL; y++)
            memcpy(target + (size_t) y * target_pitch, buffer.data + (size_t) y * (size_t) pitch, line);
    }
    result = opy_handle_new_owned(opy_state->types[OPY_TYPE_Image], image);
    if (result == NULL)
        OrthancPluginFreeImage(opy_context, image);
done:
    opy_bytes_release(&buffer);
    return result;
}
