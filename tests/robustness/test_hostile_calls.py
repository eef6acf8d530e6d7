# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile arguments of the script's own calls (docs/robustness.md,
"Arguments of the script's calls"; scripts/hostile_calls.py).

- HTTP header injection: CR, LF or NUL in a header name or value, a cookie
  name or value, a redirect target, a content type, a realm, the Allow
  methods, the headers of a multipart item or of a RestApiGet2, and names
  that are not RFC 7230 tokens raise ValueError before anything reaches
  Orthanc (SetHttpHeader('X-Probe', 'a\\r\\nX-Injected: 1') used to put a
  second header into the answer).
- image geometry that cannot be right (32-bit overflow of width x bytes per
  pixel or of pitch x height, a pitch shorter than a row, a buffer shorter
  than pitch x height) raises ValueError before the call
  (CompressAndAnswerPngImage(3, 2**31, 2**32-1, 0, ...) used to end with an
  HTTP 500 and no exception);
- what Orthanc itself refuses comes back as orthanc.OrthancException."""

import json
import re
import time
from pathlib import Path

import pytest

import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'hostile_calls.py'

VALUE_ERRORS = {
    'header_value_crlf': 'RestOutput.SetHttpHeader\\(\\) value must not contain CR, LF or NUL '
                         '\\(found CR at offset 1\\)',
    'header_value_lf': 'value must not contain CR, LF or NUL \\(found LF',
    'header_value_cr': 'value must not contain CR, LF or NUL \\(found CR',
    'header_value_nul': 'NUL',
    'header_name_crlf': 'RestOutput.SetHttpHeader\\(\\) key must be an HTTP token',
    'header_name_space': 'key must be an HTTP token .*byte 0x20 at offset 1',
    'header_name_colon': 'key must be an HTTP token .*byte 0x3a',
    'header_name_empty': 'key must not be empty',
    'header_name_non_ascii': 'key must be an HTTP token .*byte 0xc3',
    'header_name_nul': 'NUL',
    'cookie_value_crlf': 'RestOutput.SetCookie\\(\\) value must not contain CR, LF or NUL',
    'cookie_name_crlf': 'RestOutput.SetCookie\\(\\) cookie must be an HTTP token',
    'cookie_name_semicolon': 'cookie must be an HTTP token .*0x3b',
    'cookie_name_equals': 'cookie must be an HTTP token .*0x3d',
    'redirect_crlf': 'RestOutput.Redirect\\(\\) redirection must not contain CR, LF or NUL',
    'redirect_nul': 'NUL',
    'mime_type_crlf': 'RestOutput.AnswerBuffer\\(\\) mimeType must not contain CR, LF or NUL',
    'unauthorized_realm_crlf': 'RestOutput.SendUnauthorized\\(\\) realm must not contain',
    'method_not_allowed_crlf': 'RestOutput.SendMethodNotAllowed\\(\\) allowedMethods must not contain',
    'multipart_subtype_crlf': 'RestOutput.StartMultipartAnswer\\(\\) subType must not contain',
    'multipart_content_type_lf': 'RestOutput.StartMultipartAnswer\\(\\) contentType must not contain',
    'multipart_item_header_value': 'header value must not contain CR, LF or NUL',
    'multipart_item_header_name': 'header name must be an HTTP token',
    'rest_api_get2_header_value': 'header value must not contain CR, LF or NUL',
    'rest_api_get2_header_name': 'header name must be an HTTP token',
    'png_issue_12': 'image width 2147483648 x 2 bytes per pixel does not fit in 32 bits',
    'png_answer_pitch_short': 'pitch 2 is smaller than a row of the image \\(4 pixels x 1 bytes = 4\\)',
    'jpeg_answer_buffer_short': 'buffer is too short: 15 bytes for pitch 4 x height 4',
    'png_buffer_short': 'buffer is too short: 15 bytes',
    'png_pitch_height_overflow': 'pitch 65536 x height 65537 does not fit in 32 bits',
    'jpeg_row_overflow': 'image width 2147483648 x 3 bytes per pixel does not fit in 32 bits',
    'create_image_overflow': 'image of 65536 x 65537 pixels of 1 bytes: its size does not fit in 32 bits',
    'create_image_row_overflow': 'image width 1073741824 x 4 bytes per pixel',
    'from_buffer_pitch_short': 'pitch 2 is smaller than a row',
    'from_buffer_short': 'buffer is too short: 11 bytes for pitch 6 x height 2',
}
ORTHANC_EXCEPTIONS = {
    'sdk_jpeg_gray16': r'\(3, .Parameter out of range.\)',
    'sdk_png_float32': r'\(2, .Not implemented yet.\)',
    'sdk_png_answer_unknown': r'\(3, ',
    'sdk_create_unknown': r'\(3, ',
    'sdk_jpeg_quality_0': r'\(3, ',
    'sdk_status_code_99': r'\(3, ',
    'sdk_unauthorized_twice': r'\(6, .Bad sequence of calls.\)',
}


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(SCRIPT)


def raw_get(srv, path):
    """The raw answer (head and body bytes) of GET path."""
    return harness.raw_exchange(
        srv.http_port, b'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' % path.encode())


@pytest.mark.parametrize('case', sorted(VALUE_ERRORS))
def test_value_error_before_orthanc(srv, case):
    head, body = raw_get(srv, '/hostile/' + case)
    assert b'X-Injected' not in head and b'x-injected' not in head.lower(), head
    assert head.startswith(b'HTTP/1.1 200'), head
    kind, message = json.loads(body)['result']
    assert kind == 'ValueError', (case, kind, message)
    assert re.search(VALUE_ERRORS[case], message), (case, message)


@pytest.mark.parametrize('case', sorted(ORTHANC_EXCEPTIONS))
def test_sdk_errors_are_orthanc_exceptions(srv, case):
    status, _headers, body = srv.get('/hostile/' + case)
    # the client gets the status of what was answered (401 by the first
    # SendUnauthorized), or an error status: never a silent success
    assert status in (200, 401, 500), (case, status, body)
    # (the first SendUnauthorized answers the client while the callback
    # still runs: its result comes a moment later)
    deadline = time.monotonic() + 10
    while srv.get_json('/hostile-result/' + case)['result'] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    kind, message = srv.get_json('/hostile-result/' + case)['result']
    assert kind == 'OrthancException', (case, kind, message)
    assert re.search(ORTHANC_EXCEPTIONS[case], message), (case, message)


def test_valid_calls_still_work(srv):
    assert json.loads(srv.get('/hostile/good_png')[2])['result'] == ['returned', repr(b'\x89PNG\r\n\x1a\n')]
    assert json.loads(srv.get('/hostile/good_image')[2])['result'] == ['returned', '2']
    head, body = raw_get(srv, '/good-headers')
    assert body == b'ok'
    lines = head.decode('utf-8').split('\r\n')
    assert 'X-Good: a value; with=spaces, "quotes" and \u00e9' in lines, lines
    assert any(line.startswith('Set-Cookie: good-cookie=v1') for line in lines), lines
    head, body = raw_get(srv, '/good-multipart')
    assert head.startswith(b'HTTP/1.1 200') and b'multipart/mixed' in head, head
    assert b'X-Part: one two' in body and b'part' in body, body
    assert srv.count_log(r'Segmentation|Aborted') == 0
