# SPDX-License-Identifier: GPL-3.0-or-later
# Deep C recursion and deep deallocation inside REST callbacks, which run on
# Orthanc's HTTP threads (a 100 KB stack of their own; the plugin runs Python
# on a stack of its own there, src/core/opy_stack.h).
#   GET /deep/json/N   json.dumps of a list nested N deep: "ok" or the
#                      exception's class name
#   GET /deep/repr/N   repr() of the same
#   GET /deep/free/N   an object with __del__ inside a list nested N deep,
#                      dropped: how many __del__ ran before the answer
#   GET /deep/python/N a Python function recursing N times
#   GET /deep/api/N    /deep/json/N through orthanc.RestApiGetAfterPlugins (a nested
#                      callback on the same thread)
import json

import orthanc

DELETED = [0]


class Tracked:
    def __del__(self):
        DELETED[0] += 1


def nested(n, leaf=None):
    x = [] if leaf is None else [leaf]
    for _ in range(n):
        x = [x]
    return x


def attempt(fn):
    try:
        fn()
        return 'ok'
    except Exception as e:   # RecursionError, MemoryError...
        return type(e).__name__


def Json(output, uri, **request):
    n = int(request['groups'][0])
    output.AnswerBuffer(attempt(lambda: json.dumps(nested(n))), 'text/plain')


def Repr(output, uri, **request):
    n = int(request['groups'][0])
    output.AnswerBuffer(attempt(lambda: repr(nested(n))), 'text/plain')


def Free(output, uri, **request):
    n = int(request['groups'][0])
    before = DELETED[0]
    x = nested(n, Tracked())
    del x
    output.AnswerBuffer(str(DELETED[0] - before), 'text/plain')


def Python(output, uri, **request):
    n = int(request['groups'][0])

    def f(k):
        return f(k - 1) + 1 if k else 0
    output.AnswerBuffer(attempt(lambda: f(n)), 'text/plain')


def Api(output, uri, **request):
    n = int(request['groups'][0])
    output.AnswerBuffer(orthanc.RestApiGetAfterPlugins('/deep/json/%d' % n), 'text/plain')


orthanc.RegisterRestCallback('/deep/json/([0-9]+)', Json)
orthanc.RegisterRestCallback('/deep/repr/([0-9]+)', Repr)
orthanc.RegisterRestCallback('/deep/free/([0-9]+)', Free)
orthanc.RegisterRestCallback('/deep/python/([0-9]+)', Python)
orthanc.RegisterRestCallback('/deep/api/([0-9]+)', Api)
