/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_codec.c - image decoding and transcoding written in Python:
 * orthanc.RegisterDecodeImageCallback and orthanc.RegisterTranscoderCallback.
 *
 * Thread: any Orthanc thread that needs a decoded frame (previews,
 * /rendered, DecodeDicomImage, ...) or a transcoded file (modification with
 * "Transcode", C-STORE/C-MOVE to a peer that needs another syntax, ...),
 * several at once; each call takes the GIL.
 * Order: the configuration option "BuiltinDecoderTranscoderOrder" of Orthanc
 * says whether its built-in DCMTK decoder/transcoder is tried before or after
 * the plugins ("After", the default: plugins first) or never ("Disabled").
 * One registration each (a second call raises RuntimeError).
 *
 * RegisterDecodeImageCallback(callback):
 *   callback(dicom: bytes, frameIndex: int) -> orthanc.Image or None
 *   An Image is the decoded frame (Orthanc gets a copy: the Python object
 *   stays usable); None lets Orthanc use its next decoder (the built-in one
 *   unless disabled). An exception or a result that is neither an Image nor
 *   None is logged once with its traceback (OPY0010) and counts as a
 *   failure of this decoder: Orthanc falls back to the built-in decoder, or
 *   fails the request when it is disabled.
 *
 * RegisterTranscoderCallback(callback):
 *   callback(dicom: bytes, allowedSyntaxes: list[str],
 *            allowNewSopInstanceUid: bool) -> bytes-like or None
 *   The result is the transcoded DICOM file, in one of allowedSyntaxes; None
 *   says "cannot" and lets Orthanc try its next transcoder. An exception or a
 *   bad result (not bytes-like, empty, larger than 4 GB) is logged once
 *   (OPY0010) and counts as a failure of this transcoder, like None.
 */
#include "opy_python.h"
#include "opy_interps.h"
#include "opy_stack.h"
#include "opy_args.h"
#include "opy_error.h"
#include "opy_families.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_module.h"
#include "opy_registry.h"
#include "opy_sdk.h"

#include <string.h>

static PyObject *decoder;       /* strong reference, or NULL */
static PyObject *transcoder;    /* strong reference, or NULL */

/* ------------------------------------------------------------------ */
/* Decoder                                                             */

/* A new SDK image with the pixels of the Python Image `img` (borrowed), for
 * Orthanc to own. NULL with an exception set on failure. */
static OrthancPluginImage *
copy_image(PyObject *img)
{
    OpyHandleObject *h = (OpyHandleObject *) img;
    OrthancPluginImage *copy = NULL;
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;

    if (opy_handle_enter(img) == NULL)
        return NULL;
    opy_sdk_last_error = OrthancPluginErrorCode_Success;
    OPY_BEGIN_ALLOW_THREADS
    {
        const OrthancPluginImage *src = h->ptr;
        OrthancPluginPixelFormat format = OrthancPluginGetImagePixelFormat(opy_context, src);
        uint32_t width = OrthancPluginGetImageWidth(opy_context, src);
        uint32_t height = OrthancPluginGetImageHeight(opy_context, src);
        uint32_t spitch = OrthancPluginGetImagePitch(opy_context, src);
        const char *sbuf = OrthancPluginGetImageBuffer(opy_context, src);

        code = opy_sdk_last_error;
        if (code == OrthancPluginErrorCode_Success)
            copy = OrthancPluginCreateImage(opy_context, format, width, height);
        if (copy != NULL) {
            uint32_t dpitch = OrthancPluginGetImagePitch(opy_context, copy);
            char *dbuf = OrthancPluginGetImageBuffer(opy_context, copy);
            uint32_t row = spitch < dpitch ? spitch : dpitch, y;

            for (y = 0; y < height && dbuf != NULL && sbuf != NULL; y++)
                memcpy(dbuf + (size_t) y * dpitch, sbuf + (size_t) y * spitch, row);
        }
        else if (code == OrthancPluginErrorCode_Success)
            code = opy_sdk_last_error != OrthancPluginErrorCode_Success
                ? opy_sdk_last_error : OrthancPluginErrorCode_NotEnoughMemory;
    }
    OPY_END_ALLOW_THREADS
    opy_handle_leave(img);
    if (copy == NULL)
        opy_error_raise(code);
    return copy;
}

static OrthancPluginErrorCode on_decode(OrthancPluginImage **target, const void *dicom, const uint32_t size, uint32_t frameIndex);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_decode, (OrthancPluginImage **target; const void *dicom; const uint32_t size; uint32_t frameIndex;), (f->target, f->dicom, f->size, f->frameIndex))

static OrthancPluginErrorCode
on_decode(OrthancPluginImage **target, const void *dicom, const uint32_t size, uint32_t frameIndex)
{
    OPY_STACK_SWITCH(on_decode, (target, dicom, size, frameIndex));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *args[2] = {NULL, NULL};
    PyObject *r = NULL;
    int token = opy_gil_enter();

    *target = NULL;
    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    args[0] = PyBytes_FromStringAndSize(dicom, (Py_ssize_t) size);
    args[1] = args[0] ? PyLong_FromUnsignedLong(frameIndex) : NULL;
    if (args[1] == NULL)
        goto fail;
    r = PyObject_Vectorcall(decoder, args, 2, NULL);
    if (r == NULL)
        goto fail;
    if (r == Py_None)
        goto done;                          /* let Orthanc's next decoder try */
    if (!PyObject_TypeCheck(r, opy_state->types[OPY_TYPE_Image])) {
        PyErr_Format(PyExc_TypeError,
                     "the decode-image callback must return an orthanc.Image or None, not %.100s",
                     Py_TYPE(r)->tp_name);
        goto fail;
    }
    if ((*target = copy_image(r)) == NULL)
        goto fail;
    goto done;
fail:
    code = opy_error_report("decode-image callback", NULL);
done:
    Py_XDECREF(r);
    Py_XDECREF(args[0]);
    Py_XDECREF(args[1]);
    opy_gil_leave(token);
    return code;
}

static PyObject *
RegisterDecodeImageCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterDecodeImageCallback", args, nargs, kwnames);

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterDecodeImageCallback", NULL);
    if (f == NULL || opy_registry_check_one("RegisterDecodeImageCallback", f, decoder != NULL,
                                            "a decode-image callback") < 0)
        return NULL;
    Py_INCREF(f);
    decoder = f;
    OrthancPluginRegisterDecodeImageCallback(opy_context, on_decode);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Transcoder                                                          */

static OrthancPluginErrorCode on_transcode(OrthancPluginMemoryBuffer *transcoded, const void *buffer, uint64_t size, const char *const *allowedSyntaxes, uint32_t countSyntaxes, uint8_t allowNewSopInstanceUid);
OPY_STACK_THUNK(OrthancPluginErrorCode, on_transcode, (OrthancPluginMemoryBuffer *transcoded; const void *buffer; uint64_t size; const char *const *allowedSyntaxes; uint32_t countSyntaxes; uint8_t allowNewSopInstanceUid;), (f->transcoded, f->buffer, f->size, f->allowedSyntaxes, f->countSyntaxes, f->allowNewSopInstanceUid))

static OrthancPluginErrorCode
on_transcode(OrthancPluginMemoryBuffer *transcoded, const void *buffer, uint64_t size,
             const char *const *allowedSyntaxes, uint32_t countSyntaxes, uint8_t allowNewSopInstanceUid)
{
    OPY_STACK_SWITCH(on_transcode, (transcoded, buffer, size, allowedSyntaxes, countSyntaxes, allowNewSopInstanceUid));
    OrthancPluginErrorCode code = OrthancPluginErrorCode_Success;
    PyObject *args[3] = {NULL, NULL, NULL};
    PyObject *r = NULL;
    OpyBytes b;
    uint32_t i;
    int token = opy_gil_enter();

    if (token < 0)
        return OrthancPluginErrorCode_Plugin;
    if (size > (uint64_t) PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_OverflowError, "DICOM file too large");
        goto fail;
    }
    args[0] = PyBytes_FromStringAndSize(buffer, (Py_ssize_t) size);
    args[1] = args[0] ? PyList_New((Py_ssize_t) countSyntaxes) : NULL;
    if (args[1] == NULL)
        goto fail;
    for (i = 0; i < countSyntaxes; i++) {
        PyObject *s = PyUnicode_FromString(allowedSyntaxes[i] ? allowedSyntaxes[i] : "");

        if (s == NULL)
            goto fail;
        PyList_SET_ITEM(args[1], (Py_ssize_t) i, s);          /* steals s */
    }
    args[2] = PyBool_FromLong(allowNewSopInstanceUid);
    r = PyObject_Vectorcall(transcoder, args, 3, NULL);
    if (r == NULL)
        goto fail;
    if (r == Py_None) {
        code = OrthancPluginErrorCode_NotImplemented;       /* "cannot": next transcoder */
        goto done;
    }
    if (PyUnicode_Check(r) || !PyObject_CheckBuffer(r)) {
        PyErr_Format(PyExc_TypeError,
                     "the transcoder callback must return bytes (the transcoded DICOM file) or "
                     "None, not %.100s", Py_TYPE(r)->tp_name);
        goto fail;
    }
    if (opy_bytes_get(r, "the transcoded DICOM file", &b) < 0)
        goto fail;
    if (b.size == 0 || (unsigned long long) b.size > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "the transcoder callback returned %zd bytes", b.size);
        opy_bytes_release(&b);
        goto fail;
    }
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginCreateMemoryBuffer(opy_context, transcoded, (uint32_t) b.size);
    if (code == OrthancPluginErrorCode_Success)
        memcpy(transcoded->data, b.data, (size_t) b.size);
    OPY_END_ALLOW_THREADS
    opy_bytes_release(&b);
    if (code != OrthancPluginErrorCode_Success) {
        opy_error_raise(code);
        goto fail;
    }
    goto done;
fail:
    code = opy_error_report("transcoder callback", NULL);
done:
    Py_XDECREF(r);
    for (i = 0; i < 3; i++)
        Py_XDECREF(args[i]);
    opy_gil_leave(token);
    return code;
}

static PyObject *
RegisterTranscoderCallback(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *f = opy_registry_one_callable("RegisterTranscoderCallback", args, nargs, kwnames);

    (void) module;
    OPY_MAIN_INTERPRETER_ONLY("RegisterTranscoderCallback", NULL);
    if (f == NULL || opy_registry_check_one("RegisterTranscoderCallback", f, transcoder != NULL,
                                            "a transcoder callback") < 0)
        return NULL;
    Py_INCREF(f);
    transcoder = f;
    OrthancPluginRegisterTranscoderCallback(opy_context, on_transcode);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"RegisterDecodeImageCallback", (PyCFunction) (void (*)(void)) RegisterDecodeImageCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterDecodeImageCallback($module, /, callback)\n--\n\n"
     "Call callback(dicom: bytes, frameIndex: int) to decode a frame: it returns an\n"
     "orthanc.Image, or None to let Orthanc decode it. Only one callback may be registered."},
    {"RegisterTranscoderCallback", (PyCFunction) (void (*)(void)) RegisterTranscoderCallback,
     METH_FASTCALL | METH_KEYWORDS,
     "RegisterTranscoderCallback($module, /, callback)\n--\n\n"
     "Call callback(dicom: bytes, allowedSyntaxes: list[str], allowNewSopInstanceUid: bool) to\n"
     "transcode a DICOM file: it returns the bytes of the file in one of allowedSyntaxes, or\n"
     "None to let Orthanc transcode it. Only one callback may be registered."},
    {NULL, NULL, 0, NULL}
};

int
opy_cb_codec_init(PyObject *module)
{
    return PyModule_AddFunctions(module, methods);
}

void
opy_cb_codec_finalize(void)
{
    Py_CLEAR(decoder);
    Py_CLEAR(transcoder);
}
