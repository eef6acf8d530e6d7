# SPDX-License-Identifier: GPL-3.0-or-later
"""C-FIND and C-MOVE SCP families (docs/callbacks/scp.md): the seed sample
"Handling DICOM SCP requests", a realistic proxy over Orthanc's database, the
driver model of RegisterMoveCallback2, and the error rules, through dcmtk's
findscu and movescu."""

import io
import json

import pydicom
import pytest

import dicomgen
import harness
import seedcheck
from scp_tools import StoreScp, dcmtk, find_answers

ALLOW = {'DicomAlwaysAllowFind': True, 'DicomAlwaysAllowMove': True}


def study_query(srv, *keys, aet='FINDSCU'):
    args = ['findscu', '-v', '-aet', aet, '127.0.0.1', srv.dicom_port, '-S']
    for k in keys:
        args += ['-k', k]
    return dcmtk(*args)


def move(srv, study_uid, aet='MOVESCU', target='TARGET'):
    return dcmtk('movescu', '-v', '127.0.0.1', srv.dicom_port, '-aem', target, '-aec', 'OPYTEST',
                 '-aet', aet, '-S', '-k', 'QueryRetrieveLevel=STUDY',
                 '-k', 'StudyInstanceUID=%s' % study_uid)


# ------------------------------------------------------------ seed sample

def test_seed_script_is_verbatim():
    seedcheck.seed_sample_check('cb_scp_seed.py')


@pytest.fixture(scope='module')
def seed(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_scp_seed.py'), config=ALLOW)


def test_seed_find_listing(seed):
    rc, out = study_query(seed, 'QueryRetrieveLevel=STUDY', 'PatientName=TEST',
                          'SeriesDescription=')
    assert rc == 0, out
    assert find_answers(out) == [{
        '(0008,0005)': 'ISO_IR 100',
        '(0008,0052)': 'HELLO0-STUDY',
        '(0008,103e)': 'HELLO1- ',
        '(0010,0010)': 'HELLO2-TEST ',
    }], out
    assert 'Received Final Find Response (Success)' in out
    seed.wait_out(harness.bare(r'Received incoming C-FIND request from FINDSCU:'))
    seed.wait_out(harness.bare(r'  PatientName \(0010,0010\) = \[TEST\]'))


def test_seed_move_log(seed):
    mark = seed.log_mark()
    rc, out = dcmtk('movescu', '-v', '127.0.0.1', seed.dicom_port, '-aem', 'TARGET', '-aec',
                    'SOURCE', '-aet', 'MOVESCU', '-S', '-k', 'QueryRetrieveLevel=IMAGE',
                    '-k', 'StudyInstanceUID=1.2.3.4')
    assert rc == 0, out
    assert 'Received Final Move Response (Success)' in out
    expected = json.dumps({
        'AccessionNumber': '', 'Level': 'INSTANCE', 'OriginatorAET': 'MOVESCU',
        'OriginatorID': 1, 'PatientID': '', 'SOPInstanceUID': '', 'SeriesInstanceUID': '',
        'SourceAET': 'SOURCE', 'StudyInstanceUID': '1.2.3.4', 'TargetAET': 'TARGET'},
        indent=4, sort_keys=True)
    seed.wait_log(r'C-MOVE request to be handled in Python: ' + __import__('re').escape(expected),
                  since=mark)
    assert seed.count_log('OPY0010') == 0


# ------------------------------------------------------------ proxy (find + move)

@pytest.fixture(scope='module')
def target(tmp_path_factory):
    scp = StoreScp(tmp_path_factory.mktemp('target'), 'TARGET')
    yield scp
    scp.close()


@pytest.fixture(scope='module')
def proxy(orthanc_factory, target):
    srv = orthanc_factory(orthanc_factory.script('cb_scp.py'), config=dict(
        ALLOW, DicomModalities={'target': ['TARGET', '127.0.0.1', target.port]}))
    study = dicomgen.new_uid()
    sops = []
    for n, pid in enumerate(['SCP-A', 'SCP-A', 'SCP-B']):
        ds = dicomgen.make_dataset(patient_id=pid, patient_name='Scp^%s' % pid[-1],
                                   study_uid=study if pid == 'SCP-A' else None,
                                   accession_number='ACC-%s' % pid, instance_number=n + 1)
        srv.upload(dicomgen.to_bytes(ds))
        sops.append(ds.SOPInstanceUID)
    srv.study = study
    srv.sops = sops
    return srv


def calls(srv):
    return srv.get_json('/scp/calls')


def test_find_answers_from_database(proxy):
    rc, out = study_query(proxy, 'QueryRetrieveLevel=STUDY', 'PatientID=SCP-*',
                          'PatientName=', 'AccessionNumber=', 'StudyInstanceUID=')
    assert rc == 0, out
    got = sorted((a['(0010,0020)'].strip(), a['(0008,0050)'].strip()) for a in find_answers(out))
    assert got == [('SCP-A', 'ACC-SCP-A'), ('SCP-B', 'ACC-SCP-B')], out
    assert 'Received Final Find Response (Success)' in out
    last = calls(proxy)['calls']['find'][-1]
    assert (last['issuer'], last['called']) == ('FINDSCU', 'ANY-SCP')
    assert last['tags']['PatientID'] == {'group': 0x10, 'element': 0x20, 'value': 'SCP-*'}
    assert last['tags']['QueryRetrieveLevel'] == {'group': 8, 'element': 0x52, 'value': 'STUDY'}


def test_find_mark_incomplete(proxy):
    rc, out = study_query(proxy, 'QueryRetrieveLevel=STUDY', 'PatientID=SCP-*', aet='LIMITED')
    assert len(find_answers(out)) == 1, out
    assert 'Received Final Find Response (Cancel: MatchingTerminatedDueToCancelRequest)' in out


def test_find_raises(proxy):
    mark = proxy.log_mark()
    rc, out = study_query(proxy, 'QueryRetrieveLevel=STUDY', 'PatientID=SCP-*', aet='RAISER')
    assert find_answers(out) == [], out
    assert 'Received Final Find Response (Failed: UnableToProcess)' in out
    proxy.wait_log(r'OPY0010 Exception in C-FIND callback', since=mark)
    proxy.wait_log(r'RuntimeError: C-FIND refused for RAISER', since=mark)
    assert proxy.count_log(r'OPY0010', since=mark) == 1
    # still serving
    rc, out = study_query(proxy, 'QueryRetrieveLevel=STUDY', 'PatientID=SCP-B')
    assert len(find_answers(out)) == 1, out


def test_find_bad_return_value_ignored(proxy):
    mark = proxy.log_mark()
    rc, out = study_query(proxy, 'QueryRetrieveLevel=STUDY', 'PatientID=SCP-*', aet='BADRETURN')
    assert rc == 0, out
    assert find_answers(out) == []
    assert 'Received Final Find Response (Success)' in out
    assert proxy.count_log(r'OPY0010', since=mark) == 0


def test_find_handles_are_borrowed(proxy):
    study_query(proxy, 'QueryRetrieveLevel=STUDY', 'PatientID=SCP-B')
    result = proxy.get_json('/scp/stale')
    assert result['answers'].startswith('ValueError') and 'FindAnswers' in result['answers']
    assert result['query'].startswith('ValueError') and 'FindQuery' in result['query']


def test_registration_rules(proxy):
    proxy.get_json('/scp/stale')
    reg = calls(proxy)['registration']
    assert reg['second_find'].startswith('RuntimeError: orthanc.RegisterFindCallback(): '
                                         'a C-FIND callback is already registered')
    assert reg['second_move'].startswith('RuntimeError:')
    assert reg['move2_after_move'].startswith('RuntimeError:')
    assert reg['not_callable'].startswith('TypeError:')
    assert reg['late_find'].startswith('RuntimeError:') and 'imported' in reg['late_find']


def test_move_sends_study(proxy, target):
    mark = proxy.log_mark()
    rc, out = move(proxy, proxy.study)
    assert rc == 0, out
    assert 'Received Final Move Response (Success)' in out
    target.wait_for(proxy.sops[:2])
    assert proxy.sops[2] not in target.received()
    last = calls(proxy)['calls']['move'][-1]
    assert last == {'Level': 'STUDY', 'PatientID': '', 'AccessionNumber': '',
                    'StudyInstanceUID': proxy.study, 'SeriesInstanceUID': '',
                    'SOPInstanceUID': '', 'OriginatorAET': 'MOVESCU', 'SourceAET': 'OPYTEST',
                    'TargetAET': 'TARGET', 'OriginatorID': 1}
    assert proxy.count_log(r'OPY0010', since=mark) == 0


def test_move_raises(proxy):
    mark = proxy.log_mark()
    rc, out = move(proxy, proxy.study, aet='RAISER')
    assert 'Received Final Move Response (Success)' not in out
    assert 'SubOperationsCompleteOneOrMoreFailures' in out, out
    proxy.wait_log(r'OPY0010 Exception in C-MOVE callback', since=mark)
    proxy.wait_log(r'RuntimeError: C-MOVE refused for RAISER', since=mark)
    assert proxy.count_log(r'OPY0010', since=mark) == 1


def test_move_unknown_study_fails(proxy):
    mark = proxy.log_mark()
    rc, out = move(proxy, '1.2.3.4.5.6.7')
    assert 'SubOperationsCompleteOneOrMoreFailures' in out, out
    proxy.wait_log(r'LookupError: no study 1\.2\.3\.4\.5\.6\.7', since=mark)
    assert proxy.count_log(r'OPY0010', since=mark) == 1


def test_move_bad_return_value_ignored(proxy):
    mark = proxy.log_mark()
    rc, out = move(proxy, proxy.study, aet='BADRETURN')
    assert rc == 0, out
    assert 'Received Final Move Response (Success)' in out
    assert proxy.count_log(r'OPY0010', since=mark) == 0
    assert proxy.get('/system')[0] == 200


# ------------------------------------------------------------ RegisterMoveCallback2

@pytest.fixture(scope='module')
def mover(orthanc_factory, target):
    srv = orthanc_factory(orthanc_factory.script('cb_scp_move2.py'), config=dict(
        ALLOW, DicomModalities={'target': ['TARGET', '127.0.0.1', target.port]}))
    study = dicomgen.new_uid()
    sops = []
    for n in range(3):
        ds = dicomgen.make_dataset(patient_id='MOVE2', study_uid=study, instance_number=n + 1)
        srv.upload(dicomgen.to_bytes(ds))
        sops.append(ds.SOPInstanceUID)
    srv.study, srv.sops = study, sops
    return srv


def state(srv):
    return srv.get_json('/move2/state')


def test_move2_one_suboperation_per_instance(mover, target):
    mark = mover.log_mark()
    rc, out = move(mover, mover.study)
    assert rc == 0, out
    assert 'Received Final Move Response (Success)' in out
    target.wait_for(mover.sops)
    s = state(mover)
    assert s['created'][-1]['StudyInstanceUID'] == mover.study
    assert s['created'][-1]['Level'] == 'STUDY'
    assert s['applied'].count('MOVESCU') == 3
    assert s['freed'][-1] == ['MOVESCU', 3]
    assert mover.count_log(r'OPY0010', since=mark) == 0


def test_move2_registration_rules(mover):
    s = state(mover)
    assert s['move_after_move2'].startswith('RuntimeError:')
    assert s['second_move2'].startswith('RuntimeError:')


def test_move2_create_raises(mover):
    mark = mover.log_mark()
    rc, out = move(mover, mover.study, aet='RAISECREATE')
    assert 'Failed: UnableToProcess' in out, out
    mover.wait_log(r'OPY0010 Exception in C-MOVE create callback', since=mark)
    assert mover.count_log(r'OPY0010', since=mark) == 1
    s = state(mover)
    assert 'RAISECREATE' not in s['sizes'] + s['applied'] + [f[0] for f in s['freed']]


@pytest.mark.parametrize('aet,error', [('BADSIZE', r'TypeError: the getMoveSize callback must '
                                                   r'return an int, not str'),
                                       ('NEGSIZE', r'ValueError: the getMoveSize callback must '
                                                   r'return an int in \[0, 4294967295\], not -1')])
def test_move2_bad_size(mover, aet, error):
    mark = mover.log_mark()
    rc, out = move(mover, mover.study, aet=aet)
    assert 'Received Final Move Response (Success)' not in out
    assert 'SubOperationsCompleteOneOrMoreFailures' in out, out
    mover.wait_log(r'OPY0010 Exception in C-MOVE getMoveSize callback', since=mark)
    mover.wait_log(error, since=mark)
    assert mover.count_log(r'OPY0010', since=mark) == 1
    s = state(mover)
    assert aet not in s['applied']
    assert [aet, 0] in s['freed']


def test_move2_apply_raises(mover):
    mark = mover.log_mark()
    rc, out = move(mover, mover.study, aet='RAISEAPPLY')
    assert 'SubOperationsCompleteOneOrMoreFailures' in out, out
    mover.wait_log(r'OPY0010 Exception in C-MOVE applyMove callback', since=mark)
    mover.wait_log(r'RuntimeError: sub-operation 1 failed', since=mark)
    s = state(mover)
    # Orthanc 1.10.1 stops the C-MOVE at the first failed sub-operation
    assert s['applied'].count('RAISEAPPLY') == 2
    assert mover.count_log(r'OPY0010', since=mark) == 1
    assert s['freed'][-1] == ['RAISEAPPLY', 1]
    assert mover.get('/system')[0] == 200
