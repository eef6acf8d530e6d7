# SPDX-License-Identifier: GPL-3.0-or-later
"""orthanc_plugin_testing.server, .dicom and .dimse against the real Orthanc
and the plugin under test: what the orthanc_server fixture hands a test."""

import subprocess
import textwrap

import pytest

from conftest import PLUGIN, SEED_SCRIPTS
import orthanc_plugin_testing.server as server_module
from orthanc_plugin_testing import OrthancServer, ServerFailure, c_find, c_store, make_instance


def started(tmp_path, *scripts, **kw):
    return OrthancServer(scripts, tmp_path, plugin=PLUGIN, **kw).start()


def test_seed_rest_sample(tmp_path):
    server = started(tmp_path, SEED_SCRIPTS / 'rest.py')
    try:
        r = server.get('/tata')
        assert (r.status, r.text, r.headers['content-type']) == (200, 'ok\n', 'text/plain')
        assert server.get('/toto').text == 'ok\n'
        assert server.get('/nothing-here').status == 404
        # the sample's print() lines are in the log, bare
        server.wait_log(r'^Accessing uri: /toto$')
        assert "'groups': ('to', 't')" in server.log_text()
    finally:
        assert server.stop() == 0


def test_upload_and_wait_change(tmp_path):
    server = started(tmp_path, SEED_SCRIPTS / 'hello.py')
    try:
        server.wait_log(r'^Hello world!$')
        since = server.last_change()
        answer = server.upload(make_instance(patient_id='KIT-1'))
        change = server.wait_change('NewInstance', since=since)
        assert change['ID'] == answer['ID']
        assert server.get('/patients/%s' % answer['ParentPatient']).json()['MainDicomTags']['PatientID'] == 'KIT-1'
        with pytest.raises(ServerFailure, match='no StableStudy change within 0.5 s'):
            server.wait_change('StableStudy', timeout=0.5, since=since)
    finally:
        server.stop()


def test_c_store_and_c_find(tmp_path):
    server = started(tmp_path, SEED_SCRIPTS / 'hello.py')
    try:
        c_store(server, make_instance(patient_id='KIT-2', study_description='first'),
                make_instance(patient_id='KIT-2', study_description='second'))
        answers = c_find(server, {'QueryRetrieveLevel': 'STUDY', 'PatientID': 'KIT-2',
                                  'StudyDescription': ''})
        assert sorted(a['StudyDescription'] for a in answers) == ['first', 'second']
        assert c_find(server, {'QueryRetrieveLevel': 'STUDY', 'PatientID': 'NOBODY'}) == []
    finally:
        server.stop()


def test_several_scripts_and_config(tmp_path):
    (tmp_path / 'a.py').write_text("import orthanc\nprint('a ran')\n")
    (tmp_path / 'b.py').write_text(textwrap.dedent('''\
        import json, orthanc
        def Name(output, uri, **request):
            output.AnswerBuffer(json.loads(orthanc.GetConfiguration())['Name'], 'text/plain')
        orthanc.RegisterRestCallback('/name', Name)
        '''))
    server = started(tmp_path, tmp_path / 'a.py', tmp_path / 'b.py', config={'Name': 'KitName'},
                     name='two')
    try:
        assert server.get('/name').text == 'KitName'
        server.wait_log(r'^a ran$')
    finally:
        server.stop()


def test_start_failure_carries_the_log(tmp_path):
    with pytest.raises(ServerFailure, match=r'(?s)exited with status [1-9].*last lines of .*orthanc.log'):
        started(tmp_path, SEED_SCRIPTS / 'hello.py', config={'HttpPort': 'not a port'}, name='bad')


def test_hung_server_fails_clearly(tmp_path):
    script = tmp_path / 'hang.py'
    script.write_text(textwrap.dedent('''\
        import orthanc, time
        def OnChange(changeType, level, resource):
            if changeType == orthanc.ChangeType.ORTHANC_STARTED:
                time.sleep(3600)
        orthanc.RegisterOnChangeCallback(OnChange)
        '''))
    server = started(tmp_path, script, name='hang')
    pid = server.proc.pid
    # (the plugin itself gives up on the stuck callback 5 s into the stop)
    with pytest.raises(ServerFailure, match='did not stop within 3 s of SIGTERM'):
        server.stop(timeout=3)
    assert subprocess.run(['kill', '-0', str(pid)], capture_output=True).returncode != 0


def test_missing_plugin_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(server_module, 'INSTALLED_PLUGINS', [str(tmp_path / 'installed.so')])
    monkeypatch.setenv('ORTHANC_PYTHON_PLUGIN', str(tmp_path / 'from-env.so'))
    with pytest.raises(ServerFailure, match=r'looked for \S*/from-env.so, \S*/installed.so\); give its path with --orthanc-plugin'):
        OrthancServer([], tmp_path)
    (tmp_path / 'from-env.so').write_bytes(b'')
    assert OrthancServer([], tmp_path).plugin == tmp_path / 'from-env.so'
