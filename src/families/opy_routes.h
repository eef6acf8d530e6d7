/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_routes.h - which script serves which route pattern, across the REST
 * and chunked REST families (Python.Scripts).
 */
#ifndef OPY_ROUTES_H
#define OPY_ROUTES_H

/* Records that the script being imported serves `regex`. Two scripts
 * serving the same pattern would silently shadow one another (Orthanc
 * tries the first), so that is refused: -1 with RuntimeError (OPY0045)
 * naming both scripts and both families. Within one script the first
 * registration wins, as Orthanc does it. 0 otherwise. With the GIL, while
 * the scripts are imported. */
int opy_routes_claim(const char *regex, const char *family);

/* Forgets every claim (the plugin's finalization). */
void opy_routes_clear(void);

#endif
