# SPDX-License-Identifier: GPL-3.0-or-later
# Streamed answers (tests/integration/test_stream.py): REST callbacks that
# return a generator, a binary file or an orthanc.StreamedAnswer, and
# RestOutput.StartStreamAnswer / SendStreamChunk called directly.
import io
import json
import threading

import orthanc

STATE = {}
LOCK = threading.Lock()
GENERATORS = {}


def note(key, value):
    with LOCK:
        STATE[key] = value


def Chunks(output, uri, **request):
    def chunks():
        for i in range(5):
            yield ('chunk %d\n' % i) if i % 2 else b'chunk %d\n' % i
    return chunks()


def Typed(output, uri, **request):
    return orthanc.StreamedAnswer([b'a,', b'', 'b,', bytearray(b'c,'), memoryview(b'd\n')], 'text/csv')


def Started(output, uri, **request):
    # the callback starts the stream itself (its content type), then returns the chunks
    output.StartStreamAnswer('text/x-started')
    output.SendStreamChunk(b'first;')
    return (b'x%d;' % i for i in range(3))


def Direct(output, uri, **request):
    # the SDK functions alone, no returned stream
    output.StartStreamAnswer('application/x-direct')
    for i in range(4):
        output.SendStreamChunk(b'%d' % i)


def Empty(output, uri, **request):
    return (c for c in [])


def File(output, uri, **request):
    f = io.BytesIO(b'0123456789' * 300000)      # 3 MB, read by blocks of 1 MiB
    GENERATORS['file'] = f
    return f


def NamedFile(output, uri, **request):
    f = open(__file__, 'rb')
    GENERATORS['named'] = f
    return orthanc.StreamedAnswer(f, 'text/x-python')


def Raises(output, uri, **request):
    def chunks():
        yield b'good 1\n'
        yield b'good 2\n'
        raise RuntimeError('stream broken on purpose')
    return chunks()


def BadChunk(output, uri, **request):
    def chunks():
        yield b'ok\n'
        yield 42
    return chunks()


def Big(output, uri, **request):
    count = int(request['get'].get('mb', '1024'))

    def chunks():
        note('big', 'running')
        try:
            for i in range(count):
                yield bytes([i % 251]) * (1 << 20)
            note('big', 'done')
        except GeneratorExit:
            note('big', 'closed')
            raise
    return chunks()


def Fallback(output, uri, **request):
    def chunks():
        yield b'never sent'
    g = chunks()
    GENERATORS['fallback'] = g
    return g


def NotStreams(output, uri, **request):
    # returned values that were ignored before stay ignored
    output.AnswerBuffer('answered\n', 'text/plain')
    kind = request['groups'][0]
    return {'list': [b'a', b'b'], 'str': 'text', 'bytes': b'raw', 'iter': iter([b'a']),
            'text': io.StringIO('text'), 'int': 3}[kind]


def BadType(output, uri, **request):
    return orthanc.StreamedAnswer([b'x'], content_type=3)


def State(output, uri, **request):
    with LOCK:
        answer = dict(STATE)
    answer['file_closed'] = GENERATORS['file'].closed if 'file' in GENERATORS else None
    answer['named_closed'] = GENERATORS['named'].closed if 'named' in GENERATORS else None
    answer['fallback_closed'] = (GENERATORS['fallback'].gi_frame is None) if 'fallback' in GENERATORS else None
    output.AnswerBuffer(json.dumps(answer), 'application/json')


orthanc.RegisterRestCallback('/stream/chunks', Chunks)
orthanc.RegisterRestCallback('/stream/typed', Typed)
orthanc.RegisterRestCallback('/stream/started', Started)
orthanc.RegisterRestCallback('/stream/direct', Direct)
orthanc.RegisterRestCallback('/stream/empty', Empty)
orthanc.RegisterRestCallback('/stream/file', File)
orthanc.RegisterRestCallback('/stream/named-file', NamedFile)
orthanc.RegisterRestCallback('/stream/raises', Raises)
orthanc.RegisterRestCallback('/stream/bad-chunk', BadChunk)
orthanc.RegisterRestCallback('/stream/big', Big)
orthanc.RegisterRestCallback('/stream/fallback', Fallback)
orthanc.RegisterRestCallback('/stream/not-stream/(.*)', NotStreams)
orthanc.RegisterRestCallback('/stream/bad-type', BadType)
orthanc.RegisterRestCallback('/stream/state', State)
