/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_rest.h - REST callbacks (orthanc.RegisterRestCallback).
 */
#ifndef OPY_CB_REST_H
#define OPY_CB_REST_H

#include "opy_python.h"

extern PyMethodDef opy_cb_rest_methods[];
int opy_cb_rest_init(PyObject *module);
/* Drops the callables; with the GIL held, after Orthanc stopped calling. */
void opy_cb_rest_finalize(void);

#endif /* OPY_CB_REST_H */
