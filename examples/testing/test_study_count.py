# SPDX-License-Identifier: GPL-3.0-or-later
# Its tests, without Orthanc (docs/testing-your-plugin.md).
from pathlib import Path

SCRIPT = Path(__file__).with_name('study_count.py')
PATIENT = {'ID': 'p1', 'MainDicomTags': {'PatientID': 'P-1'}, 'Studies': ['s1', 's2']}


def test_study_count(fake_orthanc):
    fake_orthanc.set_rest_answer('GET', '/patients/p1', PATIENT)
    fake_orthanc.load_script(SCRIPT)
    response = fake_orthanc.call_rest('/patients/p1/study-count')
    assert (response.status, response.content_type) == (200, 'application/json')
    assert response.json() == {'PatientID': 'P-1', 'Studies': 2}
    assert fake_orthanc.rest_calls == [('GET', '/patients/p1', None)]
    assert fake_orthanc.logs == [('INFO', 'counting the studies of p1')]


def test_unknown_patient_is_a_404(fake_orthanc):
    fake_orthanc.load_script(SCRIPT)
    # RestApiGet of a uri not in the table raises OrthancException(UNKNOWN_RESOURCE),
    # which the plugin turns into a 404 whose details carry it
    response = fake_orthanc.call_rest('/patients/nobody/study-count')
    assert response.status == 404
    assert 'Unknown resource' in response.json()['Details']


def test_only_get(fake_orthanc):
    fake_orthanc.load_script(SCRIPT)
    response = fake_orthanc.call_rest('/patients/p1/study-count', method='POST', body=b'{}')
    assert (response.status, response.headers['allow']) == (405, 'GET')
    assert response.calls == [('SendMethodNotAllowed', ('GET',))]
