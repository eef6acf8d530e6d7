# SPDX-License-Identifier: GPL-3.0-or-later
"""Codec families: orthanc.RegisterDecodeImageCallback (used for
/instances/{id}/frames/0/image-uint8) and orthanc.RegisterTranscoderCallback
(used by /instances/{id}/modify with "Transcode"), both with pydicom, with
Orthanc's built-in DCMTK codec tried after the plugin ("After", the default)
or disabled."""

import io
import json

import numpy
import pydicom
import pytest

import dicomgen
import harness

PIL = pytest.importorskip('PIL.Image')

IMPLICIT = '1.2.840.10008.1.2'
OPY0010 = r'OPY0010 Exception in '


@pytest.fixture(scope='module')
def after(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_codec.py'), name='codec_after')


@pytest.fixture(scope='module')
def disabled(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_codec.py'), name='codec_disabled',
                           config={'BuiltinDecoderTranscoderOrder': 'Disabled'})


def upload(srv, pid, seed=1):
    ds = dicomgen.make_dataset(patient_id=pid, rows=6, columns=5, seed=seed)
    pixels = ds.pixel_array.copy()
    return srv.upload(dicomgen.to_bytes(ds))['ID'], pixels


def frame(srv, iid):
    status, headers, body = srv.get('/instances/%s/frames/0/image-uint8' % iid,
                                    headers={'Accept': 'image/png'})
    if status != 200:
        return status, None
    return status, numpy.asarray(PIL.open(io.BytesIO(body)))


def test_second_registrations_refused(after):
    text = after.out_text()
    assert 'second registration refused: orthanc.RegisterDecodeImageCallback(): a decode-image ' \
           'callback is already registered' in text
    assert 'second registration refused: orthanc.RegisterTranscoderCallback(): a transcoder ' \
           'callback is already registered' in text


def test_decoder_used(after):
    iid, pixels = upload(after, 'DEC-OK')
    mark, out_mark = after.log_mark(), after.out_mark()
    before = after.get_json('/codec/stats')['decode']
    status, image = frame(after, iid)
    assert status == 200
    assert (image == 255 - pixels).all()                # the Python decoder inverts
    assert after.get_json('/codec/stats')['decode'] == before + 1
    after.wait_out(harness.bare(r'decoder called: DEC-OK frame 0'), since=out_mark)
    assert after.count_log(OPY0010, since=mark) == 0


def test_decoder_none_falls_back(after):
    iid, pixels = upload(after, 'DECNONE-A')
    mark, out_mark = after.log_mark(), after.out_mark()
    status, image = frame(after, iid)
    assert status == 200 and (image == pixels).all()    # Orthanc's own decoder
    after.wait_out(harness.bare(r'decoder called: DECNONE-A frame 0'), since=out_mark)
    assert after.count_log(OPY0010, since=mark) == 0


@pytest.mark.parametrize('pid, message', [
    ('DECRAISE-A', r'RuntimeError: decoder fails on purpose for DECRAISE-A'),
    ('DECBAD-A', r'TypeError: the decode-image callback must return an orthanc.Image or None, not bytes'),
])
def test_decoder_fails(after, disabled, pid, message):
    # With the built-in decoder after the plugin: Orthanc falls back to it.
    iid, pixels = upload(after, pid)
    mark = after.log_mark()
    status, image = frame(after, iid)
    assert status == 200 and (image == pixels).all()
    assert after.count_log(OPY0010 + r'decode-image callback', since=mark) == 1
    assert after.count_log(message, since=mark) == 1
    # Without it: the request fails (HTTP 415, cannot decode).
    iid, _ = upload(disabled, pid)
    mark = disabled.log_mark()
    status, image = frame(disabled, iid)
    if harness.orthanc_version() < (1, 11, 0):
        assert status == 415
    else:   # later Orthancs decode uncompressed pixel data without a decoder
        assert status == 200 and image is not None
    assert disabled.count_log(OPY0010 + r'decode-image callback', since=mark) == 1
    # both still serve
    assert frame(after, upload(after, 'DEC-AFTER-' + pid)[0])[0] == 200
    assert frame(disabled, upload(disabled, 'DEC-AFTER-' + pid)[0])[0] == 200


def transcode(srv, iid):
    return srv.post('/instances/%s/modify' % iid,
                    json.dumps({'Transcode': IMPLICIT, 'Replace': {'StudyDescription': 'T'}}))


def test_transcoder_used(after):
    iid, pixels = upload(after, 'TR-OK')
    mark, out_mark = after.log_mark(), after.out_mark()
    before = after.get_json('/codec/stats')
    status, _, body = transcode(after, iid)
    assert status == 200
    ds = pydicom.dcmread(io.BytesIO(body))
    assert ds.file_meta.TransferSyntaxUID == IMPLICIT
    assert ds.InstitutionName == 'TRANSCODED BY PYTHON'
    assert (ds.pixel_array == pixels).all()
    stats = after.get_json('/codec/stats')
    assert stats['transcode'] == before['transcode'] + 1
    assert stats['syntaxes'][-1] == [IMPLICIT]
    assert isinstance(stats['allowNew'][-1], bool)
    after.wait_out(harness.bare(r'transcoder called: TR-OK to %s' % IMPLICIT), since=out_mark)
    assert after.count_log(OPY0010, since=mark) == 0


def test_transcoder_none_falls_back(after):
    iid, _ = upload(after, 'TRNONE-A')
    mark = after.log_mark()
    status, _, body = transcode(after, iid)
    assert status == 200
    ds = pydicom.dcmread(io.BytesIO(body))
    assert ds.file_meta.TransferSyntaxUID == IMPLICIT and 'InstitutionName' not in ds
    assert after.count_log(OPY0010, since=mark) == 0


@pytest.mark.parametrize('pid, message', [
    ('TRRAISE-A', r'RuntimeError: transcoder fails on purpose for TRRAISE-A'),
    ('TRBAD-A', r'TypeError: the transcoder callback must return bytes \(the transcoded DICOM file\) '
                r'or None, not int'),
])
def test_transcoder_fails(after, disabled, pid, message):
    iid, _ = upload(after, pid)
    mark = after.log_mark()
    status, _, body = transcode(after, iid)
    assert status == 200                                 # Orthanc's own transcoder
    ds = pydicom.dcmread(io.BytesIO(body))
    assert ds.file_meta.TransferSyntaxUID == IMPLICIT and 'InstitutionName' not in ds
    assert after.count_log(OPY0010 + r'transcoder callback', since=mark) == 1
    assert after.count_log(message, since=mark) == 1
    iid, _ = upload(disabled, pid)
    mark = disabled.log_mark()
    status, _, body = transcode(disabled, iid)
    assert status == 500
    error = json.loads(body)
    if harness.orthanc_version() >= (1, 13, 0):
        # Orthanc 1.13 says so with its generic code, without details
        assert (error['OrthancStatus'], error['Message']) == (2, 'Not implemented yet'), error
    else:
        assert 'Cannot transcode' in error['Details'], error
    assert disabled.count_log(OPY0010 + r'transcoder callback', since=mark) == 1
    assert transcode(disabled, upload(disabled, 'TR-AFTER-' + pid)[0])[0] == 200
