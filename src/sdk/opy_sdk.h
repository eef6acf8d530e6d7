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

/* The plugin wraps the SDK's deprecated functions on purpose (scripts
 * written for older Orthanc call them): no deprecation warnings. */
#define ORTHANC_PLUGIN_DEPRECATED
#include <orthanc/OrthancCPlugin.h>

#if !ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 10, 0)
#error "The Orthanc Python plugin needs the Orthanc plugin SDK 1.10.0 or newer"
#endif

/* Versions as one comparable number. */
#define OPY_SDK_VERSION(major, minor, revision) \
    ((unsigned) (major) * 1000000u + (unsigned) (minor) * 1000u + (unsigned) (revision))

/* The oldest Orthanc the plugin runs on, whatever header it was built
 * with: SDK functions and callback families newer than this check the
 * running Orthanc first (opy_sdk_require(), opy_error.h). */
#define OPY_SDK_MINIMUM OPY_SDK_VERSION(1, 10, 0)

/* The version of the running Orthanc (set by opy_sdk_init from the
 * context's orthancVersion; "mainline" and other builds that are not a
 * release count as newer than every release). */
extern unsigned opy_sdk_running;

/* Its text, as Orthanc gave it ("1.12.7"). */
const char *opy_sdk_running_text(void);

static inline int
opy_sdk_has(unsigned version)
{
    return opy_sdk_running >= version;
}

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
