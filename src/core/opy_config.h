/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_config.h - the plugin's configuration options.
 *
 * Read from Orthanc's configuration (JSON) before Python starts, so this
 * part uses no Python. Both spellings of the official plugin are accepted:
 * "PythonScript" / "Python.Path" (Python.Path wins when both are given),
 * "PythonVerbose" / "Python.Verbose", plus "Python.AllowThreads",
 * "Python.DisplayMemoryUsage", "Python.LogOutput", "Python.VirtualEnv",
 * "Python.PythonPath", "Python.Scripts", "Python.DevelopmentMode" and
 * "Python.Interpreters".
 */
#ifndef OPY_CONFIG_H
#define OPY_CONFIG_H

#include <stddef.h>

typedef struct {
    char *script;               /* malloc'ed, NULL when not configured */
    int verbose;
    int allow_threads;          /* release the GIL around SDK calls (default 1) */
    int display_memory;
    int log_output;             /* print()/sys.std* as Orthanc log lines (default 0) */
    char *virtual_env;          /* malloc'ed, NULL when not configured */
    int virtual_env_set;        /* the key is present (then VIRTUAL_ENV is not used) */
    char **python_path;         /* malloc'ed strings: folders after the script's */
    size_t n_python_path;
    char **scripts;             /* malloc'ed strings: Python.Scripts, in order */
    size_t n_scripts;
    int development_mode;       /* tracebacks in HTTP answers, reload on change */
    int interpreters;           /* Python.Interpreters: 1 (default) to OPY_CONFIG_INTERPRETERS_MAX */
} OpyConfig;

#define OPY_CONFIG_INTERPRETERS_MAX 32

/* Parse `json` (Orthanc's configuration). Returns 0, or -1 when the JSON is
 * unreadable (logged; then nothing is allocated). Unknown keys are ignored;
 * a key of the wrong type is logged and ignored. */
int opy_config_parse(const char *json, OpyConfig *cfg);
void opy_config_free(OpyConfig *cfg);

#endif /* OPY_CONFIG_H */
