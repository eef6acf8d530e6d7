/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_sdk.c - the proxy SDK context.
 */
#include "opy_sdk.h"

#include <stddef.h>

OrthancPluginContext *opy_context;
__attribute__((tls_model("initial-exec"))) _Thread_local OrthancPluginErrorCode opy_sdk_last_error;

static OrthancPluginContext *orthanc;      /* the context Orthanc gave us */
static OrthancPluginContext proxy;

static OrthancPluginErrorCode
proxy_invoke(struct _OrthancPluginContext_t *context, _OrthancPluginService service, const void *params)
{
    OrthancPluginErrorCode code = orthanc->InvokeService(orthanc, service, params);

    (void) context;
    opy_sdk_last_error = code;
    return code;
}

void
opy_sdk_init(OrthancPluginContext *orthanc_context)
{
    orthanc = orthanc_context;
    proxy = *orthanc_context;       /* pluginsManager, orthancVersion, Free */
    proxy.InvokeService = proxy_invoke;
    opy_context = &proxy;
}
