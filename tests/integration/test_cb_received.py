# SPDX-License-Identifier: GPL-3.0-or-later
"""Received-instance families: orthanc.RegisterReceivedInstanceCallback (seed
sample "Modifying received instances"), orthanc.RegisterIncomingCStoreInstanceFilter
(seed sample "Filtering incoming C-Store instances") and
orthanc.RegisterIncomingDicomInstanceFilter; instances come by REST and by
C-STORE (dcmtk storescu)."""

import io
import json
import re
import shutil
import subprocess

import pydicom
import pytest

import dicomgen
import harness
from seedcheck import seed_sample_check

OPY0010 = r'OPY0010 Exception in '


def storescu(srv, pid, aet='STORESCU', **kw):
    """C-STORE one new instance; returns (DIMSE status as int, SOP UID)."""
    if shutil.which('storescu') is None:
        pytest.skip('dcmtk storescu not installed')
    path = srv.workdir / ('scu-%s.dcm' % re.sub(r'[^A-Za-z0-9-]', '_', pid))
    dicomgen.write_instance(path, patient_id=pid, **kw)
    r = subprocess.run(['storescu', '-d', '-aec', 'OPYTEST', '-aet', aet, '127.0.0.1',
                        str(srv.dicom_port), str(path)],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    m = re.search(r'DIMSE Status\s*:\s*0x([0-9a-fA-F]{4})', r.stdout + r.stderr)
    assert m, 'storescu gave no status (exit %d):\n%s%s' % (r.returncode, r.stdout, r.stderr)
    return int(m.group(1), 16), pydicom.dcmread(str(path)).SOPInstanceUID


def patient_ids(srv):
    return sorted(p['MainDicomTags']['PatientID'] for p in srv.get_json('/patients?expand'))


def post(srv, pid, **kw):
    status, _, body = srv.post('/instances', dicomgen.make_instance(patient_id=pid, **kw),
                               headers={'Content-Type': 'application/dicom'})
    return status, json.loads(body)


# ------------------------------------------------------- seed: modifying received

@pytest.fixture(scope='module')
def modifying(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_received_seed.py'), name='received_seed')


def test_seed_received_is_verbatim():
    seed_sample_check('cb_received_seed.py')


def test_seed_received_rest(modifying):
    mark = modifying.log_mark()
    status, answer = post(modifying, '001-DROP')
    assert status == 200 and answer['ID'] == ''          # discarded
    status, answer = post(modifying, '002-KEEP', patient_name='Keep^Me')
    assert status == 200 and answer['Status'] == 'Success'
    kept = modifying.get_json('/instances/%s/simplified-tags' % answer['ID'])
    assert (kept['PatientID'], kept['PatientName']) == ('002-KEEP', 'Keep^Me')
    assert 'InstitutionName' not in kept
    status, answer = post(modifying, 'ABC', patient_name='Lower^Case')
    assert status == 200 and answer['Status'] == 'Success'
    changed = modifying.get_json('/instances/%s/simplified-tags' % answer['ID'])
    assert changed['PatientID'] == '002-ABC'
    assert changed['PatientName'] == 'LOWER^CASE'
    assert changed['InstitutionName'] == 'MY INSTITUTION'
    assert '001-DROP' not in patient_ids(modifying)
    w = 'W'
    assert modifying.count_log(harness.line('DICOM instance received from the REST API', w), since=mark) == 3
    assert modifying.count_log(harness.line('Discard instance', w), since=mark) == 1
    assert modifying.count_log(harness.line('Store source instance as it is', w), since=mark) == 1
    assert modifying.count_log(harness.line('Modify the source instance', w), since=mark) == 1


def test_seed_received_dicom(modifying):
    mark = modifying.log_mark()
    status, _ = storescu(modifying, 'XYZ', patient_name='Dicom^Sent')
    assert status == 0
    assert '002-XYZ' in patient_ids(modifying)
    status, _ = storescu(modifying, '001-GONE')
    assert status == 0                                   # discarded, silently for the sender
    assert '001-GONE' not in patient_ids(modifying)
    assert modifying.count_log(harness.line('DICOM instance received from the DICOM protocol', 'W'),
                               since=mark) == 2


# ------------------------------------------------------- received instance: faults

@pytest.fixture(scope='module')
def received(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_received_faults.py'), name='received_faults')


def test_received_second_registration_refused(received):
    assert received.count_out(
        r'second registration refused: orthanc.RegisterReceivedInstanceCallback\(\): a received-instance '
        r'callback is already registered') == 1


def test_received_keep_and_modify_bytearray(received):
    status, answer = post(received, 'KEEP-1')
    assert status == 200 and answer['Status'] == 'Success'
    status, answer = post(received, 'MODIFY-1')
    assert status == 200
    assert received.get_json('/instances/%s/simplified-tags' % answer['ID'])['PatientID'] == 'MODIFIED-MODIFY-1'
    status, _ = storescu(received, 'MODIFY-2')
    assert status == 0
    assert 'MODIFIED-MODIFY-2' in patient_ids(received)
    received.wait_out(harness.bare(r'received-instance callback: MODIFY-2 origin=2 type=bytes'))
    received.wait_out(harness.bare(r'received-instance callback: MODIFY-1 origin=3 type=bytes'))


@pytest.mark.parametrize('prefix, message', [
    ('RAISE-', r'RuntimeError: received-instance callback fails on purpose'),
    ('NOTUPLE-', r'TypeError: the received-instance callback must return a tuple '
                 r'\(orthanc.ReceivedInstanceAction, bytes or None\), not int'),
    ('BADACTION-', r'ValueError: the action returned by the received-instance callback: 42 is not '
                   r'a value of orthanc.ReceivedInstanceAction'),
    ('MODIFYNONE-', r'TypeError: the received-instance callback returned MODIFY with NoneType'),
    ('MODIFYSTR-', r'TypeError: the received-instance callback returned MODIFY with str'),
])
def test_received_fails_closed(received, prefix, message):
    """An exception or a bad return value refuses the instance with an error
    the sender sees (REST: HTTP 500; C-STORE: 0xA700); nothing is stored."""
    mark = received.log_mark()
    status, answer = post(received, prefix + 'REST')
    assert status == 500
    assert answer['Details'] == 'The ReceivedInstanceCallback has returned an invalid value'
    assert received.count_log(OPY0010 + r'received-instance callback \(instance refused\)', since=mark) == 1
    assert received.count_log(message, since=mark) == 1
    mark = received.log_mark()
    dimse, _ = storescu(received, prefix + 'DICOM')
    assert dimse == 0xA700
    assert received.count_log(OPY0010, since=mark) == 1
    ids = patient_ids(received)
    assert prefix + 'REST' not in ids and prefix + 'DICOM' not in ids
    # still serving
    assert post(received, 'KEEP-' + prefix)[0] == 200


# ------------------------------------------------------- seed: C-STORE filter

@pytest.fixture(scope='module')
def quota(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_cstore_seed.py'), name='cstore_seed')


def test_seed_cstore_is_verbatim():
    seed_sample_check('cb_cstore_seed.py')


def test_seed_cstore_fourth_rejected(quota):
    statuses = [storescu(quota, 'QUOTA-%d' % i)[0] for i in range(1, 6)]
    assert statuses == [0, 0, 0, 0xA700, 0xA700]
    assert patient_ids(quota) == ['QUOTA-1', 'QUOTA-2', 'QUOTA-3']
    # REST uploads do not go through the C-STORE filter
    status, _ = post(quota, 'QUOTA-REST')
    assert status == 200 and 'QUOTA-REST' in patient_ids(quota)


# ------------------------------------------------------- filters (several each)

@pytest.fixture(scope='module')
def filters(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_filters.py'), name='filters')


def test_dicom_filters_all_origins(filters):
    mark = filters.out_mark()
    status, answer = post(filters, 'OK-REST')
    assert status == 200 and answer['Status'] == 'Success'
    assert storescu(filters, 'OK-DICOM')[0] == 0
    assert {'OK-REST', 'OK-DICOM'} <= set(patient_ids(filters))
    filters.wait_out(harness.bare(r'dicom filter 1: OK-REST origin=3'), since=mark)
    filters.wait_out(harness.bare(r'dicom filter 1: OK-DICOM origin=2'), since=mark)
    filters.wait_out(harness.bare(r'dicom filter 2: OK-REST'), since=mark)


@pytest.mark.parametrize('pid, second_called', [('DENY1-A', False), ('DENY2-A', True)])
def test_dicom_filter_denies_when_any_denies(filters, pid, second_called):
    mark, out_mark = filters.log_mark(), filters.out_mark()
    status, answer = post(filters, pid)
    assert status == 200 and answer['Status'] == 'FilteredOut'
    assert pid not in patient_ids(filters)
    assert filters.count_out(harness.bare(r'dicom filter 2: %s' % pid), since=out_mark) == int(second_called)
    assert filters.count_log(OPY0010, since=mark) == 0


@pytest.mark.parametrize('pid, message', [
    ('DRAISE-A', r'RuntimeError: dicom filter fails on purpose'),
    ('DBAD-A', r'ValueError: this result has no truth value'),
])
def test_dicom_filter_fails_closed(filters, pid, message):
    mark = filters.log_mark()
    status, _ = post(filters, pid)
    assert status == 500
    assert filters.count_log(OPY0010 + r'incoming DICOM instance filter \(instance refused\)', since=mark) == 1
    assert filters.count_log(message, since=mark) == 1
    mark = filters.log_mark()
    assert storescu(filters, pid + 'S')[0] == 0xA700
    assert filters.count_log(OPY0010, since=mark) == 1
    ids = patient_ids(filters)
    assert pid not in ids and pid + 'S' not in ids


def test_cstore_filter_status(filters):
    mark, out_mark = filters.log_mark(), filters.out_mark()
    assert storescu(filters, 'FULL-A')[0] == 0xA702
    assert storescu(filters, 'CDENY2-A')[0] == 0xC123      # second filter rejects
    assert 'FULL-A' not in patient_ids(filters) and 'CDENY2-A' not in patient_ids(filters)
    # first rejection stops the others
    assert filters.count_out(harness.bare(r'c-store filter 2: FULL-A'), since=out_mark) == 0
    filters.wait_out(harness.bare(r'c-store filter 1: FULL-A aet=STORESCU'), since=out_mark)
    # REST uploads do not reach the C-STORE filters
    assert post(filters, 'FULL-REST')[0] == 200
    assert 'FULL-REST' in patient_ids(filters)
    assert filters.count_log(OPY0010, since=mark) == 0


@pytest.mark.parametrize('pid, message', [
    ('CRAISE-A', r'RuntimeError: c-store filter fails on purpose'),
    ('CSTR-A', r'TypeError: the C-STORE filter must return an int \(0 stores, otherwise the DIMSE '
               r'status of the rejection\), not str'),
    ('CBOOL-A', r'TypeError: the C-STORE filter must return an int .*, not bool'),
    ('CRANGE-A', r'ValueError: the C-STORE filter returned 65536: a DIMSE status is 0..0xFFFF'),
])
def test_cstore_filter_fails_closed(filters, pid, message):
    mark = filters.log_mark()
    assert storescu(filters, pid)[0] == 0xA700
    assert filters.count_log(OPY0010 + r'C-STORE filter \(instance rejected with status 0xA700\)',
                             since=mark) == 1
    assert filters.count_log(message, since=mark) == 1
    assert pid not in patient_ids(filters)
    assert storescu(filters, 'OK-AFTER-' + pid)[0] == 0


def test_instance_invalid_after_callback(filters):
    status, _, body = filters.get('/filters/stashed')
    assert (status, body) == (200, b'ValueError: orthanc.DicomInstance used after its callback returned')
