# SPDX-License-Identifier: GPL-3.0-or-later
# The tests of my_plugin.py, both ways: `python3 -m pytest examples/testing`
# (the fixtures come with the orthanc_plugin_testing package).
from pathlib import Path

from orthanc_plugin_testing import make_instance

SCRIPT = Path(__file__).with_name('my_plugin.py')


def test_with_a_real_orthanc(orthanc_server):
    server = orthanc_server(SCRIPT)
    assert server.get('/patients-count').json() == {'count': 0}
    uploaded = server.upload(make_instance(patient_id='P1'))
    assert server.get('/patients-count').json() == {'count': 1}
    server.wait_log('New instance: %s' % uploaded['ID'])


def test_with_the_fake_module(fake_orthanc, capsys):
    fake_orthanc.set_rest_answer('GET', '/patients', ['id-1', 'id-2'])
    fake_orthanc.load_script(SCRIPT)
    answer = fake_orthanc.call_rest('/patients-count')
    assert (answer.status, answer.json()) == (200, {'count': 2})
    orthanc = fake_orthanc.module
    fake_orthanc.emit_change(orthanc.ChangeType.NEW_INSTANCE, orthanc.ResourceType.INSTANCE, 'id-3')
    assert capsys.readouterr().out == 'New instance: id-3\n'
