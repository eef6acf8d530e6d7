/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_core_api.h - module functions calling the Orthanc core: its REST API,
 * configuration, authorization tokens and log. Hand-written until the
 * generated wrappers take over the mechanical ones.
 */
#ifndef OPY_CORE_API_H
#define OPY_CORE_API_H

#include "opy_python.h"

int opy_core_api_init(PyObject *module);

#endif /* OPY_CORE_API_H */
