# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate small, valid DICOM instances with pydicom.

Secondary Capture images, MONOCHROME2, 8 or 16 bits, Explicit VR Little
Endian, with a proper file meta header: Orthanc accepts them on POST
/instances and dcmtk's storescu/storescp exchange them, so that a test needs
no binary DICOM file (the project's own suite ships none).
"""

import io
import uuid

import numpy
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7'
# Our own implementation class UID (UUID-derived, under the 2.25 root).
IMPLEMENTATION_UID = '2.25.215862785012380914623640981208861330331'
IMPLEMENTATION_NAME = 'OPY_TESTGEN_1'

__all__ = ['new_uid', 'make_dataset', 'to_bytes', 'make_instance', 'write_instance']


def new_uid():
    """A fresh globally unique UID under the 2.25 (UUID) root."""
    return '2.25.%d' % uuid.uuid4().int


def make_dataset(patient_id='OPY-PATIENT', patient_name='Test^Patient',
                 study_uid=None, series_uid=None, sop_uid=None,
                 study_date='20240115', study_time='101500',
                 study_description='OPY test study', series_description='OPY test series',
                 modality='OT', accession_number='OPYACC1', study_id='1',
                 series_number=1, instance_number=1,
                 rows=8, columns=8, bits=8, seed=0, extra=None):
    """A pydicom FileDataset for one image; see make_instance()."""
    if bits not in (8, 16):
        raise ValueError('bits must be 8 or 16')
    sop_uid = sop_uid or new_uid()

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_NAME

    ds = pydicom.dataset.FileDataset(None, Dataset(), file_meta=meta, preamble=b'\0' * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False

    ds.SpecificCharacterSet = 'ISO_IR 100'
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = study_date
    ds.SeriesDate = study_date
    ds.ContentDate = study_date
    ds.StudyTime = study_time
    ds.SeriesTime = study_time
    ds.AccessionNumber = accession_number
    ds.Modality = modality
    ds.ConversionType = 'WSD'
    ds.StudyDescription = study_description
    ds.SeriesDescription = series_description
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = '19700101'
    ds.PatientSex = 'O'
    ds.StudyInstanceUID = study_uid or new_uid()
    ds.SeriesInstanceUID = series_uid or new_uid()
    ds.StudyID = study_id
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number

    dtype = numpy.uint8 if bits == 8 else numpy.uint16
    rng = numpy.random.default_rng(seed)
    pixels = rng.integers(0, 2 ** bits - 1, size=(rows, columns), dtype=dtype, endpoint=True)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.astype('<u%d' % (bits // 8)).tobytes()
    ds['PixelData'].VR = 'OB' if bits == 8 else 'OW'

    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value)
    return ds


def to_bytes(ds):
    """Serialise a dataset made by make_dataset() as a DICOM Part 10 file."""
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, write_like_original=False)
    return buf.getvalue()


def make_instance(**kw):
    """Bytes of a DICOM Part 10 file; keyword arguments as make_dataset():
    patient_id, patient_name, study_uid, series_uid, sop_uid, study_date,
    study_time, study_description, series_description, modality,
    accession_number, study_id, series_number, instance_number, rows,
    columns, bits (8 or 16), seed (pixel values), extra ({keyword: value})."""
    return to_bytes(make_dataset(**kw))


def write_instance(path, **kw):
    """Write make_instance(**kw) to path; returns the path."""
    data = make_instance(**kw)
    with open(path, 'wb') as f:
        f.write(data)
    return path
