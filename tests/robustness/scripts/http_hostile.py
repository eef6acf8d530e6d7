# SPDX-License-Identifier: GPL-3.0-or-later
# Hostile HTTP input (tests/robustness/test_http_hostile.py): a route and an
# HTTP filter that describe exactly what they were given.  Strings are sent
# back as the bytes they stand for (UTF-8 with surrogateescape, the decoding
# rule of the plugin), in hex, with their Python type.
import hashlib
import json

import orthanc

SEEN = {}


def raw(value):
    """A str as its bytes (hex), with its type: the test compares them with
    what it sent."""
    if isinstance(value, str):
        return ['str', value.encode('utf-8', 'surrogateescape').hex()]
    return [type(value).__name__, repr(value)[:200]]


def describe(uri, request):
    d = {'uri': raw(uri)}
    for key, value in sorted(request.items()):
        if isinstance(value, dict):
            d[key] = {'type': type(value).__name__,
                      'items': sorted([raw(k), raw(v)] for k, v in value.items())}
        elif isinstance(value, tuple):
            d[key] = {'type': 'tuple', 'items': [raw(v) for v in value]}
        elif isinstance(value, bytes):
            d[key] = {'type': 'bytes', 'size': len(value),
                      'md5': hashlib.md5(value).hexdigest(),
                      'hex': value[:64].hex()}
        else:
            d[key] = raw(value)
    return d


def Route(output, uri, **request):
    d = describe(uri, request)
    d['filter'] = SEEN.pop('filter', None)
    body = json.dumps(d)
    del request
    output.AnswerBuffer(body, 'application/json')


orthanc.RegisterRestCallback('/hostile(/.*)?', Route)


def Filter(uri, **request):
    if uri.startswith('/hostile'):
        SEEN['filter'] = describe(uri, {k: v for k, v in request.items()})
    return 'x-deny' not in request.get('headers', {})


orthanc.RegisterIncomingHttpRequestFilter(Filter)
