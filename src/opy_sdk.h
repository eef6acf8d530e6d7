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

extern OrthancPluginContext *opy_context;

/* Call one SDK service and return its error code. Used where the SDK's own
 * inline wrapper is void and would drop the error. */
static inline OrthancPluginErrorCode
opy_sdk_invoke(_OrthancPluginService service, const void *params)
{
    return opy_context->InvokeService(opy_context, service, params);
}

#endif /* OPY_SDK_H */
