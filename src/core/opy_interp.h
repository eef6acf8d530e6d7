/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_interp.h - start and stop of the Python interpreter.
 */
#ifndef OPY_INTERP_H
#define OPY_INTERP_H

#include "opy_config.h"

#include <stddef.h>

/* Start Python (in the virtual environment of the configuration, if any)
 * and import the n scripts (absolute paths), in order, each as its own
 * module. Returns 0, or -1 after logging why (Python is then stopped
 * again). Runs in OrthancPluginInitialize, so callbacks may be registered. */
int opy_interp_start(const OpyConfig *cfg, char *const *scripts, size_t n);

/* When the import of a script failed: its traceback (malloc'ed; the
 * caller frees it and sets it back to NULL), else NULL. */
extern char *opy_interp_import_error;

/* Deliver pending changes, stop our threads, wait a grace period for the
 * script's threads, then finalize Python (or leave it running, logged, when
 * script threads refuse to end). Never hangs. */
void opy_interp_stop(void);

#endif /* OPY_INTERP_H */
