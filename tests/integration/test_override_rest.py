# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Overriding the core REST API" (scripts/override_rest.py)."""

import json
import shutil
import subprocess

import pytest

import dicomgen
import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('override_rest.py'))


def test_post_instances_answered_by_script(srv):
    mark = srv.log_mark()
    status, _, body = srv.post('/instances', dicomgen.make_instance(),
                               headers={'Content-Type': 'application/dicom'})
    assert status == 200
    assert json.loads(body) == {'MyAnswer': 'Instance Ignored'}
    srv.wait_log(harness.line(r'I have received an instance', 'W'), since=mark)
    # ignored indeed: nothing stored
    status, _, body = srv.get('/statistics')
    assert json.loads(body)['CountInstances'] == 0


def test_get_instances_forwarded_to_core(srv, tmp_path):
    status, _, body = srv.get('/instances')
    assert status == 200
    assert json.loads(body) == []
    if shutil.which('storescu') is None:
        pytest.skip('dcmtk storescu not installed')
    # Store through DICOM (C-STORE does not go through the REST route).
    path = dicomgen.write_instance(tmp_path / 'one.dcm', patient_id='OVR-1')
    out = subprocess.run(['storescu', '-aec', 'OPYTEST', '127.0.0.1', str(srv.dicom_port),
                          str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    status, _, body = srv.get('/instances')
    assert status == 200
    ids = json.loads(body)
    assert len(ids) == 1
    assert srv.get_json('/instances/%s/simplified-tags' % ids[0])['PatientID'] == 'OVR-1'


def test_my_dicom_web_without_dicomweb_plugin(srv):
    # No DICOMweb plugin here: RestApiGetAfterPlugins('/dicom-web/...') raises
    # OrthancException(UNKNOWN_RESOURCE), which the client sees as a 404 whose
    # details carry the exception.
    mark = srv.log_mark()
    status, _, body = srv.get('/my-dicom-web/studies/1.2.3/metadata')
    srv.wait_log(harness.line(r'My DICOMWEB /studies/../metadata', 'W'), since=mark)
    assert status == 404, body
    err = json.loads(body)
    assert 'Unknown resource' in err.get('Details', ''), err
    srv.wait_log(r'OPY0010', since=mark)
