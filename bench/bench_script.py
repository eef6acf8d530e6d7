# The Python side of the benchmarks: the same routes as bench/native_plugin.c.
import itertools
import time

import orthanc

CHANGES = [0]


def Trivial(output, uri, **request):
    output.AnswerBuffer('ok', 'text/plain')


def System(output, uri, **request):
    output.AnswerBuffer(orthanc.RestApiGet('/system'), 'application/json')


def Sdk(output, uri, **request):
    n = int(request.get('get', {}).get('n', '1000'))
    describe = orthanc.GetErrorDescription
    if request.get('get', {}).get('floor'):
        # the floor: the same loop calling a builtin of one argument that
        # does nothing, what any call from Python costs before the plugin
        describe = callable
    code = orthanc.ErrorCode.UNKNOWN_RESOURCE
    start = time.perf_counter_ns()
    # the loop of the timeit module: no int object per iteration, so that
    # the figure is the cost of the call rather than of range()
    for _ in itertools.repeat(None, n):
        describe(code)
    output.AnswerBuffer('%.1f' % ((time.perf_counter_ns() - start) / max(n, 1)), 'text/plain')


def File(output, uri, **request):
    data = orthanc.RestApiGet('/instances/%s/file' % request['groups'][0])
    output.AnswerBuffer(str(len(data)), 'text/plain')


def Changes(output, uri, **request):
    output.AnswerBuffer(str(CHANGES[0]), 'text/plain')


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.NEW_INSTANCE:
        CHANGES[0] += 1


orthanc.RegisterRestCallback('/bench/trivial', Trivial)
orthanc.RegisterRestCallback('/bench/system', System)
orthanc.RegisterRestCallback('/bench/sdk', Sdk)
orthanc.RegisterRestCallback('/bench/file/(.*)', File)
orthanc.RegisterRestCallback('/bench/changes', Changes)
orthanc.RegisterOnChangeCallback(OnChange)
