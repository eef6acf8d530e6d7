# SPDX-License-Identifier: GPL-3.0-or-later
"""Functions of SDKs newer than 1.10.0: gated on the running Orthanc.

A wrapper of a function newer than the running Orthanc raises
NotImplementedError naming both versions and never reaches the SDK (the
matrix builds the plugin with the SDK 1.13.0 header and runs this against
Orthanc 1.10.1); where the running Orthanc has the function, it works
(trixie's 1.12.7, sid's 1.13.0)."""

import json
import re

import pytest

import dicomgen
import harness

NEWER = harness.sdk_versions() if (harness.plugin_path().parent / 'gen' / 'sdk_names.json').is_file() else {}
RUNNING = harness.orthanc_version()


def text(version):
    return '.'.join(map(str, version))


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('sdk_versions.py'))


def calls(srv, *items):
    status, _, body = srv.post('/sdk/calls', json.dumps([{'name': n, 'args': a} for n, a in items]))
    assert status == 200, body
    return json.loads(body)


def needs(name):
    if name not in NEWER:
        pytest.skip('%s is not in this build (its SDK header is older)' % name)
    if NEWER[name] > RUNNING:
        pytest.skip('%s needs Orthanc %s; this is %s' % (name, text(NEWER[name]), text(RUNNING)))


def test_minimum_is_checked_against_the_running_orthanc(srv):
    # The plugin started although its header may be newer than Orthanc.
    assert srv.get_json('/plugins/python')['ID'] == 'python'


@pytest.mark.skipif(not any(v > RUNNING for v in NEWER.values()),
                    reason='every function of this build is in the running Orthanc')
def test_newer_functions_raise_naming_both_versions(srv):
    names = sorted(n for n, v in NEWER.items() if v > RUNNING and '.' not in n)
    assert names
    for name, result in zip(names, calls(srv, *[(n, []) for n in names])):
        assert result['exc'] == 'NotImplementedError', (name, result)
        assert result['message'] == 'orthanc.%s() needs Orthanc %s or newer; this is Orthanc %s' % (
            name, text(NEWER[name]), text(RUNNING)), result
    assert srv.get('/system')[0] == 200


@pytest.mark.skipif(not any(v > RUNNING for v in NEWER.values()),
                    reason='every function of this build is in the running Orthanc')
def test_newer_method_raises_before_reaching_the_sdk(srv):
    status, _, body = srv.get('/sdk/stream')
    assert status == 200
    if NEWER.get('RestOutput.StartStreamAnswer', (0,)) > RUNNING:
        assert body.decode() == ('NotImplementedError: orthanc.RestOutput.StartStreamAnswer() needs Orthanc '
                                 '1.12.6 or newer; this is Orthanc %s' % text(RUNNING))


@pytest.mark.skipif(not [v for v in NEWER.values() if v <= RUNNING],
                    reason='no function of this build is newer than 1.10.0 and in the running Orthanc')
def test_functions_the_running_orthanc_has_are_not_refused(srv):
    names = sorted(n for n, v in NEWER.items() if v <= RUNNING and '.' not in n)
    for name, result in zip(names, calls(srv, *[(n, ['x'] * 9) for n in names])):
        assert result['exc'] == 'TypeError', (name, result)    # too many arguments, not refused


def test_database_server_identifier(srv):
    needs('GetDatabaseServerIdentifier')
    result, = calls(srv, ('GetDatabaseServerIdentifier', []))
    assert result['exc'] is None and isinstance(result['result'], str) and result['result'], result


def test_log_message(srv):
    needs('LogMessage')
    mark = srv.log_mark()
    result, = calls(srv, ('LogMessage', ['logged through LogMessage', 'python', 'my-file.py', 42, 2, 1]))
    assert result['exc'] is None, result
    srv.wait_log(r'my-file\.py:42\].*logged through LogMessage', since=mark)


def test_set_metrics_integer_value(srv):
    needs('SetMetricsIntegerValue')
    big = 2 ** 40 + 3
    result, = calls(srv, ('SetMetricsIntegerValue', ['opy_big_metric', big, 0]))
    assert result['exc'] is None, result
    status, _, body = srv.get('/tools/metrics-prometheus')
    assert status == 200
    assert re.search(r'^opy_big_metric %d\b' % big, body.decode(), re.M), body.decode()[:2000]


def test_set_current_thread_name(srv):
    needs('SetCurrentThreadName')
    mark = srv.log_mark()
    status, _, body = srv.get('/sdk/thread-name')
    assert status == 200 and json.loads(body)['exc'] is None, body
    # Orthanc names the thread in its log lines
    srv.wait_log(r'py-named .*thread-name-marker', since=mark)
    if 'ClearCurrentThreadName' in NEWER and NEWER['ClearCurrentThreadName'] <= RUNNING:
        assert json.loads(body)['clear'] == {'result': None, 'exc': None, 'message': None}, body


def test_plugin_name_variants(srv):
    needs('SetDescription2')
    result = calls(srv, ('SetDescription2', ['python', 'described by SetDescription2']),
                   ('SetRootUri2', ['python', '/opy-root-2/index.html']),
                   ('ExtendOrthancExplorer2', ['python', '/* opy explorer 2 */']))
    assert all(r['exc'] is None for r in result), result
    plugin = srv.get_json('/plugins/python')
    assert plugin['Description'] == 'described by SetDescription2', plugin
    assert plugin.get('RootUri', '').endswith('/opy-root-2/index.html'), plugin
    status, _, body = srv.get('/plugins/explorer.js')
    assert status == 200 and b'/* opy explorer 2 */' in body


def test_streamed_answer(srv):
    needs('RestOutput.StartStreamAnswer')
    status, headers, body = srv.get('/sdk/stream')
    assert status == 200, body
    assert headers['content-type'].startswith('text/plain')
    assert body == b''.join(b'chunk %d\n' % i for i in range(5))


def test_load_dicom_instance(srv):
    needs('LoadDicomInstance')
    instance = srv.upload(dicomgen.make_instance(patient_id='SDK-LOAD'))['ID']
    result, = calls(srv, ('LoadDicomInstance', [instance, 1]))
    assert result == {'result': 'DicomInstance', 'exc': None, 'message': None}
    result, = calls(srv, ('LoadDicomInstance', ['no-such-instance', 1]))
    assert result['exc'] == 'OrthancException', result


def test_emit_audit_log_without_handler(srv):
    needs('EmitAuditLog')
    result, = calls(srv, ('EmitAuditLog', ['python', 'user', 1, 'id', 'action', b'data'.decode()]))
    assert result['exc'] is None, result


def test_official_short_method_names(srv):
    # FindMatcher.IsMatch (official 7.1) and FindMatcher.FindMatcherIsMatch (4.0): both.
    status, _, body = srv.post('/sdk/alias', dicomgen.make_instance(patient_id='ALIAS'))
    assert status == 200 and json.loads(body) == [1, 1], body


def test_adopt_dicom_instance_refuses_what_is_not_dicom(srv):
    # (adopting real files needs a storage area v3: test_cb_storage3.py)
    needs('AdoptDicomInstance')
    result, = calls(srv, ('AdoptDicomInstance', ['not a DICOM file', None]))
    assert result['exc'] == 'OrthancException', result
    result, = calls(srv, ('AdoptDicomInstance', [42, None]))
    assert result['exc'] == 'TypeError', result
    assert srv.get('/system')[0] == 200
