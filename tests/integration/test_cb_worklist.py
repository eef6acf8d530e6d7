# SPDX-License-Identifier: GPL-3.0-or-later
"""Worklist family (docs/callbacks/worklist.md): the seed sample "Handling
worklist SCP requests" with .wl files made here by pydicom, a RIS bridge fed
over REST, and the error rules, through dcmtk's findscu -W."""

import io
import json

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

import dicomgen
import harness
import seedcheck
from scp_tools import dcmtk, find_answers

WORKLIST_FIND = '1.2.840.10008.5.1.4.31'
ALLOW = {'DicomAlwaysAllowFindWorklist': True}


def worklist_file(path, patient_id, modality):
    """A modality worklist item as a DICOM Part 10 file (as dump2dcm writes them)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = WORKLIST_FIND
    meta.MediaStorageSOPInstanceUID = dicomgen.new_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = dicomgen.IMPLEMENTATION_UID
    ds = pydicom.dataset.FileDataset(str(path), Dataset(), file_meta=meta, preamble=b'\0' * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SpecificCharacterSet = 'ISO_IR 100'
    ds.PatientName = 'Worklist^%s' % patient_id
    ds.PatientID = patient_id
    ds.AccessionNumber = 'WL-%s' % patient_id
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = 'SCANNER'
    step.ScheduledProcedureStepStartDate = '20240115'
    ds.ScheduledProcedureStepSequence = [step]
    ds.save_as(str(path), write_like_original=False)
    return path


def worklist_query(srv, *keys, aet='FINDSCU'):
    args = ['findscu', '-v', '-W', '-aet', aet]
    for k in keys:
        args += ['-k', k]
    return dcmtk(*(args + ['127.0.0.1', srv.dicom_port]))


def modalities(out):
    return [a.get('(0008,0060)') for a in find_answers(out)]


# ------------------------------------------------------------ seed sample

def test_seed_script_is_verbatim():
    seedcheck.seed_sample_check('cb_worklist_seed.py', {'@WORKLIST_DIR@': '/tmp/WorklistsDatabase'})


@pytest.fixture(scope='module')
def seed(orthanc_factory, tmp_path_factory):
    wl = tmp_path_factory.mktemp('WorklistsDatabase')
    worklist_file(wl / 'mr1.wl', 'WL-1', 'MR')
    worklist_file(wl / 'mr2.wl', 'WL-2', 'MR')
    worklist_file(wl / 'ct1.wl', 'WL-3', 'CT')
    worklist_file(wl / 'mr3.txt', 'WL-4', 'MR')     # not a .wl file: ignored
    return orthanc_factory(orthanc_factory.script('cb_worklist_seed.py'), config=ALLOW,
                           subst={'WORKLIST_DIR': wl})


def test_seed_two_mr_answers(seed):
    mark, out_mark = seed.log_mark(), seed.out_mark()
    rc, out = worklist_query(seed, 'ScheduledProcedureStepSequence[0].Modality=MR')
    assert rc == 0, out
    assert modalities(out) == ['MR', 'MR'], out
    for answer in find_answers(out):
        assert answer['(0008,0005)'] == 'ISO_IR 100'
        assert set(answer) == {'(0008,0005)', '(0008,0060)'}, out
    assert 'Find Response: 2 (Pending)' in out
    assert 'Received Final Find Response (Success)' in out
    seed.wait_out(harness.bare(r'Received incoming C-FIND worklist request from FINDSCU:'),
                  since=out_mark)
    seed.wait_log(r'C-FIND worklist request to be handled in Python: \{', since=mark)
    seed.wait_log(r'Matching worklist: mr[12]\.wl', since=mark, count=2)
    assert seed.count_log(r'Matching worklist: ct1\.wl', since=mark) == 0
    assert seed.count_log(r'OPY0010', since=mark) == 0


def test_seed_ct_answer(seed):
    rc, out = worklist_query(seed, 'ScheduledProcedureStepSequence[0].Modality=CT',
                             'PatientID=')
    assert rc == 0, out
    answers = find_answers(out)
    assert [(a['(0008,0060)'], a['(0010,0020)'].strip()) for a in answers] == [('CT', 'WL-3')]


# ------------------------------------------------------------ RIS bridge

@pytest.fixture(scope='module')
def ris(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('cb_worklist.py'), config=ALLOW)
    for n, (pid, modality) in enumerate([('RIS-1', 'MR'), ('RIS-2', 'CT'), ('RIS-3', 'MR')]):
        status, _, body = srv.post('/ris/items', json.dumps({
            'PatientID': pid, 'PatientName': 'Ris^%d' % n, 'AccessionNumber': 'ACC%d' % n,
            'ScheduledProcedureStepSequence': [{'Modality': modality,
                                                'ScheduledStationAETitle': 'SCANNER'}]}))
        assert status == 200, body
    return srv


def test_ris_answers(ris):
    mark = ris.log_mark()
    rc, out = worklist_query(ris, 'ScheduledProcedureStepSequence[0].Modality=MR',
                             'PatientID=', 'AccessionNumber=', aet='MRI1')
    assert rc == 0, out
    got = sorted((a['(0010,0020)'].strip(), a['(0008,0050)'].strip(), a['(0008,0060)'])
                 for a in find_answers(out))
    assert got == [('RIS-1', 'ACC0', 'MR'), ('RIS-3', 'ACC2', 'MR')], out
    assert 'Received Final Find Response (Success)' in out
    last = ris.get_json('/ris/calls')[-1]
    assert (last['issuer'], last['called']) == ('MRI1', 'ANY-SCP')
    assert last['query']['0040,0100'][0]['0008,0060'] == 'MR'
    assert ris.count_log(r'OPY0010', since=mark) == 0


def test_ris_mark_incomplete(ris):
    rc, out = worklist_query(ris, 'ScheduledProcedureStepSequence[0].Modality=MR', aet='LIMITED')
    assert modalities(out) == ['MR'], out
    assert 'Received Final Find Response (Cancel: MatchingTerminatedDueToCancelRequest)' in out


def test_ris_raises(ris):
    mark = ris.log_mark()
    rc, out = worklist_query(ris, 'ScheduledProcedureStepSequence[0].Modality=MR', aet='RAISER')
    assert find_answers(out) == [], out
    assert 'Received Final Find Response (Failed: UnableToProcess)' in out
    ris.wait_log(r'OPY0010 Exception in worklist callback', since=mark)
    ris.wait_log(r'RuntimeError: worklist refused for RAISER', since=mark)
    assert ris.count_log(r'OPY0010', since=mark) == 1
    rc, out = worklist_query(ris, 'ScheduledProcedureStepSequence[0].Modality=CT')
    assert modalities(out) == ['CT'], out


def test_ris_bad_return_value_ignored(ris):
    mark = ris.log_mark()
    rc, out = worklist_query(ris, 'ScheduledProcedureStepSequence[0].Modality=MR',
                             aet='BADRETURN')
    assert rc == 0, out
    assert find_answers(out) == []
    assert 'Received Final Find Response (Success)' in out
    assert ris.count_log(r'OPY0010', since=mark) == 0


def test_ris_handles_borrowed_and_registration(ris):
    worklist_query(ris, 'ScheduledProcedureStepSequence[0].Modality=CT')
    result = ris.get_json('/ris/stale')
    assert result['answers'].startswith('ValueError') and 'WorklistAnswers' in result['answers']
    assert result['query'].startswith('ValueError') and 'WorklistQuery' in result['query']
    assert result['late'].startswith('RuntimeError')
    status, _, body = ris.get('/ris/second')
    assert body.startswith(b'RuntimeError: orthanc.RegisterWorklistCallback(): a worklist '
                           b'callback is already registered')
