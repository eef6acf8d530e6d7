# A pydicom decoder and transcoder. The decoder inverts the pixels (so that
# the tests can tell its output from Orthanc's own decoder); both count their
# calls and follow the PatientID prefix to fail in the ways the tests need.
import json
import threading
from io import BytesIO

import numpy
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

import orthanc

LOCK = threading.Lock()
STATS = {'decode': 0, 'transcode': 0, 'syntaxes': [], 'allowNew': []}


def Decode(dicom, frameIndex):
    ds = pydicom.dcmread(BytesIO(dicom))
    pid = str(ds.PatientID)
    with LOCK:
        STATS['decode'] += 1
    print('decoder called: %s frame %d' % (pid, frameIndex))
    if pid.startswith('DECRAISE-'):
        raise RuntimeError('decoder fails on purpose for %s' % pid)
    if pid.startswith('DECBAD-'):
        return b'not an image'
    if pid.startswith('DECNONE-'):
        return None
    pixels = ds.pixel_array
    if ds.BitsAllocated != 8:
        return None
    inverted = (255 - pixels).astype(numpy.uint8)
    return orthanc.CreateImageFromBuffer(orthanc.PixelFormat.GRAYSCALE8, int(ds.Columns), int(ds.Rows),
                                         int(ds.Columns), inverted.tobytes())


def Transcode(dicom, allowedSyntaxes, allowNewSopInstanceUid):
    ds = pydicom.dcmread(BytesIO(dicom))
    pid = str(ds.PatientID)
    with LOCK:
        STATS['transcode'] += 1
        STATS['syntaxes'].append(list(allowedSyntaxes))
        STATS['allowNew'].append(allowNewSopInstanceUid)
    print('transcoder called: %s to %s' % (pid, ','.join(allowedSyntaxes)))
    if pid.startswith('TRRAISE-'):
        raise RuntimeError('transcoder fails on purpose for %s' % pid)
    if pid.startswith('TRBAD-'):
        return 12
    if pid.startswith('TRNONE-'):
        return None
    if ImplicitVRLittleEndian in allowedSyntaxes:
        target = ImplicitVRLittleEndian
    elif ExplicitVRLittleEndian in allowedSyntaxes:
        target = ExplicitVRLittleEndian
    else:
        return None
    ds.file_meta.TransferSyntaxUID = target
    ds.is_implicit_VR = target == ImplicitVRLittleEndian
    ds.is_little_endian = True
    ds.InstitutionName = 'TRANSCODED BY PYTHON'
    out = BytesIO()
    ds.save_as(out, write_like_original=False)
    return out.getvalue()


def Stats(output, uri, **request):
    with LOCK:
        output.AnswerBuffer(json.dumps(STATS), 'application/json')


orthanc.RegisterDecodeImageCallback(Decode)
orthanc.RegisterTranscoderCallback(Transcode)
orthanc.RegisterRestCallback('/codec/stats', Stats)
for register in (orthanc.RegisterDecodeImageCallback, orthanc.RegisterTranscoderCallback):
    try:
        register(Decode)
    except RuntimeError as e:
        print('second registration refused: %s' % e)
