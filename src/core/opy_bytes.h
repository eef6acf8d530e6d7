/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_bytes.h - large SDK answers handed to Python as bytes without a
 * second block (see opy_bytes.c).
 */
#ifndef OPY_BYTES_H
#define OPY_BYTES_H

#include "opy_python.h"

#include "opy_sdk.h"

#include <stdatomic.h>

/* Answers from this size on are adopted rather than copied. */
#define OPY_BYTES_ADOPT_MIN ((size_t) 64 * 1024)

/* Turns the SDK buffer into a bytes object in place when that is safe
 * (see opy_bytes.c): returns it (new reference) and leaves `buf` empty.
 * Returns NULL without an exception when the caller must copy instead
 * (`buf` unchanged). Needs the GIL. */
PyObject *opy_bytes_adopt(OrthancPluginMemoryBuffer *buf);

/* How many answers were adopted (OPY_CALL_COUNTS, for the tests). */
extern atomic_ulong opy_bytes_adopted;     /* (several interpreters: atomic) */

#endif /* OPY_BYTES_H */
