# SPDX-License-Identifier: GPL-3.0-or-later
"""Audit log handlers and HTTP authentication written in Python (SDK
1.12.9, neither in the official 7.1 plugin): examples/audit_log.py and
examples/http_authentication.py (the Book's authorization samples on the
authentication callback), and the rules of docs/callbacks.md: handlers in
order off the emitting thread, an authentication callback that fails
closed. On an older Orthanc test_sdk_versions.py checks that both
registrations refuse."""

import http.server
import json
import threading
import time

import pytest

import dicomgen
import harness

pytestmark = pytest.mark.skipif(harness.orthanc_version() < (1, 12, 9),
                                reason='audit logs and HTTP authentication need Orthanc 1.12.9 (this is %s)'
                                % harness.orthanc_version_text())

EXAMPLES = harness.REPO / 'examples'


# ------------------------------------------------------------ audit logs

def test_example_audit_log(orthanc_factory):
    srv = orthanc_factory(EXAMPLES / 'audit_log.py')
    study = srv.upload(dicomgen.make_instance(patient_id='AUDIT-1'))['ParentStudy']
    status, _, body = srv.post('/audited/studies/%s/delete' % study, json.dumps({'reason': 'duplicate'}),
                               headers={'X-User': 'alice'})
    assert (status, body) == (200, b'deleted\n')
    srv.wait_out(harness.bare(r'Audit: alice did delete on %s \(audit-sample, duplicate\)' % study))
    assert srv.get('/studies/%s' % study)[0] == 404
    assert srv.stop() == 0


@pytest.fixture(scope='module')
def audit(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('audit_log_rules.py'))


def record(action, data=b'\x00\x01'):
    return {'source': 'opy-test', 'user': 'u-%s' % action, 'level': 2, 'resource': 'r-%s' % action,
            'action': action, 'data': data.hex()}


def wait_seen(srv, n, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        seen = srv.get_json('/audit/seen')
        if len(seen) >= n or time.monotonic() > deadline:
            return seen
        time.sleep(0.1)


def test_handlers_in_order_off_the_emitting_thread(audit):
    mark = audit.log_mark()
    actions = ['one', 'boom', 'slow', 'slow', 'two']
    status, _, body = audit.post('/audit/emit', json.dumps([record(a) for a in actions]))
    assert status == 200, body
    # two slow records take the second handler 1 s: the route did not wait
    assert json.loads(body)['elapsed'] < 0.5, body
    seen = wait_seen(audit, 9)
    first = [s for s in seen if s[0] == 'first']
    assert [s[5] for s in first] == ['one', 'slow', 'slow', 'two']
    assert first[0] == ['first', 'opy-test', 'u-one', 2, 'r-one', 'one', '0001', False]
    # the second handler still gets the record the first raised on
    assert [s[1] for s in seen if s[0] == 'second'] == actions
    audit.wait_log(r'OPY0010 Exception in audit log handler', since=mark)
    assert audit.count_log(r'^RuntimeError: audit-handler-boom$', since=mark) == 1


def test_stop_with_records_waiting(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('audit_log_rules.py'))
    status, _, _ = srv.post('/audit/emit', json.dumps([record('slow') for _ in range(4)]))
    assert status == 200
    start = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - start < 15


# ------------------------------------------------------------ HTTP authentication

def test_example_http_authentication(orthanc_factory):
    srv = orthanc_factory(EXAMPLES / 'http_authentication.py')
    alice = {'Authorization': 'Bearer alice-token'}
    bob = {'Authorization': 'Bearer bob-token'}
    assert srv.get('/system')[0] == 200                           # public
    assert srv.get('/patients')[0] == 401
    assert srv.get('/patients', headers={'Authorization': 'Bearer wrong'})[0] == 401
    assert srv.get('/patients', headers=bob)[0] == 200
    assert srv.get('/tools/now', headers=bob)[0] == 403
    assert srv.get('/tools/now', headers=alice)[0] == 200
    status, headers, _ = srv.get('/ui/index.html')
    assert status == 307 and headers['location'].endswith('/app/login.html'), (status, headers)
    status, _, body = srv.get('/whoami', headers=alice)
    assert status == 200 and json.loads(body) == {'user': 'alice', 'groups': ['admin']}
    srv.wait_out(harness.bare(r'User trying to access URI: /tools/now'))
    assert srv.stop() == 0


@pytest.fixture(scope='module')
def auth(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('http_auth_rules.py'))


@pytest.mark.parametrize('uri, expected', [
    ('true', 200), ('false', 401), ('none', 401), ('granted', 200), ('forbidden', 403),
    ('unauthorized', 401), ('dict-status', 403),
])
def test_answers(auth, uri, expected):
    assert auth.get('/rules/' + uri)[0] == expected


@pytest.mark.parametrize('uri, payload', [
    ('tuple-payload', b'raw \x00 payload'),
    ('str-payload', b'text payload'),
    ('dict-payload', json.dumps({'user': 'carol', 'groups': ['g1', 'g2']}).encode()),
    ('true', None),
])
def test_payload_reaches_the_rest_callback(auth, uri, payload):
    status, _, body = auth.get('/rules/' + uri)
    assert status == 200, body
    seen = json.loads(body)
    assert seen['payload'] == (None if payload is None else payload.hex())
    assert ('authenticationPayload' in seen['keys']) == (payload is not None)


@pytest.mark.parametrize('uri, where', [
    ('redirect', '/app/login.html'), ('dict-redirect', '/app/from-dict.html'),
])
def test_redirect(auth, uri, where):
    status, headers, _ = auth.get('/rules/' + uri)
    assert status == 307 and headers['location'].endswith(where), (status, headers)


@pytest.mark.parametrize('uri, error', [
    ('raise', r'^RuntimeError: auth-callback-boom$'),
    ('redirect-no-path', r'^TypeError: a REDIRECT needs the path to redirect to'),
    ('bad-type', r'^TypeError: an HTTP authentication status is an orthanc.HttpAuthenticationStatus value, not str'),
    ('bad-value', r'^ValueError: 17 is not an orthanc.HttpAuthenticationStatus value'),
    ('bad-tuple', r'^TypeError: an HTTP authentication tuple is \(status, payload or redirection\)'),
    ('bad-payload', r'^TypeError: Object of type object is not JSON serializable'),
])
def test_fails_closed(auth, uri, error):
    mark = auth.log_mark()
    assert auth.get('/rules/' + uri)[0] == 401
    auth.wait_log(r'OPY0010 Exception in HTTP authentication of /rules/%s \(request refused: 401\)' % uri,
                  since=mark)
    auth.wait_log(error, since=mark)
    assert auth.get('/system')[0] == 200


def test_arguments_and_one_registration(auth):
    assert auth.get('/rules/granted?a=1&b=two', headers={'X-Probe': 'probe-value'})[0] == 200
    seen = auth.get_json('/seen')
    assert ['/rules/granted', '127.0.0.1', 'probe-value', {'a': '1', 'b': 'two'}] in seen
    auth.wait_out(harness.bare(r'second registration: orthanc.RegisterHttpAuthentication\(\): '
                               r'HTTP authentication callback is already registered.*'))


class _Authz(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.seen.append([body['uri'], body['headers'].get('authorization')])
        answer = json.dumps({'granted': body['headers'].get('authorization') == 'Bearer ok'
                             and not body['uri'].startswith('/tools/')}).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_example_authorization_service(orthanc_factory):
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Authz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # the script with the service's port, as the seed's sample has 8000
        text = (EXAMPLES / 'http_authentication_service.py').read_text().replace(
            '@AUTHZ_PORT@', str(server.server_address[1]))
        srv = orthanc_factory(text, script_name='http_authentication_service.py')
        assert srv.get('/system')[0] == 401
        assert srv.get('/system', headers={'Authorization': 'Bearer ok'})[0] == 200
        assert srv.get('/patients', headers={'Authorization': 'Bearer wrong'})[0] == 403
        assert srv.get('/tools/now', headers={'Authorization': 'Bearer ok'})[0] == 403
        assert ['/tools/now', 'Bearer ok'] in _Authz.seen and ['/patients', 'Bearer wrong'] in _Authz.seen
        assert srv.stop() == 0
    finally:
        server.shutdown()
        server.server_close()
