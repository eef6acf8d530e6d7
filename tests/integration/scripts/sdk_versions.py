# SPDX-License-Identifier: GPL-3.0-or-later
# Functions of newer SDKs (tests/integration/test_sdk_versions.py): each is
# called as the test asks, on whichever Orthanc runs; the route reports what
# happened (the result, or the exception's type and message).
import json
import threading

import orthanc


def call(name, args):
    obj = orthanc
    for part in name.split('.'):
        obj = getattr(obj, part)
    try:
        value = obj(*args)
        if isinstance(value, bytes):
            value = value.decode('latin-1')
        elif not isinstance(value, (str, int, float, bool, type(None))):
            value = type(value).__name__
        return {'result': value, 'exc': None, 'message': None}
    except Exception as e:
        return {'result': None, 'exc': type(e).__name__, 'message': str(e)}


def Calls(output, uri, **request):
    calls = json.loads(request['body'])
    answer = [call(c['name'], c.get('args', [])) for c in calls]
    output.AnswerBuffer(json.dumps(answer), 'application/json')


def ThreadName(output, uri, **request):
    # SetCurrentThreadName is for threads the plugin created.
    box = {}

    def run():
        box.update(call('SetCurrentThreadName', ['py-named']))
        orthanc.LogWarning('thread-name-marker')
        if hasattr(orthanc, 'ClearCurrentThreadName'):
            # SDK 1.13.0: frees the name before the thread ends
            box['clear'] = call('ClearCurrentThreadName', [])

    t = threading.Thread(target=run)
    t.start()
    t.join()
    output.AnswerBuffer(json.dumps(box), 'application/json')


def Stream(output, uri, **request):
    try:
        output.StartStreamAnswer('text/plain')
    except NotImplementedError as e:
        output.AnswerBuffer('NotImplementedError: %s' % e, 'text/plain')
        return
    for i in range(5):
        output.SendStreamChunk(('chunk %d\n' % i).encode())


def AliasMatch(output, uri, **request):
    # The query is the instance itself: both names match it.
    matcher = orthanc.CreateFindMatcher(request['body'])
    output.AnswerBuffer(json.dumps([matcher.IsMatch(request['body']),
                                    matcher.FindMatcherIsMatch(request['body'])]), 'application/json')


orthanc.RegisterRestCallback('/sdk/calls', Calls)
orthanc.RegisterRestCallback('/sdk/thread-name', ThreadName)
orthanc.RegisterRestCallback('/sdk/stream', Stream)
orthanc.RegisterRestCallback('/sdk/alias', AliasMatch)
