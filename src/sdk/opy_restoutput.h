/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_restoutput.h - orthanc.RestOutput, the answer of a REST callback.
 *
 * The type and most methods are generated; this file keeps the forms that
 * differ from the SDK's signature for compatibility.
 */
#ifndef OPY_RESTOUTPUT_H
#define OPY_RESTOUTPUT_H

#include "opy_handle.h"
#include "opy_sdk.h"
#include <stdint.h>

/* Set in OpyHandleObject.flags once the callback sent an answer. */
#define OPY_OUTPUT_ANSWERED 0x1u
/* Set once the callback gave its own HTTP error details: an exception then
 * keeps them instead of putting the exception's message. */
#define OPY_OUTPUT_DETAILS 0x2u

/* The answer of AnswerBuffer, held back.
 *
 * A REST route's AnswerBuffer of at most OPY_ANSWER_LATER_MAX bytes, called
 * on the thread that serves the route, is copied here and handed to Orthanc
 * once the GIL is released anyway: when the callback returns (the usual
 * case: one GIL hand-over per request instead of two), at the next SDK call
 * that releases the GIL, or before the next method of the same RestOutput
 * (so that Orthanc sees the calls in their order and refuses a second answer
 * as before; after a failed call on the output, which may make Orthanc
 * refuse the answer, it is sent at once). The bytes go out with the GIL released, as before (a client
 * that does not read cannot stall Python). What a script can tell: an
 * answer followed by long pure-Python work (or time.sleep) in the same
 * callback reaches the client when the callback returns. */
#define OPY_ANSWER_LATER_MAX 65536
#define OPY_ANSWER_LATER_MIME 128

typedef struct OpyAnswerLater {
    OrthancPluginRestOutput *output;
    const char *regex, *url;            /* of the route, for OPY0032 */
    char *body;                         /* malloc'd copy */
    uint32_t size;
    int set;                            /* waiting to be sent */
    char mime[OPY_ANSWER_LATER_MIME];
} OpyAnswerLater;

/* The route being served on this thread (opy_rest_serve), NULL outside. */
extern _Thread_local OpyAnswerLater *opy_answer_later_frame;

/* With the GIL held: if h's answer is held back, sends it with the GIL
 * released. Returns 0, or -1 with OrthancException set. */
int opy_answer_later_flush(OpyHandleObject *h);

/* With the GIL held: takes the answer held back in `l`; returns it, or NULL
 * when none is waiting. opy_answer_later_send() must follow. */
OpyAnswerLater *opy_answer_later_take(OpyAnswerLater *l);

/* Sends a taken answer (GIL held or not); returns Orthanc's code. */
OrthancPluginErrorCode opy_answer_later_send(OpyAnswerLater *l);

/* The same where no Python code is left to raise to (the callback's return,
 * an SDK call that releases the GIL, opy_gil.h): a failure is logged
 * (OPY0032). Returns Orthanc's code. */
int opy_answer_later_deliver(OpyAnswerLater *l);

#endif /* OPY_RESTOUTPUT_H */
