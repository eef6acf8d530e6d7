# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed page's samples tested both ways, as a plugin author would with
the testing kit: against a real Orthanc (orthanc_server) and with the fake
module (fake_orthanc).  Run by tests/kit/test_kit_pytest.py in a pytest of
its own, the kit found as installed (its pytest11 entry point)."""

import os
import re
from pathlib import Path

from orthanc_plugin_testing import make_instance

SCRIPTS = Path(os.environ['OPY_SEED_SCRIPTS'])


def sample(tmp_path, name, **values):
    """The sample script, its @NAME@ placeholders replaced."""
    text = (SCRIPTS / name).read_text()
    for key, value in values.items():
        text = text.replace('@%s@' % key, str(value))
    assert '@' not in text.replace('@@', '')
    path = tmp_path / name
    path.write_text(text)
    return path


def test_hello_real(orthanc_server):
    server = orthanc_server(SCRIPTS / 'hello.py')
    server.wait_log(r'^Hello world!$')


def test_hello_fake(fake_orthanc, capsys):
    fake_orthanc.load_script(SCRIPTS / 'hello.py')
    assert capsys.readouterr().out == 'Hello world!\n'


def test_rest_real(orthanc_server):
    server = orthanc_server(SCRIPTS / 'rest.py')
    assert server.get('/tata').text == 'ok\n'
    answer = server.get('/toto?hello=world')
    assert (answer.status, answer.text) == (200, 'ok\n')
    server.wait_log(r'^Accessing uri: /toto$')
    assert re.search(r"'get': \{'hello': 'world'\}", server.log_text())
    assert server.get('/titi').status == 404


def test_rest_fake(fake_orthanc, capsys):
    fake_orthanc.load_script(SCRIPTS / 'rest.py')
    answer = fake_orthanc.call_rest('/toto', get={'hello': 'world'})
    assert (answer.status, answer.body, answer.content_type) == (200, b'ok\n', 'text/plain')
    out = capsys.readouterr().out
    assert 'Accessing uri: /toto\n' in out
    assert "'groups': ('to', 't')" in out and "'get': {'hello': 'world'}" in out
    assert fake_orthanc.call_rest('/titi').status == 404


def test_changes_real(orthanc_server, tmp_path):
    dicom = tmp_path / 'sample.dcm'
    dicom.write_bytes(make_instance(patient_id='SEED-CHANGES'))
    server = orthanc_server(sample(tmp_path, 'changes.py', SAMPLE_DCM=dicom))
    server.wait_log(r'^Started$')
    instance = server.wait_change('NewInstance')['ID']
    server.wait_log(r'^A new instance was uploaded: %s$' % instance)
    server.stop()
    assert re.search(r'^Stopped$', server.log_text(), re.M)


def test_changes_fake(fake_orthanc, tmp_path, capsys):
    dicom = tmp_path / 'sample.dcm'
    dicom.write_bytes(b'DICM-bytes')
    fake_orthanc.set_rest_answer('POST', '/instances', lambda body: b'{"ID": "new-id"}')
    fake_orthanc.load_script(sample(tmp_path, 'changes.py', SAMPLE_DCM=dicom))
    orthanc = fake_orthanc.module
    fake_orthanc.emit_change(orthanc.ChangeType.ORTHANC_STARTED, orthanc.ResourceType.NONE, '')
    assert ('POST', '/instances', b'DICM-bytes') in [tuple(c) for c in fake_orthanc.rest_calls]
    fake_orthanc.emit_change(orthanc.ChangeType.NEW_INSTANCE, orthanc.ResourceType.INSTANCE, 'new-id')
    fake_orthanc.emit_change(orthanc.ChangeType.ORTHANC_STOPPED, orthanc.ResourceType.NONE, '')
    assert capsys.readouterr().out == 'Started\nA new instance was uploaded: new-id\nStopped\n'
