/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_restoutput.h - orthanc.RestOutput, the answer of a REST callback.
 *
 * The type and most methods are generated; this file keeps the forms that
 * differ from the SDK's signature for compatibility.
 */
#ifndef OPY_RESTOUTPUT_H
#define OPY_RESTOUTPUT_H

/* Set in OpyHandleObject.flags once the callback sent an answer. */
#define OPY_OUTPUT_ANSWERED 0x1u
/* Set once the callback gave its own HTTP error details: an exception then
 * keeps them instead of putting the exception's message. */
#define OPY_OUTPUT_DETAILS 0x2u

#endif /* OPY_RESTOUTPUT_H */
