# SPDX-License-Identifier: GPL-3.0-or-later
"""Streamed answers (scripts/stream.py): a REST callback that returns a
generator, a binary file object or an orthanc.StreamedAnswer gets a streamed
answer (SDK 1.12.6: RestOutput.StartStreamAnswer / SendStreamChunk, also
called directly here). On an older Orthanc such a return value is a clear
error (HTTP 500, NotImplementedError logged, the generator closed)."""

import http.client
import json
import socket
import time

import pytest

import harness

STREAMS = (harness.orthanc_version() >= (1, 12, 6)
           and 'RestOutput.StartStreamAnswer' in harness.sdk_versions())
needs_streams = pytest.mark.skipif(not STREAMS, reason='streamed answers need Orthanc 1.12.6 and its SDK header '
                                   '(this is Orthanc %s)' % harness.orthanc_version_text())
OPY0010 = r'OPY0010 Exception in REST callback'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('stream.py'))


def state(srv):
    return srv.get_json('/stream/state')


def rss_kib(pid):
    with open('/proc/%d/statm' % pid) as f:
        return int(f.read().split()[1]) * 4


def raw_get(srv, path, keep_alive=False):
    """GET on a new connection, read until the server closes it (a keep-alive
    connection is closed by the server only when the answer failed):
    (head, body of the answer, whether the body was complete, closed)."""
    request = 'GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n' % (path, '' if keep_alive else 'Connection: close\r\n')
    data, closed = b'', False
    with socket.create_connection(('127.0.0.1', srv.http_port), timeout=10) as s:
        s.sendall(request.encode())
        try:
            while True:
                block = s.recv(1 << 20)
                if not block:
                    closed = True
                    break
                data += block
        except socket.timeout:
            pass
    head, _, body = data.partition(b'\r\n\r\n')
    head = head.decode('latin-1')
    if 'transfer-encoding: chunked' in head.lower():
        body, complete = dechunk(body)
    else:               # without a length: the end of the connection ends the body
        complete = closed and 'content-length' not in head.lower()
    return head, body, complete, closed


@needs_streams
def test_generator_chunks_in_order(srv):
    status, headers, body = srv.get('/stream/chunks')
    assert status == 200
    assert headers['content-type'] == 'application/octet-stream'
    assert body == b''.join(b'chunk %d\n' % i for i in range(5))
    for keep_alive in (False, True):
        head, raw, complete, _ = raw_get(srv, '/stream/chunks', keep_alive)
        assert head.startswith('HTTP/1.1 200') and (raw, complete) == (body, True), (head, raw)


@needs_streams
def test_streamed_answer_with_content_type(srv):
    status, headers, body = srv.get('/stream/typed')
    assert (status, headers['content-type'], body) == (200, 'text/csv', b'a,b,c,d\n')


@needs_streams
def test_stream_started_by_the_callback(srv):
    status, headers, body = srv.get('/stream/started')
    assert (status, headers['content-type'], body) == (200, 'text/x-started', b'first;x0;x1;x2;')


@needs_streams
def test_start_stream_answer_and_send_stream_chunk(srv):
    status, headers, body = srv.get('/stream/direct')
    assert (status, headers['content-type'], body) == (200, 'application/x-direct', b'0123')


@needs_streams
def test_empty_generator(srv):
    status, headers, body = srv.get('/stream/empty')
    assert (status, headers['content-type'], body) == (200, 'application/octet-stream', b'')


@needs_streams
def test_binary_file_is_streamed_and_closed(srv):
    status, headers, body = srv.get('/stream/file')
    assert status == 200 and headers['content-type'] == 'application/octet-stream'
    assert body == b'0123456789' * 300000
    assert state(srv)['file_closed'] is True
    status, headers, body = srv.get('/stream/named-file')
    assert status == 200 and headers['content-type'] == 'text/x-python'
    assert body == harness.script_text('stream.py').encode()
    assert state(srv)['named_closed'] is True


@needs_streams
@pytest.mark.parametrize('path, message', [
    ('/stream/raises', r'RuntimeError: stream broken on purpose'),
    ('/stream/bad-chunk', r"TypeError: a streamed answer's chunks must be bytes \(or bytes-like\) or str, not int"),
])
def test_exception_mid_stream_ends_the_connection(srv, path, message):
    mark = srv.log_mark()
    # keep-alive asked: the server ends the connection after what was sent
    head, data, _, closed = raw_get(srv, path, keep_alive=True)
    assert head.startswith('HTTP/1.1 200'), head
    assert closed
    assert data == (b'good 1\ngood 2\n' if 'raises' in path else b'ok\n'), (head, data)
    srv.wait_log(OPY0010 + r' %s' % path, since=mark)
    assert srv.count_log(message, since=mark) == 1
    # the generator's frames (the TypeError of a bad chunk is raised by the plugin: no frame)
    assert srv.count_log(r'Traceback', since=mark) == (1 if 'raises' in path else 0)
    assert srv.get('/system')[0] == 200


@pytest.mark.parametrize('kind', ['list', 'str', 'bytes', 'iter', 'text', 'int'])
def test_other_return_values_stay_ignored(srv, kind):
    mark = srv.log_mark()
    status, _, body = srv.get('/stream/not-stream/%s' % kind)
    assert (status, body) == (200, b'answered\n')
    assert srv.count_log(r'OPY00', since=mark) == 0


def test_streamed_answer_checks_its_content_type(srv):
    status, _, body = srv.get('/stream/bad-type')
    assert status == 500
    assert 'TypeError: StreamedAnswer() content_type must be a str, not int' in json.loads(body)['Details']


@pytest.mark.skipif(STREAMS, reason='this Orthanc streams answers')
def test_stream_on_an_older_orthanc_is_a_clear_error(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/stream/fallback')
    assert status == 500
    details = json.loads(body)['Details']
    assert details.startswith('NotImplementedError: a REST callback that returns a stream (a generator, a binary '
                              'file or an orthanc.StreamedAnswer) needs '), details
    assert ('needs Orthanc 1.12.6 or newer; this is Orthanc %s' % harness.orthanc_version_text() in details
            or 'needs a plugin built with the Orthanc SDK 1.12.6 or newer' in details), details
    assert srv.count_log(OPY0010 + r' /stream/fallback', since=mark) == 1
    assert state(srv)['fallback_closed'] is True


@needs_streams
def test_one_gigabyte_with_flat_memory(srv):
    conn = http.client.HTTPConnection('127.0.0.1', srv.http_port, timeout=120)
    # warm-up: thread stacks, arenas
    conn.request('GET', '/stream/big?mb=64')
    r = conn.getresponse()
    assert len(r.read()) == 64 << 20
    before = peak = rss_kib(srv.proc.pid)
    conn.request('GET', '/stream/big?mb=1024')
    r = conn.getresponse()
    assert r.status == 200
    total = i = 0
    while True:
        block = r.read(1 << 20)
        if not block:
            break
        # chunk i is 1 MiB of the byte i % 251; reads may straddle chunks
        assert block[0] == (total >> 20) % 251 and block[-1] == ((total + len(block) - 1) >> 20) % 251
        total += len(block)
        i += 1
        if i % 32 == 0:
            peak = max(peak, rss_kib(srv.proc.pid))
    conn.close()
    assert total == 1 << 30
    assert state(srv)['big'] == 'done'
    growth = peak - before
    assert growth < 64 * 1024, 'RSS of Orthanc grew by %d KiB while streaming 1 GB' % growth


@needs_streams
def test_client_leaving_mid_stream_closes_the_generator(srv):
    mark = srv.log_mark()
    s = socket.create_connection(('127.0.0.1', srv.http_port), timeout=30)
    s.sendall(b'GET /stream/big?mb=100000 HTTP/1.1\r\nHost: x\r\n\r\n')
    got = 0
    while got < 8 << 20:
        data = s.recv(1 << 20)
        assert data
        got += len(data)
    # the client stops reading: Orthanc's send blocks (socket buffers full)
    # with the GIL released, so other Python routes still answer
    time.sleep(1)
    started = time.time()
    assert state(srv)['big'] == 'running'
    assert time.time() - started < 5
    s.close()
    srv.wait_log(r'OPY0050 REST callback /stream/big: the streamed answer to /stream/big ended after \d+ bytes',
                 since=mark, timeout=30)
    deadline = time.time() + 10
    while state(srv)['big'] != 'closed' and time.time() < deadline:
        time.sleep(0.1)
    assert state(srv)['big'] == 'closed'
    time.sleep(0.5)
    assert srv.count_log(r'OPY0050', since=mark) == 1
    assert srv.count_log(r'Traceback', since=mark) == 0
    assert srv.get('/system')[0] == 200


def test_example_streamed_answer(orthanc_factory):
    """examples/streamed_answer.py: a CSV line per instance (a clear error before Orthanc 1.12.6)."""
    import dicomgen
    srv = orthanc_factory(harness.REPO / 'examples' / 'streamed_answer.py', name='stream_example')
    ids = {srv.upload(dicomgen.make_instance(patient_id='CSV-%d' % i))['ID']: 'CSV-%d' % i for i in range(3)}
    status, headers, body = srv.get('/export.csv')
    if not STREAMS:
        assert status == 500 and 'NotImplementedError' in json.loads(body)['Details']
    else:
        assert (status, headers['content-type']) == (200, 'text/csv')
        lines = body.decode().splitlines()
        assert lines[0] == 'instance,patient'
        assert sorted(lines[1:]) == sorted('%s,%s' % item for item in ids.items())
    srv.stop()
