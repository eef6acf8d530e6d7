# SPDX-License-Identifier: GPL-3.0-or-later
"""Storage area families: orthanc.RegisterStorageArea (seed sample "Implementing
a custom storage area", plus faults) and orthanc.RegisterStorageArea2 (range
reads)."""

import json

import pytest

import dicomgen
import harness
from seedcheck import seed_sample_check

OPY0010 = r'OPY0010 Exception in storage area'


# ---------------------------------------------------------------- seed sample

@pytest.fixture(scope='module')
def seed(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_storage_seed.py'), name='storage_seed')


def test_seed_is_verbatim():
    seed_sample_check('cb_storage_seed.py')


def attachments(srv):
    return sorted(p.name for p in srv.workdir.iterdir() if p.name.startswith('attachment-'))


def test_seed_files_in_working_folder(seed):
    data = dicomgen.make_instance(patient_id='SEED-STORAGE')
    before = attachments(seed)
    answer = seed.upload(data)
    iid = answer['ID']
    uuid = seed.get_json('/instances/%s/attachments/dicom/info' % iid)['Uuid']
    assert 'attachment-1-%s' % uuid in attachments(seed)
    assert (seed.workdir / ('attachment-1-%s' % uuid)).read_bytes() == data
    # the download is byte-identical
    status, _, body = seed.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    # DELETE removes the files
    status, _, _ = seed.delete('/instances/%s' % iid)
    assert status == 200
    assert attachments(seed) == before


# ---------------------------------------------------------------- faults (v1)

@pytest.fixture(scope='module')
def faults(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('cb_storage_faults.py'), name='storage_faults',
                          config={'MaximumStorageCacheSize': 0})
    yield srv
    mode(srv, 'ok')


def mode(srv, name):
    status, _, body = srv.post('/storage/mode', name)
    assert (status, body) == (200, name.encode())


def test_registration_rules(faults):
    text = faults.out_text()
    assert text.count('second storage area refused: orthanc.RegisterStorageArea(): a storage area (by '
                      'RegisterStorageArea or RegisterStorageArea2) is already registered') == 1
    assert text.count('second storage area refused: orthanc.RegisterStorageArea2(): a storage area (by '
                      'RegisterStorageArea or RegisterStorageArea2) is already registered') == 1
    assert 'non-callable refused: orthanc.RegisterStorageArea() expects a callable, not str' in text


def test_v1_roundtrip_bytes_like(faults):
    data = dicomgen.make_instance(patient_id='V1-OK')
    iid = faults.upload(data)['ID']
    try:
        mode(faults, 'read-bytearray')
        status, _, body = faults.get('/instances/%s/file' % iid)
        assert (status, body) == (200, data)
    finally:
        mode(faults, 'ok')
    assert faults.delete('/instances/%s' % iid)[0] == 200


def test_v1_create_raises(faults):
    mark = faults.log_mark()
    mode(faults, 'create-raises')
    try:
        status, _, body = faults.post('/instances', dicomgen.make_instance(patient_id='V1-CREATE'))
    finally:
        mode(faults, 'ok')
    assert status == 500
    assert faults.count_log(OPY0010 + r' create callback', since=mark) == 1
    assert faults.count_log(r'RuntimeError: create refused on purpose', since=mark) == 1
    patients = faults.get_json('/patients?expand')
    assert 'V1-CREATE' not in [p['MainDicomTags']['PatientID'] for p in patients]
    # the server keeps serving
    assert faults.upload(dicomgen.make_instance(patient_id='V1-AFTER'))['Status'] == 'Success'


@pytest.mark.parametrize('which, message', [
    ('read-raises', r'RuntimeError: read refused on purpose'),
    ('read-str', r'TypeError: the read callback must return bytes \(or bytes-like\), not str'),
    ('read-none', r'TypeError: the read callback must return bytes \(or bytes-like\), not NoneType'),
])
def test_v1_read_fails(faults, which, message):
    data = dicomgen.make_instance(patient_id='V1-' + which.upper())
    iid = faults.upload(data)['ID']
    mark = faults.log_mark()
    mode(faults, which)
    try:
        status, _, body = faults.get('/instances/%s/file' % iid)
    finally:
        mode(faults, 'ok')
    assert status == 500
    assert json.loads(body)['OrthancStatus'] == 1       # OrthancPluginErrorCode_Plugin
    assert faults.count_log(OPY0010 + r' read callback', since=mark) == 1
    assert faults.count_log(message, since=mark) == 1
    # nothing lost: the file reads again once the script behaves
    status, _, body = faults.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)


def test_v1_remove_raises(faults):
    """Orthanc logs the failure and still deletes the resource from its index
    (the file stays in the storage area)."""
    iid = faults.upload(dicomgen.make_instance(patient_id='V1-REMOVE'))['ID']
    uuid = faults.get_json('/instances/%s/attachments/dicom/info' % iid)['Uuid']
    mark = faults.log_mark()
    mode(faults, 'remove-raises')
    try:
        status, _, _ = faults.delete('/instances/%s' % iid)
    finally:
        mode(faults, 'ok')
    assert status == 200
    # one traceback per attachment (with RegisterStorageArea, Orthanc also
    # keeps a "dicom-until-pixel-data" attachment, content type 3)
    failures = faults.count_log(r'Unable to remove an attachment from the storage area', since=mark)
    assert failures >= 1
    assert faults.count_log(OPY0010 + r' remove callback', since=mark) == failures
    assert faults.count_log(r'RuntimeError: remove refused on purpose', since=mark) == failures
    assert (faults.workdir / 'area' / ('1-%s' % uuid)).is_file()
    assert faults.get('/instances/%s' % iid)[0] == 404


# ---------------------------------------------------------------- StorageArea2

# Orthanc 1.13 reads a whole attachment of a storage area with range reads
# through readRange (the range-read path of test_area2_read_fails covers it).
WHOLE_BY_RANGE = harness.orthanc_version() >= (1, 13, 0)


@pytest.fixture(scope='module')
def area2(orthanc_factory):
    # No storage cache: every read reaches the storage area.
    srv = orthanc_factory(orthanc_factory.script('cb_storage2.py'), name='storage2',
                          config={'MaximumStorageCacheSize': 0})
    yield srv
    srv.post('/storage2/mode', 'ok')


def mode2(srv, name):
    status, _, body = srv.post('/storage2/mode', name)
    assert (status, body) == (200, name.encode())


def test_area2_roundtrip_and_range_reads(area2):
    data = dicomgen.make_instance(patient_id='AREA2-OK', rows=32, columns=32, bits=16)
    iid = area2.upload(data)['ID']
    stats = area2.get_json('/storage2/stats')
    status, _, body = area2.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    after_file = area2.get_json('/storage2/stats')
    if WHOLE_BY_RANGE:
        assert (after_file['whole'], after_file['range']) == (stats['whole'], stats['range'] + 1)
        assert after_file['ranges'][-1] == [1, 0, len(data)]
    else:
        assert (after_file['whole'], after_file['range']) == (stats['whole'] + 1, stats['range'])
    # Orthanc 1.10.1 reads the tags of an instance with a range read that
    # stops before the pixel data.
    mark = area2.out_mark()
    tags = area2.get_json('/instances/%s/tags?simplify' % iid)
    assert tags['PatientID'] == 'AREA2-OK'
    after_tags = area2.get_json('/storage2/stats')
    assert after_tags['range'] == after_file['range'] + 1
    content_type, start, size = after_tags['ranges'][-1]
    assert (content_type, start) == (1, 0)
    assert 0 < size < len(data)
    assert data.find(b'\xe0\x7f\x10\x00') >= size - 12       # pixel data tag is at the end
    area2.wait_out(harness.bare(r'storage2 range read type=1 start=0 size=%d' % size), since=mark)
    assert area2.delete('/instances/%s' % iid)[0] == 200
    assert area2.get_json('/storage2/stats')['remove'] == after_tags['remove'] + 1


@pytest.mark.parametrize('which, route, message, http', [
    ('range-short', 'tags', r'ValueError: the readRange callback returned \d+ bytes for a range of \d+ bytes at 0', 500),
    ('range-str', 'tags', r'TypeError: the readRange callback must return bytes \(or bytes-like\), not str', 500),
    ('range-raises', 'tags', r'RuntimeError: readRange refused on purpose', 500),
    ('whole-str', 'file', r'TypeError: the readWhole callback must return bytes \(or bytes-like\), not str', 500),
    ('whole-none', 'file', r'TypeError: the readWhole callback must return bytes \(or bytes-like\), not NoneType', 500),
    ('whole-raises', 'file', r'RuntimeError: readWhole refused on purpose', 500),
    ('orthanc-exception', 'file', r"orthanc.OrthancException: \(17, 'gone'\)", 404),
    ('range-orthanc-exception', 'file', r"orthanc.OrthancException: \(17, 'gone'\)", 404),
])
def test_area2_read_fails(area2, which, route, message, http):
    if which == 'range-orthanc-exception' and not WHOLE_BY_RANGE:
        route = 'tags'
    if which.startswith('whole') or which == 'orthanc-exception':
        if WHOLE_BY_RANGE:
            pytest.skip('Orthanc %s reads whole attachments through readRange: it never calls '
                        'readWhole' % harness.orthanc_version_text())
    data = dicomgen.make_instance(patient_id='AREA2-' + which.upper())
    iid = area2.upload(data)['ID']
    mark = area2.log_mark()
    mode2(area2, which)
    try:
        status, _, body = area2.get('/instances/%s/%s' % (iid, route))
    finally:
        mode2(area2, 'ok')
    assert status == http
    assert area2.count_log(OPY0010, since=mark) == 1
    assert area2.count_log(message, since=mark) == 1
    # nothing lost
    status, _, body = area2.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    assert area2.get_json('/instances/%s/tags?simplify' % iid)['PatientID'] == 'AREA2-' + which.upper()


def test_area2_create_raises(area2):
    mark = area2.log_mark()
    before = area2.get_json('/storage2/stats')['files']
    mode2(area2, 'create-raises')
    try:
        status, _, _ = area2.post('/instances', dicomgen.make_instance(patient_id='AREA2-CREATE'))
    finally:
        mode2(area2, 'ok')
    assert status == 500
    assert area2.count_log(OPY0010 + r' create callback', since=mark) == 1
    assert area2.get_json('/storage2/stats')['files'] == before
    assert area2.upload(dicomgen.make_instance(patient_id='AREA2-AFTER'))['Status'] == 'Success'
