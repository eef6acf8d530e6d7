/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_rest.h - REST callbacks (orthanc.RegisterRestCallback).
 */
#ifndef OPY_CB_REST_H
#define OPY_CB_REST_H

#include "opy_python.h"

#include "opy_families.h"
#include "opy_sdk.h"

/* Serve one REST request with `callable` under the REST call convention
 * (takes the GIL; exception and "no answer" rules of this family). `regex`
 * names the route in log messages. Also used by the chunked family for its
 * GET and DELETE handlers. */
OrthancPluginErrorCode opy_rest_serve(int interp, PyObject *callable, const char *regex,
                                      OrthancPluginRestOutput *output, const char *url,
                                      const OrthancPluginHttpRequest *req);

/* Drops the callables that interpreter idx > 0 registered (its GIL held,
 * before it ends). */
void opy_cb_rest_drop_interp(int idx);

/* OrthancPluginSetHttpErrorDetails without logging, GIL released. Needs the
 * GIL on entry. */
void opy_rest_set_error_details(OrthancPluginRestOutput *output, const char *details);

#endif /* OPY_CB_REST_H */
