/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom.h - helpers shared by the hand-written wrappers of src/sdk/custom/
 * (the SDK functions the generator cannot express: header arrays, out
 * parameters, pointers without size, C callbacks).
 */
#ifndef OPY_CUSTOM_H
#define OPY_CUSTOM_H

#include "opy_python.h"
#include "opy_args.h"
#include "opy_enums.h"
#include "opy_error.h"
#include "opy_gen.h"
#include "opy_gil.h"
#include "opy_handle.h"
#include "opy_log.h"
#include "opy_module.h"
#include "opy_sdk.h"

#include <stdint.h>

#define OPY_CHECK_SDK() do { if (opy_sdk_is_closed()) return opy_error_sdk_closed(); } while (0)

/* HTTP headers given as a dict of str, as the arrays the SDK wants. */
typedef struct {
    uint32_t count;
    const char **keys;      /* borrowed from the dict's str objects */
    const char **values;
    PyObject *items;        /* keeps the strings alive */
} OpyHeaders;

/* None or a dict {str: str}. 0, or -1 with an exception set. */
int opy_headers_get(PyObject *obj, const char *what, OpyHeaders *out);
void opy_headers_release(OpyHeaders *h);

/* A JSON object in a memory buffer (freed here) as a dict; {} for an empty
 * buffer. New reference or NULL. */
PyObject *opy_json_buffer_to_dict(OrthancPluginMemoryBuffer *buffer);

/* (status, headers dict, body bytes) from the out-parameters of the HTTP
 * calls; frees both buffers. New reference or NULL. */
PyObject *opy_http_answer(uint16_t status, OrthancPluginMemoryBuffer *headers,
                          OrthancPluginMemoryBuffer *body);

#endif
