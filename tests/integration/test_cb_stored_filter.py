# SPDX-License-Identifier: GPL-3.0-or-later
"""OnStoredInstance and HTTP filter families: the seed samples ("Accessing the
content of a new instance", "Forbid or allow access to REST resources"), and
the rules of docs/callbacks/stored.md and http_filter.md."""

import http.server
import json
import threading

import pytest

import dicomgen
import harness


def test_seed_accessing_new_instance(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('stored_instance.py'))
    dicom = dicomgen.make_instance(patient_id='STORED-1')
    iid = srv.upload(dicom)['ID']
    srv.wait_out(r'^Received instance %s of size %d \(transfer syntax 1\.2\.840\.10008\.1\.2\.1, '
                 r'SOP class UID [0-9.]+\)$' % (iid, len(dicom)))
    srv.wait_out(harness.bare(r'This instance was received through the REST API'))
    srv.wait_out(r"'PatientID': 'STORED-1'")
    assert srv.stop() == 0


def test_seed_filter_allows_and_prints(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('http_filter.py'))
    assert srv.get('/system?x=1')[0] == 200
    srv.wait_out(harness.bare(r'User trying to access URI: /system'))
    srv.wait_out(r"'get': \{'x': '1'\}")
    srv.wait_out(r"'method': 1")
    srv.wait_out(r"'ip': '127\.0\.0\.1'")
    assert srv.stop() == 0


class _Authz(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.seen.append(body['uri'])
        answer = json.dumps({'granted': not body['uri'].startswith('/patients')}).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def authz_server():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Authz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_seed_filter_with_authorization_service(orthanc_factory, authz_server):
    srv = orthanc_factory(orthanc_factory.script('http_filter_authz.py'),
                          subst={'AUTHZ_PORT': authz_server.server_address[1]})
    assert srv.get('/system')[0] == 200
    assert srv.get('/patients')[0] == 403
    assert '/patients' in _Authz.seen and '/system' in _Authz.seen
    assert srv.stop() == 0


@pytest.fixture(scope='module')
def rules(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_stored_filter_rules.py'))


def test_stored_callbacks_in_order_despite_an_exception(rules):
    mark = rules.log_mark()
    dicom = dicomgen.make_instance(patient_id='STORED-2')
    iid = rules.upload(dicom)['ID']             # stored although a callback raised
    rules.wait_log(r'OPY0010 Exception in OnStoredInstance callback', since=mark)
    assert rules.count_log(r'^RuntimeError: stored-callback-boom$', since=mark) == 1
    status, _, report = rules.get('/report')
    lines = report.decode().splitlines()
    assert lines[:3] == ['first %s' % iid, 'raises', 'second %d' % len(dicom)]
    # the DicomInstance kept by the script is unusable after its callback
    assert lines[3] == 'orthanc.DicomInstance used after its callback returned'
    assert rules.get_json('/instances/%s' % iid)['ID'] == iid


@pytest.mark.parametrize('uri, expected', [
    ('/system', 200),
    ('/denied-by-first', 403),
    ('/denied-by-second', 403),
])
def test_filters_all_must_allow(rules, uri, expected):
    assert rules.get(uri)[0] == expected


@pytest.mark.parametrize('uri, text', [
    ('/filter-raises', 'filter-boom'),
    ('/filter-bad-return', 'no truth value'),
])
def test_filter_fails_closed(rules, uri, text):
    mark = rules.log_mark()
    assert rules.get(uri)[0] == 403
    rules.wait_log(r'OPY0010 Exception in HTTP filter for %s \(request denied\)' % uri, since=mark)
    assert rules.count_log(r'OPY0010 Exception in HTTP filter for %s ' % uri, since=mark) == 1
    assert rules.count_log(r'^\w+Error: %s$' % text, since=mark) == 1
    assert rules.get('/system')[0] == 200       # still serving


def test_return_values_are_ignored(rules):
    # REST, change and stored-instance callbacks: whatever they return is
    # ignored, without any log line (the stored case is covered above).
    mark = rules.log_mark()
    assert rules.get('/returns-garbage')[:3:2] == (200, b'answered')
    rules.upload(dicomgen.make_instance(patient_id='STORED-3'))
    rules.wait_log(r'OPY0010 Exception in OnStoredInstance callback', since=mark)
    assert rules.count_log(r'OPY0010', since=mark) == 1        # only the raising one
    assert rules.count_log(r'OnChange', since=mark) == 0
