/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_sdk.c - the proxy SDK context.
 */
#include "opy_sdk.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

OrthancPluginContext *opy_context;
__attribute__((tls_model("initial-exec"))) _Thread_local OrthancPluginErrorCode opy_sdk_last_error;

unsigned opy_sdk_running;

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

/* "1.12.7" -> OPY_SDK_VERSION(1, 12, 7); anything that is not three
 * numbers ("mainline", a development build) -> above every release. */
static unsigned
parse_version(const char *text)
{
    unsigned part[3] = {0, 0, 0};
    int i;

    if (text == NULL)
        return UINT_MAX;
    for (i = 0; i < 3; i++) {
        char *end;
        unsigned long v;

        if (*text < '0' || *text > '9')
            return UINT_MAX;
        v = strtoul(text, &end, 10);
        if (v > 999 || (i < 2 && *end != '.') || (i == 2 && *end != '\0'))
            return UINT_MAX;
        part[i] = (unsigned) v;
        text = end + (i < 2);
    }
    return OPY_SDK_VERSION(part[0], part[1], part[2]);
}

const char *
opy_sdk_running_text(void)
{
    return orthanc != NULL && orthanc->orthancVersion != NULL ? orthanc->orthancVersion : "?";
}

void
opy_sdk_init(OrthancPluginContext *orthanc_context)
{
    opy_sdk_running = parse_version(orthanc_context->orthancVersion);
    orthanc = orthanc_context;
    proxy = *orthanc_context;       /* pluginsManager, orthancVersion, Free */
    proxy.InvokeService = proxy_invoke;
    opy_context = &proxy;
}
