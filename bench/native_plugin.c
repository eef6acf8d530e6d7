/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * native_plugin.c - the native C reference for the benchmarks: the same
 * routes as bench/bench_script.py, written directly against the SDK, so
 * that the Python plugin is measured against what C costs.
 *
 *   GET  /bench/trivial        "ok"
 *   POST /bench/trivial        "ok" (body ignored)
 *   GET  /bench/system         one core call: RestApiGet("/system")
 *   GET  /bench/sdk?n=N        N calls of GetErrorDescription; answers ns per call
 *   GET  /bench/file/<id>      RestApiGet("/instances/<id>/file"); answers its size
 *   GET  /bench/changes        number of NEW_INSTANCE changes seen
 *   GET  /bench/lookup-loop/N  N calls of RestApiPost("/tools/lookup", 100 KB body),
 *                              in the HTTP thread; answers the calls made
 *   GET  /bench/lookup-thread/N  the same loop in a new thread (joined)
 *   (the memory reference of tests/robustness/test_memory_loop.py)
 */
#define _POSIX_C_SOURCE 200809L
#include <orthanc/OrthancCPlugin.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static OrthancPluginContext *context;
static atomic_long changes;

static void
answer_text(OrthancPluginRestOutput *output, const char *text)
{
    OrthancPluginAnswerBuffer(context, output, text, (uint32_t) strlen(text), "text/plain");
}

static OrthancPluginErrorCode
trivial(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *request)
{
    (void) url;
    (void) request;
    answer_text(output, "ok");
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
system_route(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *request)
{
    OrthancPluginMemoryBuffer buffer;
    OrthancPluginErrorCode code;

    (void) url;
    (void) request;
    code = OrthancPluginRestApiGet(context, &buffer, "/system");
    if (code != OrthancPluginErrorCode_Success)
        return code;
    OrthancPluginAnswerBuffer(context, output, buffer.data, buffer.size, "application/json");
    OrthancPluginFreeMemoryBuffer(context, &buffer);
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
sdk_route(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *request)
{
    long n = 1000, i;
    struct timespec a, b;
    char text[64];
    uint32_t k;

    (void) url;
    for (k = 0; k < request->getCount; k++)
        if (strcmp(request->getKeys[k], "n") == 0)
            n = atol(request->getValues[k]);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < n; i++)
        if (OrthancPluginGetErrorDescription(context, OrthancPluginErrorCode_UnknownResource) == NULL)
            return OrthancPluginErrorCode_InternalError;
    clock_gettime(CLOCK_MONOTONIC, &b);
    snprintf(text, sizeof text, "%.1f",
             ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double) (n > 0 ? n : 1));
    answer_text(output, text);
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
file_route(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *request)
{
    OrthancPluginMemoryBuffer buffer;
    OrthancPluginErrorCode code;
    char uri[256], text[32];

    (void) url;
    snprintf(uri, sizeof uri, "/instances/%s/file", request->groups[0]);
    code = OrthancPluginRestApiGet(context, &buffer, uri);
    if (code != OrthancPluginErrorCode_Success)
        return code;
    snprintf(text, sizeof text, "%u", buffer.size);
    OrthancPluginFreeMemoryBuffer(context, &buffer);
    answer_text(output, text);
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
changes_route(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *request)
{
    char text[32];

    (void) url;
    (void) request;
    snprintf(text, sizeof text, "%ld", atomic_load(&changes));
    answer_text(output, text);
    return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode
on_change(OrthancPluginChangeType type, OrthancPluginResourceType level, const char *id)
{
    (void) level;
    (void) id;
    if (type == OrthancPluginChangeType_NewInstance)
        atomic_fetch_add(&changes, 1);
    return OrthancPluginErrorCode_Success;
}

#define LOOKUP_BODY (100 * 1024)

/* n calls of RestApiPost("/tools/lookup", 100 KB); returns the calls that
 * succeeded. */
static long
lookup_loop(long n)
{
    char *body = malloc(LOOKUP_BODY);
    long i, ok = 0;

    if (body == NULL)
        return 0;
    memset(body, 'x', LOOKUP_BODY);
    for (i = 0; i < n; i++) {
        OrthancPluginMemoryBuffer buffer;

        if (OrthancPluginRestApiPost(context, &buffer, "/tools/lookup", body, LOOKUP_BODY) ==
            OrthancPluginErrorCode_Success) {
            OrthancPluginFreeMemoryBuffer(context, &buffer);
            ok++;
        }
    }
    free(body);
    return ok;
}

static void *
lookup_thread_main(void *arg)
{
    long *n = arg;

    *n = lookup_loop(*n);
    return NULL;
}

static OrthancPluginErrorCode
lookup_route(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *request)
{
    long n = atol(request->groups[0]);
    char text[32];

    if (strstr(url, "/lookup-thread/") != NULL) {
        pthread_t t;

        if (pthread_create(&t, NULL, lookup_thread_main, &n) != 0)
            return OrthancPluginErrorCode_InternalError;
        pthread_join(t, NULL);
    }
    else {
        n = lookup_loop(n);
    }
    snprintf(text, sizeof text, "%ld", n);
    answer_text(output, text);
    return OrthancPluginErrorCode_Success;
}

/* Registers `prefix` + `route`. */
static void
route(const char *prefix, const char *path, OrthancPluginRestCallback callback)
{
    char uri[256];

    snprintf(uri, sizeof uri, "%s%s", prefix, path);
    OrthancPluginRegisterRestCallbackNoLock(context, uri, callback);
}

ORTHANC_PLUGINS_API int32_t
OrthancPluginInitialize(OrthancPluginContext *c)
{
    /* OPY_BENCH_NATIVE_PREFIX (e.g. "/native"): the routes under that
     * prefix, so that this plugin can run in the same Orthanc as a Python
     * plugin serving /bench/... (the paired measurements of bench/run.py) */
    const char *prefix = getenv("OPY_BENCH_NATIVE_PREFIX");

    if (prefix == NULL || strlen(prefix) > 64)
        prefix = "";
    context = c;
    route(prefix, "/bench/trivial", trivial);
    route(prefix, "/bench/system", system_route);
    route(prefix, "/bench/sdk", sdk_route);
    route(prefix, "/bench/file/(.*)", file_route);
    route(prefix, "/bench/changes", changes_route);
    route(prefix, "/bench/lookup-loop/([0-9]+)", lookup_route);
    route(prefix, "/bench/lookup-thread/([0-9]+)", lookup_route);
    OrthancPluginRegisterOnChangeCallback(context, on_change);
    return 0;
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize(void) {}
ORTHANC_PLUGINS_API const char *OrthancPluginGetName(void) { return "bench-native"; }
ORTHANC_PLUGINS_API const char *OrthancPluginGetVersion(void) { return "1.0"; }
