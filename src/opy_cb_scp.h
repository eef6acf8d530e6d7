/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_scp.h - what the DICOM SCP families share.
 */
#ifndef OPY_CB_SCP_H
#define OPY_CB_SCP_H

#include "opy_python.h"
#include "opy_sdk.h"

/* Calls callable(answers, query, issuerAet, calledAet) for a C-FIND or a
 * worklist request: answers and query are borrowed handles of the given
 * generated types (OPY_TYPE_...), invalidated before returning; the AETs
 * are str ("" when absent). An exception is reported (OPY0010, `what`) and
 * its error code returned, so that the SCU gets a failure. Takes the GIL. */
OrthancPluginErrorCode opy_scp_call_query(PyObject *callable, const char *what, int answers_type,
                                          void *answers, int query_type, const void *query,
                                          const char *issuerAet, const char *calledAet);

#endif
