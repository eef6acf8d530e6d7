/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_plugin.c - the four entry points of the Orthanc plugin.
 *
 * Initialize reads the configuration, checks the script (refusing to start
 * Orthanc with a clear log line when it cannot be used) and starts Python;
 * Finalize stops it. Only these four symbols are exported.
 */
#include "opy_python.h"
#include "opy_bytes.h"
#include "opy_config.h"
#include "opy_devmode.h"
#include "opy_error.h"
#include "opy_interp.h"
#include "opy_interps.h"
#include "opy_log.h"
#include "opy_gil.h"
#include "opy_gen.h"
#include "opy_sdk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef OPY_VERSION
#define OPY_VERSION "0.1.0"
#endif

static int started;

/* Returns the malloc'ed absolute path of a usable script, or NULL after
 * logging why not. */
static char *
check_script(const char *configured)
{
    char *path = realpath(configured, NULL);
    const char *base;
    size_t len;
    struct stat st;

    if (path == NULL) {
        opy_log(OPY_LOG_ERROR, "OPY0002 Python script not found: \"%s\" (%s)", configured, strerror(errno));
        return NULL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        opy_log(OPY_LOG_ERROR, "OPY0003 the Python script \"%s\" is a directory, not a file", configured);
        goto refuse;
    }
    base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    len = strlen(base);
    if (len < 4 || strcmp(base + len - 3, ".py") != 0) {
        opy_log(OPY_LOG_ERROR, "OPY0004 the Python script \"%s\" is not a .py file", configured);
        goto refuse;
    }
    /* Python's import would block forever on a FIFO without writer (and read
     * garbage from a device): only a regular file that can be opened is
     * accepted. O_NONBLOCK keeps this open() itself from blocking. */
    {
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0) {
            opy_log(OPY_LOG_ERROR, "OPY0026 the Python script \"%s\" cannot be read (%s)", configured,
                    strerror(errno));
            goto refuse;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            opy_log(OPY_LOG_ERROR, "OPY0026 the Python script \"%s\" cannot be read (not a regular file)",
                    configured);
            goto refuse;
        }
        close(fd);
    }
    return path;
refuse:
    free(path);
    return NULL;
}

ORTHANC_PLUGINS_API int32_t
OrthancPluginInitialize(OrthancPluginContext *context)
{
    OpyConfig cfg;
    char *json, **scripts = NULL;
    size_t i, n = 0;
    int rc = -1;

    opy_sdk_init(context);
    opy_log_open();                 /* also after POST /tools/reset reloaded us */
    opy_gen_counting = getenv("OPY_CALL_COUNTS") != NULL;   /* dump_call_counts() */
    context = opy_context;
    /* What the plugin needs of the running Orthanc is 1.10.0, whatever
     * header it was built with: newer functions check at each call. */
    if (!OrthancPluginCheckVersionAdvanced(context, 1, 10, 0)) {
        opy_log(OPY_LOG_ERROR, "OPY0023 this Orthanc (%s) is too old for the Python plugin: it needs "
                "Orthanc 1.10.0 or newer", context->orthancVersion);
        return -1;
    }
    OrthancPluginSetDescription(context, "Run Orthanc plugins written in Python (C implementation).");
    json = OrthancPluginGetConfiguration(context);
    if (json == NULL || opy_config_parse(json, &cfg) < 0) {
        if (json)
            OrthancPluginFreeString(context, json);
        return -1;
    }
    OrthancPluginFreeString(context, json);

    if (cfg.script == NULL && cfg.n_scripts == 0) {
        opy_log(OPY_LOG_WARNING, "OPY0001 no Python script configured (option \"PythonScript\", "
                "\"Python.Path\" or \"Python.Scripts\"): the Python interpreter is not started");
        rc = 0;
        goto done;
    }
    /* PythonScript / Python.Path first, then Python.Scripts, in order */
    scripts = calloc(cfg.n_scripts + 1, sizeof *scripts);
    if (scripts == NULL)
        goto done;
    if (cfg.script != NULL && (scripts[n++] = check_script(cfg.script)) == NULL)
        goto done;
    for (i = 0; i < cfg.n_scripts; i++)
        if ((scripts[n++] = check_script(cfg.scripts[i])) == NULL)
            goto done;
    if (Py_IsInitialized()) {
        opy_log(OPY_LOG_ERROR, "OPY0006 Python is already initialised in this process: another plugin "
                "(for instance the official Python plugin) owns the interpreter; load only one");
        goto done;
    }
    if (opy_interps_check_config(&cfg) < 0)       /* Python.Interpreters on Python 3.11 */
        goto done;
    opy_gil_allow_threads = cfg.allow_threads;
    opy_dev_mode = cfg.development_mode;
    if (cfg.development_mode) {
        opy_log(OPY_LOG_WARNING, "OPY0046 development mode is on (\"Python.DevelopmentMode\"): HTTP "
                "errors of Python routes carry their traceback, and the scripts are reloaded when "
                "they change; do not use it in production");
        opy_dev_watch_clear();
        for (i = 0; i < n; i++)
            opy_dev_watch_add(scripts[i]);
    }
    free(opy_interp_import_error);
    opy_interp_import_error = NULL;
    if (opy_interp_start(&cfg, scripts, n) < 0) {
        /* development mode: a script that does not import is answered
         * with, until it changes, instead of stopping Orthanc */
        if (!cfg.development_mode || opy_interp_import_error == NULL)
            goto done;
        opy_dev_serve_import_error(opy_interp_import_error);
        free(opy_interp_import_error);
        opy_interp_import_error = NULL;
        (void) opy_dev_watch_start(0);  /* logged when it fails */
        rc = 0;
        goto done;
    }
    if (cfg.development_mode)
        (void) opy_dev_watch_start(1);  /* logged when it fails */
    started = 1;
    rc = 0;
done:
    for (i = 0; i < n; i++)
        free(scripts[i]);
    free(scripts);
    opy_config_free(&cfg);
    return rc;
}

/* For the tests: when OPY_CALL_COUNTS names a file, append to it how many
 * times each public callable of the module ran ("name count" lines), so
 * that the test suite can tell which wrappers it never exercised. */
static void
dump_call_counts(void)
{
    const char *path = getenv("OPY_CALL_COUNTS");
    FILE *f;
    unsigned i;

    if (path == NULL || *path == '\0' || (f = fopen(path, "a")) == NULL)
        return;
    for (i = 0; i < opy_gen_call_count; i++)
        fprintf(f, "%s %lu\n", opy_gen_call_names[i], opy_gen_calls[i]);
    fprintf(f, "(adopted-answers) %lu\n", atomic_load(&opy_bytes_adopted));     /* opy_bytes.c */
    fclose(f);
}

ORTHANC_PLUGINS_API void
OrthancPluginFinalize(void)
{
    dump_call_counts();
    opy_dev_watch_stop();
    if (started) {
        opy_interp_stop();
        started = 0;
    }
    opy_log_close();
}

ORTHANC_PLUGINS_API const char *
OrthancPluginGetName(void)
{
    return "python";
}

ORTHANC_PLUGINS_API const char *
OrthancPluginGetVersion(void)
{
    return OPY_VERSION;
}
