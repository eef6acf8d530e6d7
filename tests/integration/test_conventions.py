# SPDX-License-Identifier: GPL-3.0-or-later
"""Call conventions of the orthanc module (scripts/conventions.py), compared
with the official 4.0 plugin's where the project keeps them."""

import hashlib
import io
import json
import re
import time
from pathlib import Path

import pydicom
import pytest

import dicomgen
import harness

DATA = Path(__file__).resolve().parent / 'data'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('conventions.py'),
                          config={'UserMetadata': {'Sample': 1024}})
    data = dicomgen.make_instance(patient_id='CONV-1')
    srv.sop = pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID
    srv.instance = srv.upload(data)['ID']
    return srv


def echo(srv, method, path, body=None, headers=None):
    status, _, answer = srv.request(method, path, body=body, headers=headers)
    assert status == 200, answer
    return json.loads(answer)


# ------------------------------------------------------------ REST callbacks

def test_get_kwargs(srv):
    e = echo(srv, 'GET', '/conv/echo/abc/x?foo=bar&baz=1', headers={'X-Test': 'Hello'})
    assert e['uri'] == '/conv/echo/abc/x' and e['uri_type'] == 'str'
    assert e['keys'] == ['get', 'groups', 'headers', 'method']
    assert e['types'] == {'method': 'str', 'groups': 'tuple', 'get': 'dict', 'headers': 'dict'}
    assert e['method'] == 'GET'
    assert e['groups'] == ['abc', 'x']
    assert e['get'] == {'foo': 'bar', 'baz': '1'}
    assert e['headers']['x-test'] == 'Hello'
    assert all(k == k.lower() for k in e['headers']), e['headers']
    assert e['header_value_types'] == ['str']


@pytest.mark.parametrize('method', ['POST', 'PUT'])
def test_body_kwargs(srv, method):
    payload = bytes(range(256)) + b'\x00end'
    e = echo(srv, method, '/conv/echo/p/q', body=payload,
             headers={'Content-Type': 'application/octet-stream'})
    assert e['keys'] == ['body', 'groups', 'headers', 'method']
    assert e['types']['body'] == 'bytes'
    assert e['method'] == method
    assert e['groups'] == ['p', 'q']
    assert bytes.fromhex(e['body_hex']) == payload
    assert e['headers']['content-type'] == 'application/octet-stream'


def test_delete_kwargs(srv):
    e = echo(srv, 'DELETE', '/conv/echo/d/e')
    assert e['keys'] == ['groups', 'headers', 'method']
    assert e['method'] == 'DELETE'


def test_route_without_groups(srv):
    e = echo(srv, 'GET', '/conv/nogroups')
    assert e['groups'] == [] and e['types']['groups'] == 'tuple'
    assert e['get'] == {}


def test_fifty_routes(srv):
    for i in range(50):
        status, _, body = srv.get('/conv/many/%d' % i)
        assert (status, body) == (200, b'many-%d' % i)
    assert srv.get('/conv/many/50')[0] == 404


def test_large_binary_body(srv):
    payload = bytes(range(256)) * (3 * 4096)  # 3 MiB, every byte value
    e = echo(srv, 'POST', '/conv/digest', body=payload)
    assert e == {'type': 'bytes', 'length': len(payload),
                 'sha256': hashlib.sha256(payload).hexdigest()}


def test_non_ascii_uri_and_arguments(srv):
    # Orthanc decodes the path before matching routes; up to 1.12 it hands
    # the GET arguments over as they were sent (the official plugin shows the
    # same), Orthanc 1.13 decodes them too ('+' is a space).
    e = echo(srv, 'GET', '/conv/echo/%C3%A9t%C3%A9/x?name=%C3%A9l%C3%A8ve&a+b=c+d')
    assert e['groups'] == ['\u00e9t\u00e9', 'x']
    assert e['uri'] == '/conv/echo/\u00e9t\u00e9/x'
    if harness.orthanc_version() >= (1, 13, 0):
        assert e['get'] == {'name': '\u00e9l\u00e8ve', 'a b': 'c d'}
    else:
        assert e['get'] == {'name': '%C3%A9l%C3%A8ve', 'a+b': 'c+d'}


def test_big_answer(srv):
    status, _, body = srv.get('/conv/big-answer')
    assert status == 200
    assert body == bytes(range(256)) * (32 * 1024)  # 8 MiB


def test_binary_answer(srv):
    status, headers, body = srv.get('/conv/answer-bytes')
    assert (status, body) == (200, bytes(range(256)))
    assert headers['content-type'] == 'application/octet-stream'


@pytest.mark.parametrize('form,code,body', [('one', 403, b''), ('two', 400, b'status-two'),
                                            ('three', 409, b'status-three')])
def test_send_http_status_forms(srv, form, code, body):
    # SendHttpStatus(status), (status, body) and the 4.0 form (status, body, size).
    # (Orthanc 1.10.1 refuses codes it does not know, e.g. 418.)
    status, _, answer = srv.get('/conv/status/' + form)
    assert (status, answer) == (code, body)


@pytest.mark.parametrize('form,allow', [('not-allowed-none', None),
                                        ('not-allowed-arg', 'GET,PUT')])
def test_send_method_not_allowed_forms(srv, form, allow):
    status, headers, _ = srv.get('/conv/status/' + form)
    assert status == 405
    if allow:
        assert headers.get('allow') == allow


def test_unauthorized_redirect_header(srv):
    status, headers, _ = srv.get('/conv/status/unauthorized')
    assert status == 401
    assert 'realm-x' in headers.get('www-authenticate', '')
    status, headers, _ = srv.get('/conv/status/redirect')  # not followed
    # Orthanc 1.10 answers a plugin's redirect with 301, later ones with 307
    assert status == (301 if harness.orthanc_version() < (1, 11, 0) else 307)
    assert headers.get('location') == '/conv/nogroups'
    status, headers, body = srv.get('/conv/status/header')
    assert (status, body) == (200, b'with-header')
    assert headers.get('x-conv') == 'header-value'


# ------------------------------------------------------------ change callbacks

def test_change_callback_arguments_and_thread(srv):
    deadline = time.monotonic() + 10
    while True:  # changes are delivered asynchronously
        changes = srv.get_json('/conv/changes')
        if any(c['args'][0] == 3 for c in changes) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    started = [c for c in changes if c['args'][0] == 10]
    assert len(started) == 1, changes
    assert started[0]['args'] == [10, 4, '']
    assert started[0]['types'] == ['int', 'int', 'str']
    new = [c for c in changes if c['args'][0] == 3]
    assert [c['args'] for c in new] == [[3, 3, srv.instance]], changes
    assert all(not c['main'] for c in changes)
    assert len({c['thread'] for c in changes}) == 1, 'change callbacks ran on several threads'


# ------------------------------------------------------------ calls into Orthanc

@pytest.fixture(scope='module')
def restapi(srv):
    return srv.get_json('/conv/restapi?instance=%s&sop=%s' % (srv.instance, srv.sop))


def test_restapi_get(restapi):
    r = restapi['get_system']
    assert r['ok'] and r['type'] == 'bytes', r
    assert json.loads(r['value'])['Version'] == harness.orthanc_version_text()


def test_restapi_get_missing_raises(restapi):
    r = restapi['get_missing']
    assert not r['ok'] and r['is_orthanc'], r
    assert r['args'] == [17, 'Unknown resource']


def test_restapi_get_sees_core_only(restapi):
    r = restapi['get_plugin_route']
    assert not r['ok'] and r['is_orthanc'] and r['args'][0] == 17, r
    r = restapi['get_after_plugins']
    assert r == {'ok': True, 'type': 'bytes', 'value': 'many-3'}


@pytest.mark.parametrize('key', ['post_str', 'post_bytes'])
def test_restapi_post(restapi, srv, key):
    r = restapi[key]
    assert r['ok'] and r['type'] == 'bytes', r
    found = json.loads(r['value'])
    assert [x['ID'] for x in found] == [srv.instance]


def test_restapi_post_after_plugins(restapi):
    r = restapi['post_after_plugins_bytes']
    assert r['ok'] and r['type'] == 'bytes', r
    e = json.loads(r['value'])
    assert e['method'] == 'POST' and e['body_hex'] == '0001ff'
    e = json.loads(restapi['post_after_plugins_str']['value'])
    assert bytes.fromhex(e['body_hex']) == b'hello-str'


def test_restapi_put(restapi):
    assert restapi['put_str']['ok'], restapi['put_str']
    assert restapi['get_meta_str'] == {'ok': True, 'type': 'bytes', 'value': 'v-str'}
    assert restapi['put_bytes']['ok'], restapi['put_bytes']
    assert restapi['get_meta_bytes'] == {'ok': True, 'type': 'bytes', 'value': 'v-bytes'}
    assert restapi['put_str']['type'] == 'bytes'


def test_restapi_put_after_plugins(restapi):
    r = restapi['put_after_plugins']
    assert r['ok'] and r['type'] == 'bytes', r
    e = json.loads(r['value'])
    assert e['method'] == 'PUT' and bytes.fromhex(e['body_hex']) == b'put-body'


def test_restapi_delete(restapi):
    assert restapi['delete'] == {'ok': True, 'type': 'NoneType', 'value': None}
    r = restapi['get_meta_deleted']
    assert not r['ok'] and r['args'][0] == 17, r
    r = restapi['delete_missing']
    assert not r['ok'] and r['is_orthanc'] and r['args'] == [17, 'Unknown resource'], r


def test_restapi_delete_after_plugins(restapi):
    assert restapi['delete_after_plugins'] == {'ok': True, 'type': 'NoneType', 'value': None}
    assert restapi['last_delete']['groups'] == ['d', 'e']


def test_orthanc_exception(srv):
    r = srv.get_json('/conv/exception')
    assert r['raised'] is True
    assert r['args'] == [17, 'Unknown resource']
    assert (r['arg0_type'], r['arg1_type']) == ('int', 'str')
    assert r['eq_enum'] is True and r['is_exception'] is True
    assert r['constructed_args'] == [1, 'x']
    assert r['subclass_of_exception'] is True


def test_generate_token(srv):
    r = srv.get_json('/conv/token')
    assert r['type'] == 'str' and r['length'] > 0


def test_get_configuration(srv):
    r = srv.get_json('/conv/config')
    assert r['type'] == 'str'
    cfg = json.loads(r['value'])
    assert cfg['HttpPort'] == srv.http_port
    assert cfg['PythonScript'] == str(srv.script_path)


# ------------------------------------------------------------ logging

def test_import_time_output(srv):
    # print() -> a bare line on stdout, sys.stderr -> a bare line on stderr
    # (here the log's file too), orthanc.LogWarning -> a warning
    text = srv.log_text()
    assert srv.out_lines().count('conv-import-print-marker') == 1
    assert srv.err_text().splitlines().count('conv-import-stderr-marker') == 1
    assert any('conv-import-warning-marker' in m for m in harness.log_messages(text, 'W'))
    assert 'conv-import-logging-marker' in text


def test_log_levels(srv):
    mark, out_mark = srv.log_mark(), srv.out_mark()
    assert srv.get('/conv/log?m=lv1')[:3:2] == (200, b'logged')
    srv.wait_log(r'conv-logging-lv1', since=mark)
    text = srv.log_text(mark)
    expected = {'I': ['conv-info-lv1'],
                'W': ['conv-warning-lv1'],
                'E': ['conv-error-lv1']}
    for level, markers in expected.items():
        messages = harness.log_messages(text, level)
        for marker in markers:
            assert sum(marker in m for m in messages) == 1, (level, marker)
    # print() and sys.stderr are no log lines: bare lines on stdout / stderr
    assert srv.out_lines(out_mark) == ['conv-print-lv1']
    assert text.splitlines().count('conv-stderr-lv1') == 1
    assert 'conv-print-lv1' not in text


def test_odd_prints(srv):
    mark = srv.out_mark()
    assert srv.get('/conv/odd-prints')[:3:2] == (200, b'printed')
    srv.wait_out(harness.bare('conv-two-writes-joined'), since=mark)
    messages = srv.out_lines(mark)
    long = [m for m in messages if m.startswith('conv-long-marker ')]
    assert len(long) == 1 and long[0] == 'conv-long-marker ' + 'L' * 100000, \
        'long line cut to %d characters' % (len(long[0]) if long else 0)
    assert messages == [long[0], 'conv-multi-first', 'conv-multi-second',
                        'conv-nul-before\\x00conv-nul-after', 'conv-two-writes-joined']
    assert srv.get('/system')[0] == 200


# ------------------------------------------------------------ misuse

def test_register_after_import_raises(srv):
    r = srv.get_json('/conv/register-late')
    for where in ('callback', 'thread'):
        assert r[where]['raised'] is True, r
        assert r[where]['message'], r
    assert srv.get('/conv/late')[0] == 404
    assert srv.get('/system')[0] == 200


def test_stashed_rest_output_raises_value_error(srv):
    assert srv.get('/conv/stash')[:3:2] == (200, b'stashed')
    # Orthanc 1.13 may send the answer while the stashing callback is still
    # returning (its thread waits for the GIL): until it has returned, the
    # object is still valid and Orthanc refuses a second answer.
    for _ in range(40):
        r = srv.get_json('/conv/use-stash')
        if r.get('type') != 'OrthancException' or 'Bad sequence' not in r.get('message', ''):
            break
        time.sleep(0.05)
    assert r['raised'] is True and r['type'] == 'ValueError', r
    assert re.search('RestOutput', r['message']), r


def test_rest_output_cannot_be_instantiated(srv):
    r = srv.get_json('/conv/instantiate')
    assert r['raised'] is True and r['type'] == 'TypeError', r


# ------------------------------------------------------------ enums

def test_enums_match_official(srv):
    official = json.loads((DATA / 'official_enums.json').read_text())['enums']
    assert len(official) == 21
    ours = srv.get_json('/conv/enums')
    missing = sorted(set(official) - set(ours))
    assert missing == [], 'enum classes missing: %s' % missing
    assert enum_differences(official, ours, allow_extra=harness.sdk_header_version() > (1, 10, 1)) == {}


def enum_differences(official, ours, allow_extra):
    """Members missing from ours, or with another value; members ours has
    beyond official's too, unless allow_extra (a newer SDK header adds values,
    e.g. ErrorCode.FORBIDDEN_ACCESS)."""
    diffs = {}
    for name, members in official.items():
        d = {'missing': sorted(set(members) - set(ours.get(name, {}))),
             'extra': [] if allow_extra else sorted(set(ours.get(name, {})) - set(members)),
             'different': sorted(k for k in members
                                 if k in ours.get(name, {}) and ours[name][k] != members[k])}
        if any(d.values()):
            diffs[name] = d
    return diffs


SURFACE_71 = harness.REPO.parent / 'shared' / 'reference' / 'official-7.1-surface.json'


@pytest.mark.skipif(harness.sdk_header_version() < (1, 12, 10),
                    reason='the official 7.1 surface is that of a build against SDK 1.12.10 or later')
def test_enums_match_official_71(srv):
    if not SURFACE_71.is_file():
        pytest.skip('shared/reference/official-7.1-surface.json not available')
    official = json.loads(SURFACE_71.read_text())['enums']
    ours = srv.get_json('/conv/enums')
    assert sorted(set(official) - set(ours)) == []
    # beyond 7.1: the values of SDK 1.13.0 that 7.1 lacks (ValueRepresentation.OD, ...)
    assert enum_differences(official, ours, allow_extra=True) == {}
