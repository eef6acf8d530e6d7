# SPDX-License-Identifier: GPL-3.0-or-later
"""Storage commitment SCP family (docs/callbacks/storage_commitment.md): the
seed sample "Storage Commitment SCP" and a prefetching SCP, driven by a second
Orthanc (without plugin) on loopback acting as storage commitment SCU through
its REST API (POST /modalities/{id}/storage-commitment, then
GET /storage-commitment/{transaction})."""

import json
import time

import pytest

import dicomgen
import harness
import seedcheck

SC = dicomgen.SECONDARY_CAPTURE
OTHER_CLASS = '1.2.840.10008.5.1.4.1.1.2'      # CT Image Storage
# DIMSE failure reasons (PS3.4 J.3.3) as Orthanc reports them
PROCESSING_FAILURE, NO_SUCH_OBJECT, RESOURCE_LIMITATION, CLASS_CONFLICT = 0x110, 0x112, 0x213, 0x119


@pytest.fixture(scope='module')
def servers(orthanc_factory):
    scu = orthanc_factory(start=False, name='scu', plugins=[])
    seed = orthanc_factory(orthanc_factory.script('cb_storage_commitment_seed.py'),
                           start=False, name='seed')
    scp = orthanc_factory(orthanc_factory.script('cb_storage_commitment.py'),
                          start=False, name='scp', config={'JobsHistorySize': 1})
    scu.overrides.update({'DicomAet': 'SCUAET', 'DicomModalities': {
        'seed': ['SEEDAET', '127.0.0.1', seed.dicom_port],
        'scp': ['SCPAET', '127.0.0.1', scp.dicom_port]}})
    for srv, aet in ((seed, 'SEEDAET'), (scp, 'SCPAET')):
        srv.overrides.update({'DicomAet': aet, 'DicomModalities': {
            'scu': ['SCUAET', '127.0.0.1', scu.dicom_port]}})
    for srv in (scu, seed, scp):
        srv.start()
    return {'scu': scu, 'seed': seed, 'scp': scp}


def commit(scu, modality, pairs, timeout=30):
    """Storage commitment request from scu to modality; returns the report."""
    status, _, body = scu.post('/modalities/%s/storage-commitment' % modality,
                               json.dumps({'DicomInstances': [list(p) for p in pairs]}))
    assert status == 200, body
    uid = json.loads(body)['ID']
    deadline = time.monotonic() + timeout
    while True:
        report = scu.get_json('/storage-commitment/%s' % uid)
        if report['Status'] != 'Pending':
            report['uid'] = uid
            return report
        assert time.monotonic() < deadline, 'no storage commitment report for %s' % uid
        time.sleep(0.1)


def failures(report):
    return {f['SOPInstanceUID']: f['FailureReason'] for f in report['Failures']}


def successes(report):
    return {s['SOPInstanceUID'] for s in report['Success']}


def stored(srv):
    ds = dicomgen.make_dataset(patient_id='COMMIT')
    srv.upload(dicomgen.to_bytes(ds))
    return ds.SOPInstanceUID


# ------------------------------------------------------------ seed sample

def test_seed_script_is_verbatim():
    seedcheck.seed_sample_check('cb_storage_commitment_seed.py')


def test_seed_default_lookup(servers):
    seed, scu = servers['seed'], servers['scu']
    mark = seed.log_mark()
    present = stored(seed)
    absent = dicomgen.new_uid()
    report = commit(scu, 'seed', [(SC, present), (SC, absent)])
    assert report['Status'] == 'Failure'
    assert report['RemoteAET'] == 'SEEDAET'
    assert successes(report) == {present}
    assert failures(report) == {absent: NO_SUCH_OBJECT}
    seed.wait_log(harness.line(r'  Storage commitment SCP job: Success while looking for '
                               r'%s / %s' % (SC, present), 'I'), since=mark)
    seed.wait_log(harness.line(r'  Storage commitment SCP job: Failure while looking for '
                               r'%s / %s' % (SC, absent), 'I'), since=mark)
    # the job of the SCP
    jobs = [j for j in seed.get_json('/jobs?expand') if j['Type'] == 'StorageCommitmentScp'
            and j['Content']['TransactionUid'] == report['uid']]
    assert len(jobs) == 1 and jobs[0]['Content']['RemoteAet'] == 'SCUAET'
    assert seed.count_log('OPY0010', since=mark) == 0


def test_seed_all_committed(servers):
    seed, scu = servers['seed'], servers['scu']
    a, b = stored(seed), stored(seed)
    report = commit(scu, 'seed', [(SC, a), (SC, b)])
    assert report['Status'] == 'Success'
    assert successes(report) == {a, b} and report['Failures'] == []


def test_seed_class_conflict(servers):
    seed, scu = servers['seed'], servers['scu']
    a = stored(seed)
    report = commit(scu, 'seed', [(OTHER_CLASS, a)])
    assert failures(report) == {a: CLASS_CONFLICT}


# ------------------------------------------------------------ prefetching SCP

def test_prefetching_scp(servers):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, absent, limited = stored(scp), dicomgen.new_uid(), dicomgen.new_uid() + '.891'
    report = commit(scu, 'scp', [(SC, present), (SC, absent), (OTHER_CLASS, present),
                                 (SC, limited)])
    assert successes(report) == {present}
    assert [(f['SOPClassUID'], f['SOPInstanceUID'], f['FailureReason'])
            for f in report['Failures']] == [(SC, absent, NO_SUCH_OBJECT),
                                              (OTHER_CLASS, present, CLASS_CONFLICT),
                                              (SC, limited, RESOURCE_LIMITATION)]
    state = scp.get_json('/commitment/state')
    call = [c for c in state['factory'] if c['transactionUid'] == report['uid']]
    assert len(call) == 1
    assert call[0]['sopClassUids'] == [SC, SC, OTHER_CLASS, SC]
    assert call[0]['sopInstanceUids'] == [present, absent, present, limited]
    assert (call[0]['remoteAet'], call[0]['calledAet']) == ('SCUAET', 'SCPAET')
    job = scp.get_json('/jobs/%s' % call[0]['jobId'])
    assert job['Type'] == 'StorageCommitmentScp'
    assert state['lookups'][-4:] == [[SC, present, 'Commitment'], [SC, absent, 'Commitment'],
                                     [OTHER_CLASS, present, 'Commitment'],
                                     [SC, limited, 'Commitment']]
    # the SDK's destructor drops the factory's object, when Orthanc forgets
    # the job ("JobsHistorySize": 1: at the end of the next job)
    assert scp.count_log(r'Commitment data released: %s' % report['uid'], since=mark) == 0
    commit(scu, 'scp', [(SC, present)])
    scp.wait_log(r'Commitment data released: %s' % report['uid'], since=mark)
    assert scp.count_log('OPY0010', since=mark) == 0


def test_lookup_raises(servers):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, bad = stored(scp), dicomgen.new_uid() + '.777'
    report = commit(scu, 'scp', [(SC, bad), (SC, present)])
    assert successes(report) == {present}
    assert failures(report) == {bad: PROCESSING_FAILURE}
    scp.wait_log(r'OPY0010 Exception in storage commitment lookup of %s '
                 r'\(reported as PROCESSING_FAILURE\)' % bad, since=mark)
    scp.wait_log(r'KeyError: .lookup failed for %s.' % bad, since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1


@pytest.mark.parametrize('suffix,error', [
    ('888', r'TypeError: the value returned by the storage commitment lookup callback must '
            r'be int, not str'),
    ('889', r'TypeError: the storage commitment lookup callback must return a value of '
            r'orthanc.StorageCommitmentFailureReason, not True'),
    ('890', r'ValueError: the value returned by the storage commitment lookup callback: 99 is '
            r'not a value of orthanc.StorageCommitmentFailureReason')])
def test_lookup_bad_return_value(servers, suffix, error):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, bad = stored(scp), dicomgen.new_uid() + '.' + suffix
    report = commit(scu, 'scp', [(SC, present), (SC, bad)])
    assert report['Status'] == 'Failure'
    assert successes(report) == {present}
    assert failures(report) == {bad: PROCESSING_FAILURE}
    scp.wait_log(error, since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1


def test_factory_raises(servers):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, bad = stored(scp), dicomgen.new_uid() + '.666'
    report = commit(scu, 'scp', [(SC, present), (SC, bad)])
    assert report['Status'] == 'Failure'
    assert report['Success'] == []
    assert failures(report) == {present: PROCESSING_FAILURE, bad: PROCESSING_FAILURE}
    scp.wait_log(r'OPY0010 Exception in storage commitment factory \(every instance reported '
                 r'as PROCESSING_FAILURE\)', since=mark)
    scp.wait_log(r'RuntimeError: storage commitment refused for %s' % report['uid'], since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1
    assert [l for l in scp.get_json('/commitment/state')['lookups'] if l[1] == bad] == []
    # still serving
    assert commit(scu, 'scp', [(SC, present)])['Status'] == 'Success'


def test_registration_rules(servers):
    scp = servers['scp']
    assert scp.get_json('/commitment/state')['late'].startswith('RuntimeError')
    status, _, body = scp.get('/commitment/second')
    assert body.startswith(b'RuntimeError: orthanc.RegisterStorageCommitmentScpCallback(): '
                           b'a storage commitment SCP callback is already registered')
