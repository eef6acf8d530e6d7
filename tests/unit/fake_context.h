/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * fake_context.h - an OrthancPluginContext whose InvokeService records the
 * services called and answers with canned values. Every SDK call of the
 * plugin goes through InvokeService, so this is all the C tests need.
 */
#ifndef OPY_FAKE_CONTEXT_H
#define OPY_FAKE_CONTEXT_H

#include "opy_sdk.h"

#define FAKE_MAX_CALLS 64

typedef struct {
    int calls;
    _OrthancPluginService services[FAKE_MAX_CALLS];
    char last_log[4096];
    char last_answer[4096];
    size_t last_answer_size;
    char last_mime[128];
    int last_status;
    OrthancPluginErrorCode next_result;  /* returned by the next call (then reset) */
} FakeContext;

extern FakeContext fake;

/* Installs the fake context (behind the plugin's proxy) and clears the records. */
void fake_reset(void);

/* Number of recorded calls of `service`. */
int fake_count(_OrthancPluginService service);

#endif
