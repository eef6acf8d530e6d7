/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "fake_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

FakeContext fake;

static void
fake_free(void *p)
{
    free(p);
}

static OrthancPluginErrorCode
fake_invoke(struct _OrthancPluginContext_t *context, _OrthancPluginService service, const void *params)
{
    OrthancPluginErrorCode result = fake.next_result;

    (void) context;
    fake.next_result = OrthancPluginErrorCode_Success;
    if (fake.calls < FAKE_MAX_CALLS)
        fake.services[fake.calls] = service;
    fake.calls++;
    switch (service) {
    case _OrthancPluginService_LogInfo:
    case _OrthancPluginService_LogWarning:
    case _OrthancPluginService_LogError:
        snprintf(fake.last_log, sizeof fake.last_log, "%s", (const char *) params);
        break;
    case _OrthancPluginService_GetErrorDescription: {
        const _OrthancPluginGetErrorDescription *p = params;
        *p->target = "fake description";
        break;
    }
    case _OrthancPluginService_AnswerBuffer: {
        const _OrthancPluginAnswerBuffer *p = params;
        size_t n = p->answerSize < sizeof fake.last_answer ? p->answerSize : sizeof fake.last_answer;

        memcpy(fake.last_answer, p->answer, n);
        fake.last_answer_size = p->answerSize;
        snprintf(fake.last_mime, sizeof fake.last_mime, "%s", p->mimeType);
        break;
    }
    case _OrthancPluginService_SendHttpStatusCode: {
        const _OrthancPluginSendHttpStatusCode *p = params;
        fake.last_status = p->status;
        break;
    }
    default:
        break;
    }
    return result;
}

static OrthancPluginContext context = { NULL, "1.10.1", fake_free, fake_invoke };

void
fake_reset(void)
{
    memset(&fake, 0, sizeof fake);
    opy_sdk_init(&context);         /* the plugin's proxy around the fake */
}

int
fake_count(_OrthancPluginService service)
{
    int i, n = 0;

    for (i = 0; i < fake.calls && i < FAKE_MAX_CALLS; i++)
        if (fake.services[i] == service)
            n++;
    return n;
}
