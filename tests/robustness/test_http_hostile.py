# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile HTTP input to a Python route and to a Python HTTP filter
(docs/robustness.md, "REST routes and HTTP filters";
scripts/http_hostile.py), sent as raw bytes over a socket.

The route and the filter get well-defined values: the URI, the regex
groups, the GET keys and values and the header names and values are str
decoded from UTF-8 with "surrogateescape" (an invalid byte 0xXY becomes
U+DCXY, so s.encode('utf-8', 'surrogateescape') gives the bytes back), the
body is bytes.  What Orthanc's HTTP server refuses (raw non-ASCII bytes in
the request line or a header name, a 100 KB URI) is answered 400 before any
plugin code runs.  The server keeps serving; a 100 MB body does not leave
the process bigger."""

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'http_hostile.py'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(SCRIPT)


def raw(srv, request, timeout=60):
    """Send request bytes on a new connection; returns (status, body)."""
    head, body = harness.raw_exchange(srv.http_port, request, timeout)
    assert head.startswith(b'HTTP/1.'), (head + body)[:200]
    return int(head.split()[1]), body


def call(srv, request):
    """A request that reaches the route: what the route and the filter saw."""
    status, body = raw(srv, request)
    assert status == 200, (status, body[:300])
    return json.loads(body)


def s(text):
    """The ['str', hex] description of text sent as bytes."""
    if isinstance(text, str):
        text = text.encode()
    return ['str', text.hex()]


def items(pairs):
    return sorted([s(k), s(v)] for k, v in pairs)


def still_serving(srv):
    assert srv.get('/system')[0] == 200
    assert srv.get('/hostile/ok')[0] == 200
    assert srv.count_log(r'Segmentation|Aborted|OPY0010') == 0


# ------------------------------------------------------------ the decoding rule

def test_invalid_utf8_in_path(srv):
    seen = call(srv, b'GET /hostile/a%FFb%C3%A9%80 HTTP/1.0\r\n\r\n')
    # %-decoded by Orthanc, then UTF-8 with surrogateescape: exact bytes back
    assert seen['uri'] == s(b'/hostile/a\xffb\xc3\xa9\x80')
    assert seen['groups'] == {'type': 'tuple', 'items': [s(b'/a\xffb\xc3\xa9\x80')]}
    assert seen['method'] == s('GET')
    assert seen['filter']['uri'] == seen['uri']
    assert seen['filter']['method'] == ['int', '1']
    assert seen['filter']['ip'] == s('127.0.0.1')
    still_serving(srv)


def test_uri_with_valid_utf8_is_plain_text(srv):
    seen = call(srv, b'GET /hostile/caf%C3%A9 HTTP/1.0\r\n\r\n')
    assert bytes.fromhex(seen['uri'][1]).decode('utf-8') == '/hostile/caf\u00e9'


def test_nul_in_path_ends_the_uri(srv):
    # Orthanc hands C strings: %00 ends the URI
    seen = call(srv, b'GET /hostile/a%00b HTTP/1.0\r\n\r\n')
    assert seen['uri'] == s('/hostile/a')


def test_query_string(srv):
    # Orthanc 1.10-1.12 give the GET values as they were sent (not %-decoded);
    # a repeated key: the last one wins; a key without '=' has the value ''
    seen = call(srv, b'GET /hostile/q?a=%FF%00&b=1&b=2&c=&d HTTP/1.0\r\n\r\n')
    expected = {'type': 'dict', 'items': items([('a', '%FF%00'), ('b', '2'), ('c', ''), ('d', '')])}
    if harness.orthanc_version() >= (1, 13, 0):
        # Orthanc 1.13 %-decodes the query string first: the %00 ends it
        expected = {'type': 'dict', 'items': items([('a', b'\xff')])}
        assert seen['get'] == expected
        assert seen['filter']['get'] == expected
        seen = call(srv, b'GET /hostile/q?a=%FF&b=1&b=2&c=&d HTTP/1.0\r\n\r\n')
        expected = {'type': 'dict', 'items': items([('a', b'\xff'), ('b', '2'), ('c', ''), ('d', '')])}
    assert seen['get'] == expected
    assert seen['filter']['get'] == expected


def test_invalid_utf8_in_header_value(srv):
    seen = call(srv, b'GET /hostile/h HTTP/1.0\r\nX-Bin: \xfe\xff\x80ok\xc3\r\n\r\n')
    expected = {'type': 'dict', 'items': items([(b'x-bin', b'\xfe\xff\x80ok\xc3')])}
    assert seen['headers'] == expected
    assert seen['filter']['headers'] == expected
    still_serving(srv)


@pytest.mark.parametrize('request_bytes', [
    b'GET /hostile/a\xffb HTTP/1.0\r\n\r\n',                   # raw byte in the path
    b'GET /hostile/q?k\xff=v\xfe HTTP/1.0\r\n\r\n',             # raw bytes in the query
    b'GET /hostile/h HTTP/1.0\r\nX-\xff\xfe: v\r\n\r\n',        # raw bytes in a header name
    b'GET /hostile/h HTTP/1.0\r\nX-C: a\x01\x7fb\r\n\r\n',      # control characters
    b'GET /hostile/h HTTP/1.0\r\nNoColon\r\n\r\n',              # a header line without ':'
], ids=['path', 'query', 'header-name', 'control-chars', 'no-colon'])
def test_refused_by_the_http_server(srv, request_bytes):
    mark = srv.log_mark()
    status, _ = raw(srv, request_bytes)
    assert status == 400
    assert srv.count_log(r'Delegating HTTP request to plugin', since=mark) == 0
    still_serving(srv)


def test_body_bytes(srv):
    payload = bytes(range(256)) + b'\x00' * 10 + '\u00e9'.encode('latin-1')
    for method in (b'POST', b'PUT'):
        seen = call(srv, method + b' /hostile/b HTTP/1.0\r\nContent-Length: %d\r\n\r\n'
                    % len(payload) + payload)
        assert seen['body']['type'] == 'bytes'
        assert seen['body']['size'] == len(payload)
        assert seen['body']['md5'] == hashlib.md5(payload).hexdigest()
        assert 'body' not in seen['filter']     # the filter gets no body
    seen = call(srv, b'POST /hostile/b HTTP/1.0\r\nContent-Length: 0\r\n\r\n')
    assert seen['body'] == {'type': 'bytes', 'size': 0, 'md5': hashlib.md5(b'').hexdigest(),
                            'hex': ''}


def test_delete_with_invalid_utf8(srv):
    seen = call(srv, b'DELETE /hostile/d%FF HTTP/1.0\r\n\r\n')
    assert seen['uri'] == s(b'/hostile/d\xff')
    assert 'get' not in seen and 'body' not in seen


# ------------------------------------------------------------ empty and duplicate headers

def test_empty_and_duplicate_headers(srv):
    seen = call(srv, b'GET /hostile/h HTTP/1.0\r\n'
                     b'X-Empty:\r\n'
                     b'X-Spaces:    \r\n'
                     b'X-Dup: first\r\nX-Dup: second\r\nx-dup: third\r\n'
                     b': no name\r\n'
                     b'\r\n')
    # names are lower-case; a repeated header: the first value wins; a line
    # without a name is dropped
    expected = items([('x-empty', ''), ('x-spaces', ''), ('x-dup', 'first')])
    assert seen['headers'] == {'type': 'dict', 'items': expected}
    assert seen['filter']['headers'] == seen['headers']


def test_many_headers(srv):
    headers = b''.join(b'X-H%d: %d\r\n' % (i, i) for i in range(60))
    seen = call(srv, b'GET /hostile/h HTTP/1.0\r\n' + headers + b'\r\n')
    assert len(seen['headers']['items']) == 60
    status, _ = raw(srv, b'GET /hostile/h HTTP/1.0\r\n'
                    + b''.join(b'X-H%d: %d\r\n' % (i, i) for i in range(500)) + b'\r\n')
    assert status in (200, 400, 431)
    still_serving(srv)


def test_filter_denial_with_hostile_headers(srv):
    status, _ = raw(srv, b'GET /hostile/h HTTP/1.0\r\nX-Deny: \xff\r\nX-Other: \x80\r\n\r\n')
    assert status == 403
    still_serving(srv)


# ------------------------------------------------------------ size

def test_100kb_uri(srv):
    long = b'u' * (100 * 1024)
    for request in (b'GET /hostile/' + long + b' HTTP/1.0\r\n\r\n',
                    b'GET /hostile/x?k=' + long + b' HTTP/1.0\r\n\r\n',
                    b'GET /hostile/x HTTP/1.0\r\nX-Big: ' + long + b'\r\n\r\n'):
        mark = srv.log_mark()
        status, _ = raw(srv, request)
        assert status == 400
        assert srv.count_log(r'Delegating HTTP request to plugin', since=mark) == 0
    # a long URI that the HTTP server accepts reaches the route whole
    seen = call(srv, b'GET /hostile/' + b'u' * 8000 + b' HTTP/1.0\r\n\r\n')
    assert seen['uri'] == s(b'/hostile/' + b'u' * 8000)
    still_serving(srv)


def rss_kb(srv):
    for line in Path('/proc/%d/status' % srv.proc.pid).read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    raise AssertionError('no VmRSS')


def test_100mb_body(srv):
    # warm up (a first big allocation of each kind), then measure
    call(srv, b'POST /hostile/big HTTP/1.0\r\nContent-Length: 1048576\r\n\r\n' + b'w' * 1048576)
    before = rss_kb(srv)
    payload = bytes(range(256)) * (100 * 1024 * 1024 // 256)
    md5 = hashlib.md5(payload).hexdigest()
    for _ in range(2):
        seen = call(srv, b'POST /hostile/big HTTP/1.0\r\nContent-Length: %d\r\n\r\n'
                    % len(payload) + payload)
        assert (seen['body']['size'], seen['body']['md5']) == (len(payload), md5)
    del payload
    # back near its level: within 20 MB, within 10 s (not under ASan, whose
    # quarantine keeps freed memory: scripts/sanitize.sh sets OPY_SANITIZED)
    deadline = time.monotonic() + 10
    while not os.environ.get('OPY_SANITIZED') and rss_kb(srv) > before + 20 * 1024:
        assert time.monotonic() < deadline, 'RSS %d kB, was %d kB before two 100 MB bodies' % (
            rss_kb(srv), before)
        time.sleep(0.2)
    still_serving(srv)
