/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_scp.h - what the DICOM SCP families share (C-FIND, C-MOVE,
 * worklists, storage commitment).
 */
#ifndef OPY_CB_SCP_H
#define OPY_CB_SCP_H

#include "opy_python.h"
#include "opy_sdk.h"

/* 1 when the SDK header has the SCP callbacks that receive the calling
 * connection (SDK 1.12.10: RegisterFindCallback2, RegisterWorklistCallback2,
 * RegisterMoveCallback2 of the SDK, RegisterStorageCommitmentScpCallback2,
 * and the OrthancPluginDicomConnection type). Their registrations also check
 * the running Orthanc (opy_sdk_require) first. */
#define OPY_HAVE_SCP2 ORTHANC_PLUGINS_VERSION_IS_ABOVE(1, 12, 10)

/* The Orthanc that has them. */
#define OPY_SCP2_SINCE OPY_SDK_VERSION(1, 12, 10)

/* Calls callable(answers, query, issuerAet, calledAet) for a C-FIND or a
 * worklist request: answers and query are borrowed handles of the given
 * generated types (OPY_TYPE_...), invalidated before returning; the AETs
 * are str ("" when absent). An exception is reported (OPY0010, `what`) and
 * its error code returned, so that the SCU gets a failure. Takes the GIL. */
OrthancPluginErrorCode opy_scp_call_query(PyObject *callable, const char *what, int answers_type,
                                          void *answers, int query_type, const void *query,
                                          const char *issuerAet, const char *calledAet);

/* The same for the v2 callbacks: callable(answers, query, connection), the
 * connection (an OrthancPluginDicomConnection) a borrowed
 * orthanc.DicomConnection invalidated before returning, as the others. */
OrthancPluginErrorCode opy_scp_call_query2(PyObject *callable, const char *what, int answers_type,
                                           void *answers, int query_type, const void *query,
                                           const void *connection);

/* A borrowed orthanc.DicomConnection for an OrthancPluginDicomConnection of
 * a callback: returns a new reference, or NULL with an exception set
 * (SystemError in a build whose header has no DicomConnection: never called
 * there). The caller invalidates it (opy_handle_invalidate) before its
 * callback returns to Orthanc. Needs the GIL. */
PyObject *opy_scp_connection_new(const void *connection);

#endif
