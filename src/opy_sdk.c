/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_sdk.c - the proxy SDK context.
 */
#include "opy_sdk.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

OrthancPluginContext *opy_context;
__attribute__((tls_model("initial-exec"))) _Thread_local OrthancPluginErrorCode opy_sdk_last_error;

static OrthancPluginContext *orthanc;      /* the context Orthanc gave us */
static OrthancPluginContext proxy;

/* Orthanc 1.10.1 checks the index of GetCommandLineArgument against argc
 * instead of argc - 1, and takes it as a signed int32: index == count reads
 * argv[argc] (NULL) into a std::string, whose std::logic_error is not an
 * OrthancException and unwinds through the plugin and the interpreter (GIL
 * held: Orthanc then hangs at stop) up to the HTTP server; an index >= 2^31
 * reads before argv. Found by tests/robustness/test_fuzz_api.py. */
static int
command_line_index_ok(const void *params)
{
    const _OrthancPluginGlobalProperty *p = params;
    uint32_t count = 0;
    _OrthancPluginReturnSingleValue q;

    memset(&q, 0, sizeof q);
    q.resultUint32 = &count;
    if (orthanc->InvokeService(orthanc, _OrthancPluginService_GetCommandLineArgumentsCount, &q) !=
        OrthancPluginErrorCode_Success)
        return 0;
    return p->property >= 0 && (uint32_t) p->property < count;
}

static OrthancPluginErrorCode
proxy_invoke(struct _OrthancPluginContext_t *context, _OrthancPluginService service, const void *params)
{
    OrthancPluginErrorCode code;

    if (service == _OrthancPluginService_GetCommandLineArgument && !command_line_index_ok(params))
        code = OrthancPluginErrorCode_ParameterOutOfRange;
    else
        code = orthanc->InvokeService(orthanc, service, params);
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
