/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_devmode.h - "Python.DevelopmentMode": reload on change.
 *
 * A plain C thread (no Python) polls the modification time and size of
 * the watched files (the scripts, and the modules they imported from
 * their folders) twice a second; when one changed it logs what (OPY0047)
 * and asks Orthanc for the same in-process restart as POST /tools/reset,
 * which finalizes the plugin and initializes it again (Python started
 * afresh, the scripts imported again). When the scripts do not import,
 * every HTTP request is answered with the import traceback (one catch-all
 * REST route in C) until a file changes again.
 */
#ifndef OPY_DEVMODE_H
#define OPY_DEVMODE_H

/* Forget the watched files (a new start). */
void opy_dev_watch_clear(void);

/* Watch `path` too (copied; a path already watched is ignored). */
void opy_dev_watch_add(const char *path);

/* Start the polling thread (python_running: 0 when the scripts did not
 * import). 0, or -1 (logged). */
int opy_dev_watch_start(int python_running);

/* Stop and join the polling thread (no-op when not running). */
void opy_dev_watch_stop(void);

/* Register the catch-all route answering every request with HTTP 500 and
 * `traceback` in the Details of Orthanc's error (copied). Only during
 * OrthancPluginInitialize. */
void opy_dev_serve_import_error(const char *traceback);

#endif /* OPY_DEVMODE_H */
