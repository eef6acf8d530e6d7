# SPDX-License-Identifier: GPL-3.0-or-later
"""Storage area v3: orthanc.RegisterStorageArea3 (SDK 1.12.8, custom data per
attachment) with scripts/cb_storage3.py, and orthanc.GetAttachmentCustomData /
SetAttachmentCustomData. On an older Orthanc, test_sdk_versions checks that
RegisterStorageArea3 refuses (it is in build/gen/sdk_names.json)."""

import json

import pytest

import dicomgen
import harness

NEEDED = (1, 12, 8)
pytestmark = pytest.mark.skipif(
    'RegisterStorageArea3' not in harness.sdk_versions() or harness.orthanc_version() < NEEDED,
    reason='RegisterStorageArea3 needs a 1.12.8+ SDK header and Orthanc (this is %s)'
    % harness.orthanc_version_text())

OPY0010 = r'OPY0010 Exception in storage area'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('cb_storage3.py'), config={'MaximumStorageCacheSize': 0})
    yield srv
    mode(srv)


def mode(srv, create='ok', read='ok', remove='ok'):
    status, _, body = srv.post('/storage3/mode', json.dumps({'create': create, 'read': read, 'remove': remove}))
    assert status == 200, body


def calls(srv, reset=False):
    status, _, body = (srv.delete if reset else srv.get)('/storage3/calls')
    assert status == 200, body
    return json.loads(body)


def dicom_uuid(srv, iid):
    return srv.get_json('/instances/%s/attachments/dicom/info' % iid)['Uuid']


def custom(srv, uuid, value=None):
    if value is None:
        status, _, body = srv.get('/storage3/custom-data/%s' % uuid)
    else:
        status, _, body = srv.put('/storage3/custom-data/%s' % uuid, value)
    assert status == 200, body
    return json.loads(body)


def upload(srv, patient_id):
    data = dicomgen.make_instance(patient_id=patient_id)
    return data, srv.upload(data)['ID']


def test_registration_rules(srv):
    text = srv.out_text()
    assert text.count('refused before registering: ') == 2
    assert 'orthanc.RegisterStorageArea3() expects a callable, not str' in text
    for name in ('RegisterStorageArea3', 'RegisterStorageArea', 'RegisterStorageArea2'):
        assert text.count('second storage area refused: orthanc.%s(): a storage area (by RegisterStorageArea3) '
                          'is already registered (only one can be registered)' % name) == 1, text


def test_registration_only_while_the_script_is_imported(srv):
    status, _, body = srv.get('/storage3/register-late')
    assert status == 200 and body.startswith(b'RuntimeError: '), body


def test_roundtrip_with_custom_data(srv):
    calls(srv, reset=True)
    data, iid = upload(srv, 'V3-ROUNDTRIP')
    uuid = dicom_uuid(srv, iid)
    created = [c for c in calls(srv)['create'] if c['uuid'] == uuid]
    assert created == [{'uuid': uuid, 'content_type': 1, 'compression_type': 4, 'size': len(data),
                        'content_is_bytes': True, 'instance': 'DicomInstance',
                        'instance_size': len(data)}]
    # the custom data returned by create is in Orthanc's database
    assert custom(srv, uuid) == {'value': 'custom-' + uuid, 'type': 'bytes'}
    calls(srv, reset=True)
    status, _, body = srv.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    reads = calls(srv)['read']
    assert reads and all(r['uuid'] == uuid and r['custom_data'] == 'custom-' + uuid and r['custom_is_bytes']
                         for r in reads), reads
    # Orthanc 1.13 reads the whole file as one range
    assert {'start': 0, 'size': len(data)} in [{'start': r['start'], 'size': r['size']} for r in reads], reads
    calls(srv, reset=True)
    assert srv.delete('/instances/%s' % iid)[0] == 200
    removed = calls(srv)
    assert [r for r in removed['remove'] if r['uuid'] == uuid] == [
        {'uuid': uuid, 'content_type': 1, 'custom_data': 'custom-' + uuid}]
    assert uuid not in removed['files']


def test_range_reads(srv):
    data, iid = upload(srv, 'V3-RANGES')
    calls(srv, reset=True)
    status, _, body = srv.get('/instances/%s/tags?simplify' % iid)
    assert status == 200 and json.loads(body)['PatientID'] == 'V3-RANGES'
    reads = calls(srv)['read']
    assert reads and all(0 <= r['start'] and r['start'] + r['size'] <= len(data) for r in reads), reads
    # the tags come from a read that stops before the pixel data
    assert any(r['size'] < len(data) for r in reads), reads
    assert srv.delete('/instances/%s' % iid)[0] == 200


def test_set_custom_data_reaches_read_and_remove(srv):
    data, iid = upload(srv, 'V3-SET')
    uuid = dicom_uuid(srv, iid)
    assert custom(srv, uuid, b'moved-to-\x00\xff') == {'value': 'moved-to-\x00\xff', 'type': 'bytes'}
    calls(srv, reset=True)
    status, _, body = srv.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    assert {r['custom_data'] for r in calls(srv)['read']} == {'moved-to-\x00\xff'}
    calls(srv, reset=True)
    assert srv.delete('/instances/%s' % iid)[0] == 200
    assert [r['custom_data'] for r in calls(srv)['remove']] == ['moved-to-\x00\xff']


def test_get_custom_data_of_unknown_attachment(srv):
    answer = custom(srv, 'no-such-attachment')
    assert answer.get('exc') == 'OrthancException' or answer == {'value': '', 'type': 'bytes'}, answer


@pytest.mark.parametrize('which', ['plain-none', 'plain-bytes', 'empty', 'none'])
def test_create_result_forms(srv, which):
    data = dicomgen.make_instance(patient_id='V3-FORM-' + which.upper())
    mode(srv, create=which)
    try:
        iid = srv.upload(data)['ID']
    finally:
        mode(srv)
    uuid = dicom_uuid(srv, iid)
    expected = 'custom-' + uuid if which == 'plain-bytes' else ''
    assert custom(srv, uuid)['value'] == expected
    calls(srv, reset=True)
    status, _, body = srv.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    assert {r['custom_data'] for r in calls(srv)['read']} == {expected}
    assert srv.delete('/instances/%s' % iid)[0] == 200


def test_non_dicom_attachment_gets_none(srv):
    _, iid = upload(srv, 'V3-ATTACH')
    calls(srv, reset=True)
    status, _, body = srv.put('/instances/%s/attachments/1025' % iid, b'my attachment')
    assert status == 200, body
    created = calls(srv)['create']
    # Orthanc gives the user-defined content types as ContentType.UNKNOWN
    assert [(c['content_type'], c['instance'], c['size']) for c in created] == [(0, None, 13)], created
    status, _, body = srv.get('/instances/%s/attachments/1025/data' % iid)
    assert (status, body) == (200, b'my attachment')
    assert srv.delete('/instances/%s' % iid)[0] == 200


def test_dicom_instance_is_borrowed(srv):
    mode(srv, create='keep-instance')
    try:
        _, iid = upload(srv, 'V3-KEPT')
    finally:
        mode(srv)
    status, _, body = srv.get('/storage3/kept')
    assert status == 200 and body.startswith(b'ValueError: '), body
    assert srv.delete('/instances/%s' % iid)[0] == 200


@pytest.mark.parametrize('which', ['code', 'plain-code'])
def test_create_error_code_is_an_http_error(srv, which):
    mark = srv.log_mark()
    mode(srv, create=which)
    try:
        status, _, body = srv.post('/instances', dicomgen.make_instance(patient_id='V3-CREATE-CODE'))
    finally:
        mode(srv)
    assert status == 500, body
    answer = json.loads(body)
    assert (answer['OrthancStatus'], answer['Message']) == (19, 'The file storage is full'), answer   # FULL_STORAGE
    assert srv.count_log(OPY0010, since=mark) == 0      # a code is not an exception
    patients = srv.get_json('/patients?expand')
    assert 'V3-CREATE-CODE' not in [p['MainDicomTags']['PatientID'] for p in patients]


@pytest.mark.parametrize('which, message', [
    ('raises', r'RuntimeError: create refused on purpose'),
    ('bad-shape', r'TypeError: the create callback must return \(error_code, custom_data\), None, an int error '
                  r'code or bytes of custom data, not list'),
    ('bad-custom', r'TypeError: the custom data returned by the create callback must be bytes \(or bytes-like\) '
                   r'or None, not str'),
    ('bad-code', r'TypeError: the create callback must give an error code as an int, not str'),
])
def test_create_fails(srv, which, message):
    mark = srv.log_mark()
    mode(srv, create=which)
    try:
        status, _, body = srv.post('/instances', dicomgen.make_instance(patient_id='V3-CREATE-' + which.upper()))
    finally:
        mode(srv)
    assert status == 500, body
    assert srv.count_log(OPY0010 + r' create callback', since=mark) == 1
    assert srv.count_log(message, since=mark) == 1
    assert srv.upload(dicomgen.make_instance(patient_id='V3-AFTER'))['Status'] == 'Success'


@pytest.mark.parametrize('which, status_code', [('code', 404), ('plain-code', 404)])
def test_read_error_code_is_an_http_error(srv, which, status_code):
    data, iid = upload(srv, 'V3-READ-' + which.upper())
    mark = srv.log_mark()
    mode(srv, read=which)
    try:
        status, _, body = srv.get('/instances/%s/file' % iid)
    finally:
        mode(srv)
    assert status == status_code, body
    assert srv.count_log(OPY0010, since=mark) == 0
    assert srv.get('/instances/%s/file' % iid)[2] == data
    assert srv.delete('/instances/%s' % iid)[0] == 200


@pytest.mark.parametrize('which, message', [
    ('raises', r'RuntimeError: read refused on purpose'),
    ('short', r'ValueError: the read callback returned \d+ bytes for a range of \d+ bytes at 0'),
    ('none', r'TypeError: the read callback must return bytes \(or bytes-like\) with error code 0, not NoneType'),
    ('bad-shape', r'TypeError: the read callback must return \(error_code, bytes\), bytes or an int error code, '
                  r'not str'),
])
def test_read_fails(srv, which, message):
    data, iid = upload(srv, 'V3-READ-' + which.upper())
    mark = srv.log_mark()
    mode(srv, read=which)
    try:
        status, _, body = srv.get('/instances/%s/file' % iid)
    finally:
        mode(srv)
    assert status == 500, body
    assert json.loads(body)['OrthancStatus'] == 1
    assert srv.count_log(OPY0010 + r' read callback', since=mark) == 1
    assert srv.count_log(message, since=mark) == 1
    assert srv.get('/instances/%s/file' % iid)[2] == data
    assert srv.delete('/instances/%s' % iid)[0] == 200


def test_read_plain_bytes(srv):
    data, iid = upload(srv, 'V3-READ-PLAIN')
    mode(srv, read='plain-bytes')
    try:
        status, _, body = srv.get('/instances/%s/file' % iid)
    finally:
        mode(srv)
    assert (status, body) == (200, data)
    assert srv.delete('/instances/%s' % iid)[0] == 200


@pytest.mark.parametrize('which, message', [
    ('none', None),
    ('code', None),
    ('raises', r'RuntimeError: remove refused on purpose'),
    ('bad-shape', r'TypeError: the remove callback must return an int error code \(or None\), not str'),
])
def test_remove_results(srv, which, message):
    _, iid = upload(srv, 'V3-REMOVE-' + which.upper())
    uuid = dicom_uuid(srv, iid)
    mark = srv.log_mark()
    mode(srv, remove=which)
    try:
        status, _, body = srv.delete('/instances/%s' % iid)
    finally:
        mode(srv)
    # Orthanc deletes the resource from its index whatever the storage area says
    assert status == 200, body
    assert srv.get('/instances/%s' % iid)[0] == 404
    if message is None:
        assert srv.count_log(OPY0010, since=mark) == 0
    else:
        assert srv.count_log(OPY0010 + r' remove callback', since=mark) == 1
        assert srv.count_log(message, since=mark) == 1
    if which == 'none':
        assert uuid not in calls(srv)['files']


def test_compressed_attachments(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('cb_storage3.py'), name='storage3_zlib',
                          config={'MaximumStorageCacheSize': 0, 'StorageCompression': True})
    data, iid = upload(srv, 'V3-ZLIB')
    uuid = dicom_uuid(srv, iid)
    created = [c for c in calls(srv)['create'] if c['uuid'] == uuid]
    assert [c['compression_type'] for c in created] == [1], created     # CompressionType.ZLIB_WITH_SIZE
    assert created[0]['size'] != len(data)
    status, _, body = srv.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    assert srv.delete('/instances/%s' % iid)[0] == 200
    srv.stop()


def test_example_storage_area3(orthanc_factory):
    """examples/storage_area3.py: files in the working folder, found again through their custom data."""
    srv = orthanc_factory(harness.REPO / 'examples' / 'storage_area3.py', name='storage3_example',
                          config={'MaximumStorageCacheSize': 0})
    data, iid = upload(srv, 'V3-EXAMPLE')
    uuid = dicom_uuid(srv, iid)
    path = srv.workdir / ('storage3-dicom-%s' % uuid)
    assert path.read_bytes() == data
    status, _, body = srv.get('/instances/%s/file' % iid)
    assert (status, body) == (200, data)
    status, _, _ = srv.put('/instances/%s/attachments/1025' % iid, b'other data')
    assert status == 200
    others = [p for p in srv.workdir.iterdir() if p.name.startswith('storage3-other-')]
    assert [p.read_bytes() for p in others] == [b'other data']
    path.rename(srv.workdir / 'moved')          # the error code of read: 404
    assert srv.get('/instances/%s/file' % iid)[0] == 404
    (srv.workdir / 'moved').rename(path)
    assert srv.delete('/instances/%s' % iid)[0] == 200
    assert not [p for p in srv.workdir.iterdir() if p.name.startswith('storage3-')]
    srv.stop()


def test_adopt_dicom_instance(orthanc_factory):
    # AdoptDicomInstance (beyond 7.1): Orthanc indexes a file that stays where it is
    srv = orthanc_factory(orthanc_factory.script('cb_storage3_adopt.py'))
    dicom = dicomgen.make_instance(patient_id='ADOPT-1')
    path = srv.workdir / 'outside-the-storage.dcm'
    path.write_bytes(dicom)
    status, _, body = srv.post('/adopt', str(path))
    assert status == 200, body
    adopted = json.loads(body)
    assert adopted['status'] == 0 and adopted['custom'] == 'adopted:%s' % path, adopted   # StoreStatus.SUCCESS
    assert srv.get('/instances/%s/file' % adopted['instance'])[2] == dicom
    assert srv.get_json('/instances/%s' % adopted['instance'])['MainDicomTags']['SOPInstanceUID']
    log = json.loads(srv.get('/adopt-log')[2])
    assert ['create', 1] not in log, log            # the DICOM file was not copied
    again = json.loads(srv.post('/adopt', str(path))[2])
    assert again['status'] == 1, again                # StoreStatus.ALREADY_STORED
    assert srv.delete('/instances/%s' % adopted['instance'])[0] == 200
    log = json.loads(srv.get('/adopt-log')[2])
    assert ['remove', 1, 'adopted:%s' % path] in log, log
    assert path.read_bytes() == dicom               # the storage area left the file where it was
