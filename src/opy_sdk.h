/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_sdk.h - the only header of the plugin that includes the Orthanc SDK.
 *
 * opy_context is set once by OrthancPluginInitialize() and never changes
 * afterwards. Every SDK call goes through context->InvokeService, which is
 * what the C unit tests fake.
 */
#ifndef OPY_SDK_H
#define OPY_SDK_H

#include <orthanc/OrthancCPlugin.h>

#if !ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 10, 1)
#error "The Orthanc Python plugin needs the Orthanc plugin SDK 1.10.1 or newer"
#endif

/* The context every SDK call of the plugin goes through: a copy of
 * Orthanc's own whose InvokeService records the error code of the last call
 * on this thread in opy_sdk_last_error. The SDK's inline functions that
 * return void or NULL drop that code; wrappers read it back, so that every
 * failure raises with Orthanc's own error code. */
extern OrthancPluginContext *opy_context;
extern __attribute__((tls_model("initial-exec"))) _Thread_local OrthancPluginErrorCode opy_sdk_last_error;

/* Installs the proxy around Orthanc's context (OrthancPluginInitialize). */
void opy_sdk_init(OrthancPluginContext *orthanc_context);

/* Call one SDK service and return its error code. Used where the SDK's own
 * inline wrapper is void and would drop the error. */
static inline OrthancPluginErrorCode
opy_sdk_invoke(_OrthancPluginService service, const void *params)
{
    return opy_context->InvokeService(opy_context, service, params);
}

#endif /* OPY_SDK_H */
