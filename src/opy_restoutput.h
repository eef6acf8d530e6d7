/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_restoutput.h - orthanc.RestOutput, the answer of a REST callback.
 */
#ifndef OPY_RESTOUTPUT_H
#define OPY_RESTOUTPUT_H

#include "opy_python.h"

/* Set in OpyHandleObject.flags once the callback sent an answer. */
#define OPY_OUTPUT_ANSWERED 0x1u

int opy_restoutput_module_init(PyObject *module);

#endif /* OPY_RESTOUTPUT_H */
