/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_changes.h - change callbacks (orthanc.RegisterOnChangeCallback).
 */
#ifndef OPY_CB_CHANGES_H
#define OPY_CB_CHANGES_H

#include "opy_python.h"

#include "opy_families.h"

/* Deliver every queued change (ORTHANC_STOPPED included) and join the
 * worker thread. Called without the GIL, before Python stops. Waits as long
 * as the worker makes progress; returns -1 (worker left running, inside a
 * callback) when one change callback did not return for `stuck_ms`, else 0. */
int opy_cb_changes_stop(int stuck_ms);

/* Registers the C change callback with Orthanc if the script did not (at the
 * end of the script's import): ORTHANC_STOPPED closes the SDK. */
void opy_cb_changes_watch_stop(void);

#endif /* OPY_CB_CHANGES_H */
