# SPDX-License-Identifier: GPL-3.0-or-later
"""RegisterChunkedRestCallback (docs/callbacks/chunked.md): streamed request
bodies reach the reader in several chunks; GET/DELETE follow the REST rules;
failures give an HTTP error with details and one logged traceback."""

import hashlib
import http.client
import json
import os

import pytest


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_chunked.py'))


def stats(srv):
    return srv.get_json('/uploads/_list')['stats']


def post_chunked(srv, path, parts, method='POST'):
    """Send parts with "Transfer-Encoding: chunked"; returns (status, body)."""
    conn = http.client.HTTPConnection('127.0.0.1', srv.http_port, timeout=60)
    try:
        conn.request(method, path, body=iter(parts), encode_chunked=True,
                     headers={'Content-Type': 'application/octet-stream'})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_large_streamed_post_in_several_chunks(srv):
    # Orthanc 1.10.1 hands a body sent with "Transfer-Encoding: chunked" to
    # the reader in pieces of at most 1 MB.
    parts = [os.urandom(1024 * 1024 + 17 * i) for i in range(6)]
    body = b''.join(parts)
    status, answer = post_chunked(srv, '/uploads/big.bin', parts)
    assert status == 200, answer
    info = json.loads(answer)
    assert info['size'] == len(body)
    assert info['sha256'] == hashlib.sha256(body).hexdigest()
    assert info['chunks'] >= 6
    assert info['method'] == 'POST'
    assert info['type'] == 'application/octet-stream'
    assert srv.get_json('/uploads/big.bin') == info
    assert stats(srv)['open'] == 0                  # close() was called


def test_post_with_content_length(srv):
    # With a Content-Length, Orthanc 1.10.1 reads the body first and gives
    # it in one chunk.
    body = os.urandom(3 * 1024 * 1024 + 5)
    status, _, answer = srv.post('/uploads/plain.bin', body)
    assert status == 200, answer
    info = json.loads(answer)
    assert (info['size'], info['chunks']) == (len(body), 1)
    assert info['sha256'] == hashlib.sha256(body).hexdigest()


def test_put_and_empty_body(srv):
    status, _, answer = srv.put('/uploads/empty', b'')
    assert status == 200, answer
    info = json.loads(answer)
    assert (info['size'], info['method']) == (0, 'PUT')
    assert info['sha256'] == hashlib.sha256(b'').hexdigest()
    status, answer = post_chunked(srv, '/uploads/put-streamed', [b'a' * 100, b'b' * 50], method='PUT')
    assert status == 200, answer
    assert (json.loads(answer)['size'], json.loads(answer)['method']) == (150, 'PUT')


def test_get_and_delete_handlers(srv):
    assert srv.post('/uploads/to-delete', b'abc')[0] == 200
    assert 'to-delete' in srv.get_json('/uploads/_list')['uploads']
    assert srv.delete('/uploads/to-delete')[:3:2] == (200, b'deleted')
    assert srv.get('/uploads/to-delete')[0] == 404


def test_missing_handlers_answer_405(srv):
    assert srv.get('/post-only')[0] == 405
    assert srv.put('/post-only', b'x')[0] == 405
    status, _, answer = srv.post('/post-only', b'12345')
    assert status == 200 and json.loads(answer)['size'] == 5


def _error(srv, name, body, status, traceback=True):
    mark = srv.log_mark()
    if isinstance(body, list):
        got, answer = post_chunked(srv, '/uploads/' + name, body)
    else:
        got, _, answer = srv.post('/uploads/' + name, body)
    assert got == status, answer
    srv.wait_log(r'OPY0010 Exception in chunked REST callback /uploads/\(\.\*\)', since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 1
    # a TypeError raised by the plugin itself has no Python frames
    assert srv.count_log(r'Traceback \(most recent call last\)', since=mark) == int(traceback)
    assert srv.get('/system')[0] == 200
    assert stats(srv)['open'] == 0
    return json.loads(answer), srv.log_text(mark)


def test_add_chunk_raises(srv):
    err, log = _error(srv, 'fail-chunk', [os.urandom(1024 * 1024) for _ in range(4)], 500)
    assert 'ValueError: chunk 1 refused' in err['Details']
    assert 'add_chunk' in log


def test_execute_raises_orthanc_exception(srv):
    err, log = _error(srv, 'fail-exec', b'data', 400)
    assert err['Details'] == 'OrthancException: not a valid archive'


def test_factory_raises(srv):
    err, _ = _error(srv, 'fail-factory', b'data', 500)
    assert 'RuntimeError: no space left for fail-factory' in err['Details']


def test_factory_bad_return_value(srv):
    err, _ = _error(srv, 'bad-reader', b'data', 500, traceback=False)
    assert 'TypeError' in err['Details'] and 'add_chunk' in err['Details']


def test_execute_without_answer(srv):
    mark = srv.log_mark()
    status, _, answer = srv.post('/uploads/silent', b'data')
    assert status == 500
    assert 'without sending an answer' in json.loads(answer)['Details']
    srv.wait_log(r'OPY0011 chunked REST callback', since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 0


def test_register_errors(orthanc_factory):
    srv = orthanc_factory(
        'import orthanc\n'
        'for kw in ({}, {"getHandler": 3}):\n'
        '    try:\n'
        '        orthanc.RegisterChunkedRestCallback("/x", **kw)\n'
        '    except TypeError as e:\n'
        '        print("refused: %s" % e)\n')
    srv.wait_out(r'refused: orthanc\.RegisterChunkedRestCallback\(\) needs at least one handler')
    srv.wait_out(r'refused: orthanc\.RegisterChunkedRestCallback\(\): getHandler must be callable')
    assert srv.stop() == 0


def test_client_gone_mid_body_reader_closed(srv):
    import socket
    import time
    s = socket.create_connection(('127.0.0.1', srv.http_port))
    s.sendall(b'POST /uploads/abandoned HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
              b'10\r\n0123456789abcdef\r\n')
    time.sleep(0.3)
    s.close()
    deadline = time.monotonic() + 10
    while stats(srv)['open'] != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stats(srv)['open'] == 0
    assert 'abandoned' not in srv.get_json('/uploads/_list')['uploads']
