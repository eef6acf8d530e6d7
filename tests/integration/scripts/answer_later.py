# SPDX-License-Identifier: GPL-3.0-or-later
# Routes around the answer that AnswerBuffer holds back (src/sdk/opy_restoutput.c):
# what the callback can observe, and when the client gets its answer.
import threading

import orthanc

RELEASE = {}
SEEN = {}


def gate(name):
    return RELEASE.setdefault(name, threading.Event())


def Twice(output, uri, **request):
    output.AnswerBuffer('first', 'text/plain')
    try:
        output.AnswerBuffer('second', 'text/plain')
        SEEN['twice'] = 'no error'
    except orthanc.OrthancException as e:
        SEEN['twice'] = '%s %s' % (type(e).__name__, e.args[1])


def HeaderAfter(output, uri, **request):
    output.AnswerBuffer('body', 'text/plain')
    try:
        output.SetHttpHeader('X-Late', 'yes')
        SEEN['header'] = 'no error'
    except orthanc.OrthancException as e:
        SEEN['header'] = '%s %s' % (type(e).__name__, e.args[1])


def HeaderBefore(output, uri, **request):
    output.SetHttpHeader('X-Early', 'yes')
    output.AnswerBuffer('body', 'text/plain')


def RaiseAfter(output, uri, **request):
    output.AnswerBuffer('answered', 'text/plain')
    raise RuntimeError('raised after answering')


def ThenCall(output, uri, **request):
    # an SDK call that releases the GIL sends the answer: the client has it
    # while this callback still waits
    output.AnswerBuffer('sent at the next call', 'text/plain')
    orthanc.RestApiGet('/system')
    SEEN['then-call'] = gate('then-call').wait(30)


def ThenWait(output, uri, **request):
    # pure Python after the answer: it goes out when the callback returns
    output.AnswerBuffer('sent on return', 'text/plain')
    SEEN['then-wait'] = gate('then-wait').wait(30)


def BigThenWait(output, uri, **request):
    # more than 64 KiB: sent at once, as before
    output.AnswerBuffer(b'x' * 100000, 'application/octet-stream')
    SEEN['big-then-wait'] = gate('big-then-wait').wait(30)


def FromThread(output, uri, **request):
    t = threading.Thread(target=output.AnswerBuffer, args=('from a thread', 'text/plain'))
    t.start()
    t.join()


def Empty(output, uri, **request):
    output.AnswerBuffer(b'', 'application/octet-stream')


def Nested(output, uri, **request):
    inner = orthanc.RestApiGetAfterPlugins('/later/empty-inner')
    output.AnswerBuffer('outer got %d bytes: %s' % (len(inner), inner.decode()), 'text/plain')


def EmptyInner(output, uri, **request):
    output.AnswerBuffer('inner', 'text/plain')


def Release(output, uri, **request):
    gate(request['groups'][0]).set()
    output.AnswerBuffer('released', 'text/plain')


def Seen(output, uri, **request):
    output.AnswerBuffer(str(SEEN.get(request['groups'][0])), 'text/plain')


for route, callback in (('/later/twice', Twice), ('/later/header-after', HeaderAfter),
                        ('/later/header-before', HeaderBefore), ('/later/raise-after', RaiseAfter),
                        ('/later/then-call', ThenCall), ('/later/then-wait', ThenWait),
                        ('/later/big-then-wait', BigThenWait), ('/later/from-thread', FromThread),
                        ('/later/empty', Empty), ('/later/nested', Nested),
                        ('/later/empty-inner', EmptyInner),
                        ('/later/release/(.*)', Release), ('/later/seen/(.*)', Seen)):
    orthanc.RegisterRestCallback(route, callback)
