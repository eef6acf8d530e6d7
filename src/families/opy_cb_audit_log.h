/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_audit_log.h - the audit log handlers' queue (opy_cb_audit_log.c).
 */
#ifndef OPY_CB_AUDIT_LOG_H
#define OPY_CB_AUDIT_LOG_H

/* Delivers what is queued (at most 5 s) and stops the thread delivering
 * audit logs; no-op when none was registered. Without the GIL, before the
 * SDK is closed. */
void opy_cb_audit_log_stop(void);

#endif
