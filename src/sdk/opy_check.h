/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_check.h - checks of hostile arguments, made before anything reaches
 * Orthanc (docs/robustness.md). Each returns 0, or -1 with ValueError set.
 * They need the GIL. The generated wrappers call them where
 * tools/opy_gen_overrides.json says so ("header_args", "image_args"); the
 * hand-written wrappers call them directly.
 */
#ifndef OPY_CHECK_H
#define OPY_CHECK_H

#include "opy_python.h"

#include <stddef.h>

/* An HTTP header or cookie name: a non-empty RFC 7230 token (tchar only). */
int opy_check_http_name(const char *s, size_t len, const char *what);

/* An HTTP header or cookie value, a redirect target, a content type: no
 * CR, LF or NUL (one of them would end the header line Orthanc writes and
 * let the rest become headers of its own). */
int opy_check_http_value(const char *s, size_t len, const char *what);

/* A route regular expression for Orthanc (boost::regex, Perl syntax):
 * `pattern` (a str) must compile with Python's re (else ValueError, its
 * re.error as __cause__), and must not use what Python accepts but boost
 * refuses (Orthanc then dies at the registration, past any try/except) or
 * reads otherwise. `utf8` is its UTF-8 text. */
int opy_check_route_regex(PyObject *pattern, const char *utf8);

/* Image geometry: width x height pixels of `format` (an
 * OrthancPluginPixelFormat value), rows of `pitch` bytes. ValueError when
 * width x bytes per pixel or pitch x height overflows 32 bits, when pitch
 * is smaller than a row (only when `pitch` >= 0: -1 means none is given),
 * and when `size` >= 0 and the buffer holds fewer than pitch x height
 * bytes. */
int opy_image_check(long long format, long long width, long long height, long long pitch,
                    long long size);

#endif /* OPY_CHECK_H */
