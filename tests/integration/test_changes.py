# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Listening to changes" (scripts/changes.py): the script uploads
a file when Orthanc has started and reports the new instance; "Stopped" is
printed when Orthanc stops. print() writes to Orthanc's standard output."""

import io

import pydicom
import pytest

import dicomgen
import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('changes.py'), start=False)
    sample = srv.write_file('sample.dcm', dicomgen.make_instance(patient_id='CHANGES-1'))
    srv.extra_subst['SAMPLE_DCM'] = str(sample)
    return srv.start()


def test_started_printed(srv):
    srv.wait_out(harness.bare(r'Started'))


def test_sample_uploaded_at_start(srv):
    sop = pydicom.dcmread(io.BytesIO((srv.workdir / 'sample.dcm').read_bytes())).SOPInstanceUID
    m = srv.wait_out(harness.bare(r'A new instance was uploaded: ([0-9a-f-]+)'), timeout=15)
    instance = m.group(1)
    assert srv.get_json('/instances') == [instance]
    tags = srv.get_json('/instances/%s/simplified-tags' % instance)
    assert tags['SOPInstanceUID'] == sop
    assert tags['PatientID'] == 'CHANGES-1'


def test_change_callback_runs_on_a_worker_thread(srv):
    # An upload over REST returns before (or regardless of when) the change
    # callback runs; the callback still reports it.
    answer = srv.upload(dicomgen.make_instance(patient_id='CHANGES-2'))
    srv.wait_out(harness.bare(r'A new instance was uploaded: %s') % answer['ID'], timeout=15)


def test_stopped_printed_at_stop(srv):
    rc = srv.stop(timeout=20)
    assert rc == 0
    text = srv.out_text()
    assert srv.count_out(harness.bare(r'Stopped')) == 1, 'no "Stopped" line after stop'
    assert text.rfind('Stopped') > text.rfind('A new instance was uploaded')
