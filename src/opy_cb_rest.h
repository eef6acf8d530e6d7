/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_cb_rest.h - REST callbacks (orthanc.RegisterRestCallback).
 */
#ifndef OPY_CB_REST_H
#define OPY_CB_REST_H

#include "opy_python.h"

#include "opy_families.h"

#endif /* OPY_CB_REST_H */
