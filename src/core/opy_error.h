/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_error.h - the two error funnels.
 *
 * Python -> Orthanc: opy_error_report() logs the pending Python exception
 * once, with its full traceback and what was running, and turns it into an
 * Orthanc error code (the code of an orthanc.OrthancException, otherwise
 * OrthancPluginErrorCode_Plugin).
 *
 * Orthanc -> Python: opy_error_raise() raises
 * orthanc.OrthancException(code, description).
 */
#ifndef OPY_ERROR_H
#define OPY_ERROR_H

#include "opy_python.h"
#include "opy_sdk.h"

/* Needs the GIL and a pending exception (which it clears). `where` says
 * what was running ("REST callback /toto"). When `message` is not NULL it
 * receives a malloc'ed "ExceptionType: text" line for HTTP error details
 * (free() it), or NULL. */
OrthancPluginErrorCode opy_error_report(const char *where, char **message);

/* Logs the pending exception (cleared) as "<id> <what>:\n<traceback>".
 * Needs the GIL. */
void opy_error_log(const char *id, const char *what);

/* The same, and returns the logged traceback text (malloc'ed, or NULL). */
char *opy_error_log_text(const char *id, const char *what);

/* "Python.DevelopmentMode": the `message` of opy_error_report() is then
 * the whole traceback (the Details of a REST callback's HTTP error). */
extern int opy_dev_mode;

/* Sets orthanc.OrthancException(code, description); returns NULL so that
 * callers can `return opy_error_raise(code);`. Needs the GIL. */
PyObject *opy_error_raise(OrthancPluginErrorCode code);

/* Same, with a description of our own. */
PyObject *opy_error_raise_msg(OrthancPluginErrorCode code, const char *description);

/* Raise the exception telling that Orthanc is stopping (SDK unusable). */
PyObject *opy_error_sdk_closed(void);

/* 0 when the running Orthanc is `version` or newer; otherwise raises
 * NotImplementedError("orthanc.<name>() needs Orthanc X or newer; this is
 * Orthanc Y") and returns -1, so that a binary built against a newer SDK
 * never reaches a service the running Orthanc lacks. Needs the GIL. */
int opy_sdk_require(unsigned version, const char *name);

/* Module exec part: creates orthanc.OrthancException. 0 or -1. */
int opy_error_module_init(PyObject *module);

/* Name of the running script, for messages ("rest.py"; "a.py, b.py" with
 * several scripts); "?" before init. */
extern const char *opy_script_name;

/* The scripts (Python.Scripts): base names and absolute paths, in import
 * order; set by the interpreter's start. */
extern char **opy_scripts_bases;
extern char **opy_scripts_paths;
extern size_t opy_scripts_count;

/* The base name of the script being imported, NULL outside the import. */
extern const char *opy_script_current;

/* The script an exception comes from: the first frame of its traceback in
 * one of the scripts, else every name (opy_script_name). Borrowed. With
 * the GIL held; never fails. */
const char *opy_script_of(PyObject *exc);

/* The script a callable was defined in (its code's file), else every
 * name. Borrowed. With the GIL held; never fails. */
const char *opy_script_of_callable(PyObject *callable);

/* The script of the innermost frame of the running Python code that is in
 * one of the scripts (a print() from a.py, or from a library a.py calls),
 * else every name. Borrowed. With the GIL held; never fails. */
const char *opy_script_of_caller(void);

#endif /* OPY_ERROR_H */
