/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_log.h - the plugin's own log messages, and Python's output streams.
 *
 * The plugin's messages start with a stable id "OPY####" (docs/messages.md)
 * and name the script they concern. print() and sys.stdout write whole lines
 * to Orthanc's standard output (fd 1), sys.stderr to its standard error
 * (fd 2), line-buffered; with "Python.LogOutput" they become Orthanc log
 * lines "[script.py] text" (warning / error) instead. The logging module
 * reaches the log through orthanc.LogHandler.
 */
#ifndef OPY_LOG_H
#define OPY_LOG_H

#include "opy_python.h"

#include <stdatomic.h>

typedef enum {
    OPY_LOG_INFO,
    OPY_LOG_WARNING,
    OPY_LOG_ERROR
} OpyLogLevel;

/* Log one message. Needs no GIL and does not touch Python. Once the plugin
 * is finalized, messages go to the process's stderr instead of Orthanc. */
void opy_log(OpyLogLevel level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void opy_log_str(OpyLogLevel level, const char *message);

/* Once Orthanc is stopping, SDK calls from Python raise (the REST API, ...)
 * while the log still works until the plugin is finalized.
 * Two steps: at ORTHANC_STOPPED, opy_sdk_close_threads() refuses the calls
 * of the threads that are not inside a callback of Orthanc (the script's
 * threads and timers: the core may be destroyed under them), while the
 * callbacks Orthanc still makes (a REST route answering during the stop)
 * keep working; at the plugin's stop, opy_sdk_close() refuses them all. */
void opy_sdk_close(void);
void opy_sdk_close_threads(void);
extern atomic_int opy_sdk_closed_flag;     /* 0 open, 1 closed for threads, 2 closed */
extern __attribute__((tls_model("initial-exec"))) _Thread_local int opy_gil_callback_depth;
static inline int
opy_sdk_is_closed(void)
{
    int f = atomic_load_explicit(&opy_sdk_closed_flag, memory_order_relaxed);

    return f != 0 && (f > 1 || opy_gil_callback_depth == 0);
}

/* Orthanc (re)loads the plugin: the log and the SDK are usable again
 * (the library stays loaded across POST /tools/reset). */
void opy_log_open(void);

/* After this, opy_log writes to stderr (Orthanc's context is gone). */
void opy_log_close(void);
int opy_log_is_closed(void);

/* Module exec slot part: creates orthanc._LogStream and orthanc.LogHandler.
 * Returns 0, or -1 with an exception set. */
int opy_log_module_init(PyObject *module);

/* Install the plugin's streams as sys.stdout / sys.stderr (to fds 1 and 2,
 * or to the log when log_output) and hook the logging module. Called with
 * the GIL held once the module exists. On failure the original streams stay
 * and the failure is logged. */
void opy_log_install_streams(int log_output);

/* sys.stdout.flush() and sys.stderr.flush(), errors ignored: a partial
 * line still pending comes out. With the GIL held. */
void opy_log_flush_streams(void);

#endif /* OPY_LOG_H */
