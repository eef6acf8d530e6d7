/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_devmode.c - "Python.DevelopmentMode": reload on change (see the
 * header). No Python here: the thread runs whether Python started or not.
 */
#include "opy_devmode.h"
#include "opy_log.h"
#include "opy_sdk.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define OPY_DEV_POLL_MS 500

typedef struct {
    char *path;
    int exists;
    struct timespec mtime;
    off_t size;
} Watched;

static Watched *files;
static size_t n_files;
static pthread_t thread;
static int thread_running;
static int stop_requested;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int watch_python;            /* Python runs (its SDK closes at the stop) */
static char *import_error;          /* the traceback the catch-all route answers */

static void
look(Watched *w)
{
    struct stat st;

    w->exists = stat(w->path, &st) == 0;
    w->mtime = w->exists ? st.st_mtim : (struct timespec) {0, 0};
    w->size = w->exists ? st.st_size : 0;
}

void
opy_dev_watch_clear(void)
{
    size_t i;

    for (i = 0; i < n_files; i++)
        free(files[i].path);
    free(files);
    files = NULL;
    n_files = 0;
}

void
opy_dev_watch_add(const char *path)
{
    Watched *grown;
    size_t i;

    for (i = 0; i < n_files; i++)
        if (strcmp(files[i].path, path) == 0)
            return;
    grown = realloc(files, (n_files + 1) * sizeof *files);
    if (grown == NULL)
        return;
    files = grown;
    files[n_files].path = strdup(path);
    if (files[n_files].path == NULL)
        return;
    look(&files[n_files]);
    n_files++;
}

/* The first watched file that changed, with how; NULL when none. */
static const char *
changed(const char **how)
{
    size_t i;

    for (i = 0; i < n_files; i++) {
        Watched now = files[i];

        look(&now);
        if (now.exists != files[i].exists) {
            *how = now.exists ? "created" : "deleted";
            return files[i].path;
        }
        if (now.exists && (now.size != files[i].size || now.mtime.tv_sec != files[i].mtime.tv_sec ||
                           now.mtime.tv_nsec != files[i].mtime.tv_nsec)) {
            *how = "modified";
            return files[i].path;
        }
    }
    return NULL;
}

static void *
watch_main(void *arg)
{
    (void) arg;
    pthread_mutex_lock(&lock);
    while (!stop_requested) {
        struct timespec until;
        const char *path, *how = "";

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += OPY_DEV_POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wake, &lock, &until);
        if (stop_requested)
            break;
        path = changed(&how);
        if (path == NULL)
            continue;
        /* Orthanc is stopping anyway (told by ORTHANC_STOPPED, which only
         * a running Python gets): no restart */
        if (watch_python && atomic_load(&opy_sdk_closed_flag) != 0)
            break;
        opy_log(OPY_LOG_WARNING, "OPY0047 development mode: %s was %s; restarting the plugins "
                "(as POST /tools/reset)", path, how);
        pthread_mutex_unlock(&lock);
        {
            OrthancPluginMemoryBuffer answer;
            OrthancPluginErrorCode code;

            memset(&answer, 0, sizeof answer);
            /* The built-in REST API (not the plugins' routes, so not the
             * catch-all route either); Orthanc only notes the request and
             * restarts from its main thread, which then finalizes us. */
            code = OrthancPluginRestApiPost(opy_context, &answer, "/tools/reset", "", 0);
            if (code == OrthancPluginErrorCode_Success)
                OrthancPluginFreeMemoryBuffer(opy_context, &answer);
            else
                opy_log(OPY_LOG_ERROR, "OPY0047 development mode: POST /tools/reset failed (%s)",
                        OrthancPluginGetErrorDescription(opy_context, code));
        }
        pthread_mutex_lock(&lock);
        break;                      /* one restart; the next start watches again */
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int
opy_dev_watch_start(int python_running)
{
    int rc;

    if (thread_running)
        return 0;
    stop_requested = 0;
    watch_python = python_running;
    rc = pthread_create(&thread, NULL, watch_main, NULL);
    if (rc != 0) {
        opy_log(OPY_LOG_ERROR, "OPY0047 development mode: cannot start the thread watching the scripts (%s)",
                strerror(rc));
        return -1;
    }
    thread_running = 1;
    return 0;
}

void
opy_dev_watch_stop(void)
{
    if (thread_running) {
        pthread_mutex_lock(&lock);
        stop_requested = 1;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);
        pthread_join(thread, NULL);
        thread_running = 0;
    }
    free(import_error);
    import_error = NULL;
}

static OrthancPluginErrorCode
answer_import_error(OrthancPluginRestOutput *output, const char *url, const OrthancPluginHttpRequest *req)
{
    (void) url;
    (void) req;
    OrthancPluginSetHttpErrorDetails(opy_context, output, import_error ? import_error : "", 0);
    return OrthancPluginErrorCode_Plugin;
}

void
opy_dev_serve_import_error(const char *traceback)
{
    free(import_error);
    import_error = strdup(traceback ? traceback : "the scripts could not be imported");
    opy_log(OPY_LOG_WARNING, "OPY0048 development mode: the scripts do not import; every HTTP request "
            "is answered with the traceback (HTTP 500) until a script changes");
    OrthancPluginRegisterRestCallbackNoLock(opy_context, "/.*", answer_import_error);
}
