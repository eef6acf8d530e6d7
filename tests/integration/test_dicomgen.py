# SPDX-License-Identifier: GPL-3.0-or-later
"""The DICOM generator makes files that pydicom and dcmtk read back."""

import io
import shutil
import subprocess

import pydicom
import pytest

import dicomgen


@pytest.mark.parametrize('bits', [8, 16])
def test_roundtrip_pydicom(bits):
    data = dicomgen.make_instance(patient_id='P-RT', patient_name='Round^Trip', bits=bits,
                                  rows=6, columns=7, study_date='20230405', modality='CT',
                                  study_description='desc')
    assert data[128:132] == b'DICM'
    ds = pydicom.dcmread(io.BytesIO(data))
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.PatientID == 'P-RT'
    assert str(ds.PatientName) == 'Round^Trip'
    assert ds.StudyDate == '20230405'
    assert ds.Modality == 'CT'
    assert ds.StudyDescription == 'desc'
    arr = ds.pixel_array
    assert arr.shape == (6, 7)
    assert arr.dtype.itemsize == bits // 8


def test_uids_unique_and_valid():
    uids = {dicomgen.new_uid() for _ in range(100)}
    assert len(uids) == 100
    for uid in uids:
        assert len(uid) <= 64
        assert pydicom.uid.UID(uid).is_valid


@pytest.mark.skipif(shutil.which('dcmdump') is None, reason='dcmtk not installed')
def test_dcmtk_reads_it(tmp_path):
    path = dicomgen.write_instance(tmp_path / 'a.dcm', patient_id='P-DCMTK')
    out = subprocess.run(['dcmdump', '+E', str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert 'P-DCMTK' in out.stdout
    assert 'W:' not in out.stderr and 'E:' not in out.stderr, out.stderr
