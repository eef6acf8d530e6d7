# SPDX-License-Identifier: GPL-3.0-or-later
"""The DICOM SCP callbacks that receive the calling connection (SDK 1.12.10;
docs/callbacks.md, "DICOM SCP callbacks with the connection"):
RegisterFindCallback2 and RegisterWorklistCallback2 (findscu),
RegisterMoveCallback3 (movescu, a storescp target), and
RegisterStorageCommitmentScpCallback2 (a second Orthanc as storage
commitment SCU), each seeing the remote AET, remote IP and called AET through
its orthanc.DicomConnection; the connection expires with its callback;
exceptions fail the DICOM operation and are logged; the v1 and v2 forms
share their slots. On an Orthanc older than 1.12.10 (or a header without
them) these tests skip: test_sdk_versions.py checks that the registrations
refuse there."""

import json
import re
import time

import pytest

import dicomgen
import harness
from scp_tools import StoreScp, dcmtk, find_answers

NEWER = harness.sdk_versions() if (harness.plugin_path().parent / 'gen' / 'sdk_names.json').is_file() else {}
NAMES = ('RegisterFindCallback2', 'RegisterWorklistCallback2', 'RegisterMoveCallback3',
         'RegisterStorageCommitmentScpCallback2')
IN_HEADER = all(n in NEWER for n in NAMES)
needs_scp2 = pytest.mark.skipif(
    not IN_HEADER or NEWER[NAMES[0]] > harness.orthanc_version(),
    reason='the SCP callbacks with the connection need an SDK 1.12.10 header and Orthanc 1.12.10 '
           '(this is Orthanc %s)' % harness.orthanc_version_text())

ALLOW = {'DicomAlwaysAllowFind': True, 'DicomAlwaysAllowMove': True,
         'DicomAlwaysAllowFindWorklist': True}
SC = dicomgen.SECONDARY_CAPTURE
PROCESSING_FAILURE, NO_SUCH_OBJECT = 0x110, 0x112
SUCCESS = 'DIMSE Status                  : 0x0000: Success'     # movescu -d
EXPIRED = re.compile(r'ValueError: .*DicomConnection')


def test_connection_type_only_with_the_header():
    """orthanc.DicomConnection and the v2 registrations exist exactly when
    the build's header has them (names.txt and the stubs say what the module
    holds)."""
    gen = harness.plugin_path().parent / 'gen'
    names = (gen / 'names.txt').read_text().split()
    stubs = (harness.plugin_path().parent / 'orthanc.pyi').read_text()
    header_has = 'OrthancPluginDicomConnection' in harness.sdk_header().read_text(errors='replace')
    assert header_has == IN_HEADER
    assert ('DicomConnection' in names) == header_has
    assert ('class DicomConnection' in stubs) == header_has
    for name in NAMES:
        assert ('def %s(' % name in stubs) == header_has, name
    if header_has:
        assert {'DicomConnection.GetConnectionRemoteAet', 'DicomConnection.GetConnectionRemoteIp',
                'DicomConnection.GetConnectionCalledAet'} <= set(names)


# ------------------------------------------------------------ servers

@pytest.fixture(scope='module')
def target(tmp_path_factory):
    scp = StoreScp(tmp_path_factory.mktemp('target'), 'TARGET')
    yield scp
    scp.close()


@pytest.fixture(scope='module')
def servers(orthanc_factory, target):
    if not IN_HEADER or NEWER[NAMES[0]] > harness.orthanc_version():
        pytest.skip('needs SDK 1.12.10')
    scu = orthanc_factory(start=False, name='scu', plugins=[])
    scp = orthanc_factory(orthanc_factory.script('cb_scp2.py'), start=False, name='scp2',
                          config=dict(ALLOW, JobsHistorySize=1))
    scu.overrides.update({'DicomAet': 'SCUAET', 'DicomModalities': {
        'scp': ['SCP2AET', '127.0.0.1', scp.dicom_port]}})
    scp.overrides.update({'DicomAet': 'SCP2AET', 'DicomModalities': {
        'scu': ['SCUAET', '127.0.0.1', scu.dicom_port],
        'target': ['TARGET', '127.0.0.1', target.port]}})
    scu.start()
    scp.start()
    study = dicomgen.new_uid()
    sops = []
    for n in range(3):
        ds = dicomgen.make_dataset(patient_id='SCP2', study_uid=study, instance_number=n + 1)
        scp.upload(dicomgen.to_bytes(ds))
        sops.append(ds.SOPInstanceUID)
    scp.study, scp.sops = study, sops
    return {'scu': scu, 'scp': scp}


@pytest.fixture
def scp(servers):
    return servers['scp']


def state(srv):
    return srv.get_json('/scp2/state')


def find(srv, aet, called='OPYCALLED', worklist=False, keys=()):
    args = ['findscu', '-v', '-aet', aet, '-aec', called]
    args += ['-W'] if worklist else ['-S', '-k', 'QueryRetrieveLevel=STUDY']
    for k in keys:
        args += ['-k', k]
    return dcmtk(*(args + ['127.0.0.1', srv.dicom_port]))


def move(srv, aet, called='OPYMOVE'):
    return dcmtk('movescu', '-v', '-d', '127.0.0.1', srv.dicom_port, '-aem', 'TARGET',
                 '-aec', called, '-aet', aet, '-S', '-k', 'QueryRetrieveLevel=STUDY',
                 '-k', 'StudyInstanceUID=%s' % srv.study)


def suboperations(out):
    """The sub-operation counts of movescu's final response."""
    counts = {}
    for kind in ('Remaining', 'Completed', 'Failed', 'Warning'):
        found = re.findall(r'%s Suboperations\s*:\s*(\d+|none)' % kind, out)
        if found:
            counts[kind] = 0 if found[-1] == 'none' else int(found[-1])
    return counts


# ------------------------------------------------------------ C-FIND

@needs_scp2
def test_find2_sees_the_connection(scp):
    mark = scp.log_mark()
    rc, out = find(scp, 'FINDSCU2', keys=['PatientID=', 'AccessionNumber=', 'StudyDescription='])
    assert rc == 0, out
    assert 'Received Final Find Response (Success)' in out
    answer, = find_answers(out)
    assert answer['(0010,0020)'].strip() == 'FINDSCU2'
    assert answer['(0008,0050)'].strip() == 'OPYCALLED'
    assert answer['(0008,1030)'].strip() == '127.0.0.1'
    last = state(scp)['find'][-1]
    assert last == {'remote': 'FINDSCU2', 'ip': '127.0.0.1', 'called': 'OPYCALLED',
                    'type': 'DicomConnection', 'tags': last['tags']}
    assert last['tags']['QueryRetrieveLevel'] == 'STUDY'
    assert scp.count_log('OPY0010', since=mark) == 0


@needs_scp2
def test_find2_raises(scp):
    mark = scp.log_mark()
    rc, out = find(scp, 'RAISER')
    assert find_answers(out) == [], out
    assert 'Received Final Find Response (Failed: UnableToProcess)' in out
    scp.wait_log(r'OPY0010 Exception in C-FIND callback', since=mark)
    scp.wait_log(r'RuntimeError: C-FIND v2 refused for RAISER', since=mark)
    scp.wait_log(r'in OnFind', since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1
    rc, out = find(scp, 'AGAIN')
    assert len(find_answers(out)) == 1, out


# ------------------------------------------------------------ worklist

@needs_scp2
def test_worklist2_sees_the_connection(scp):
    mark = scp.log_mark()
    rc, out = find(scp, 'MRI2', called='WLSCP', worklist=True,
                   keys=['ScheduledProcedureStepSequence[0].Modality=MR', 'PatientID=',
                         'AccessionNumber='])
    assert rc == 0, out
    assert 'Received Final Find Response (Success)' in out
    answer, = find_answers(out)
    assert answer['(0010,0020)'].strip() == 'WL-MR-MRI2'
    assert answer['(0008,0050)'].strip() == 'WLSCP'
    assert state(scp)['worklist'][-1] == {'remote': 'MRI2', 'ip': '127.0.0.1', 'called': 'WLSCP'}
    assert scp.count_log('OPY0010', since=mark) == 0


@needs_scp2
def test_worklist2_raises(scp):
    mark = scp.log_mark()
    rc, out = find(scp, 'RAISER', worklist=True,
                   keys=['ScheduledProcedureStepSequence[0].Modality=MR'])
    assert find_answers(out) == [], out
    assert 'Received Final Find Response (Failed: UnableToProcess)' in out
    scp.wait_log(r'OPY0010 Exception in worklist callback', since=mark)
    scp.wait_log(r'RuntimeError: worklist v2 refused for RAISER', since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1


# ------------------------------------------------------------ C-MOVE

@needs_scp2
def test_move3_connection_keywords_and_suboperations(scp, target):
    mark = scp.log_mark()
    rc, out = move(scp, 'MOVESCU2')
    assert rc == 0, out
    assert SUCCESS in out, out
    assert suboperations(out) == {'Remaining': 0, 'Completed': 3, 'Failed': 0, 'Warning': 0}, out
    target.wait_for(scp.sops)
    s = state(scp)
    created = s['move'][-1]
    assert created['positional'] == ['DicomConnection']
    assert created['connection'] == {'remote': 'MOVESCU2', 'ip': '127.0.0.1', 'called': 'OPYMOVE'}
    assert created['request'] == {'Level': 'STUDY', 'PatientID': '', 'AccessionNumber': '',
                                  'StudyInstanceUID': scp.study, 'SeriesInstanceUID': '',
                                  'SOPInstanceUID': '', 'TargetAET': 'TARGET', 'OriginatorID': 1}
    assert s['sizes'].count('MOVESCU2') == 1
    applied = [a for a in s['applied'] if a[0] == 'MOVESCU2']
    assert len(applied) == 3
    # the connection of create, kept by the driver, has expired in apply_move
    for _aet, uses in applied:
        assert all(EXPIRED.match(v) for v in uses.values()), uses
    assert s['freed'][-1] == ['MOVESCU2', 3]
    assert scp.count_log('OPY0010', since=mark) == 0


@needs_scp2
def test_move3_create_raises(scp):
    mark = scp.log_mark()
    rc, out = move(scp, 'RAISECREATE')
    assert SUCCESS not in out
    assert 'Failed' in out, out
    scp.wait_log(r'OPY0010 Exception in C-MOVE create callback', since=mark)
    scp.wait_log(r'RuntimeError: cannot create a C-MOVE driver for RAISECREATE', since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1
    s = state(scp)
    assert 'RAISECREATE' not in s['sizes'] + [a[0] for a in s['applied']] + [f[0] for f in s['freed']]


@needs_scp2
def test_move3_bad_size(scp):
    mark = scp.log_mark()
    rc, out = move(scp, 'BADSIZE')
    assert SUCCESS not in out
    assert 'SubOperationsCompleteOneOrMoreFailures' in out, out
    scp.wait_log(r'OPY0010 Exception in C-MOVE get_move_size callback', since=mark)
    scp.wait_log(r'TypeError: the get_move_size callback must return an int, not str', since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1
    assert ['BADSIZE', 0] in state(scp)['freed']


@needs_scp2
def test_move3_apply_raises(scp):
    mark = scp.log_mark()
    rc, out = move(scp, 'RAISEAPPLY')
    assert 'SubOperationsCompleteOneOrMoreFailures' in out, out
    # Orthanc ends the C-MOVE at the failed sub-operation: no further
    # apply_move; the SCU's counts are Orthanc's (1.13.0: 2 completed, 1 failed)
    counts = suboperations(out)
    assert counts['Failed'] == 1 and counts['Remaining'] == 0, out
    scp.wait_log(r'OPY0010 Exception in C-MOVE apply_move callback', since=mark)
    scp.wait_log(r'RuntimeError: sub-operation 1 failed', since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1
    s = state(scp)
    assert [a[0] for a in s['applied']].count('RAISEAPPLY') == 2
    assert s['freed'][-1] == ['RAISEAPPLY', 1]


# ------------------------------------------------------------ storage commitment

def commit(scu, pairs, timeout=30):
    status, _, body = scu.post('/modalities/scp/storage-commitment',
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


@needs_scp2
def test_commitment2_factory_sees_the_connection(servers):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, absent = scp.sops[0], dicomgen.new_uid()
    report = commit(scu, [(SC, present), (SC, absent)])
    assert {s['SOPInstanceUID'] for s in report['Success']} == {present}
    assert failures(report) == {absent: NO_SUCH_OBJECT}
    s = state(scp)
    call, = [c for c in s['factory'] if c['transactionUid'] == report['uid']]
    assert call['connection'] == {'remote': 'SCUAET', 'ip': '127.0.0.1', 'called': 'SCP2AET'}
    assert call['sopClassUids'] == [SC, SC] and call['sopInstanceUids'] == [present, absent]
    assert scp.get_json('/jobs/%s' % call['jobId'])['Type'] == 'StorageCommitmentScp'
    # the connection of the factory, kept in its data, has expired in the lookups
    uses = [u for sop, u in s['lookups'] if sop in (present, absent)]
    assert len(uses) == 2
    for u in uses:
        assert all(EXPIRED.match(v) for v in u.values()), u
    assert scp.count_log('OPY0010', since=mark) == 0


@needs_scp2
def test_commitment2_factory_raises(servers):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, bad = scp.sops[1], dicomgen.new_uid() + '.666'
    report = commit(scu, [(SC, present), (SC, bad)])
    # fail closed: never committed, never left to Orthanc's own lookup
    assert report['Status'] == 'Failure' and report['Success'] == []
    assert failures(report) == {present: PROCESSING_FAILURE, bad: PROCESSING_FAILURE}
    scp.wait_log(r'OPY0010 Exception in storage commitment factory \(every instance reported '
                 r'as PROCESSING_FAILURE\)', since=mark)
    scp.wait_log(r'RuntimeError: storage commitment v2 refused for %s' % report['uid'], since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1


@needs_scp2
def test_commitment2_lookup_raises(servers):
    scp, scu = servers['scp'], servers['scu']
    mark = scp.log_mark()
    present, bad = scp.sops[2], dicomgen.new_uid() + '.777'
    report = commit(scu, [(SC, bad), (SC, present)])
    assert {s['SOPInstanceUID'] for s in report['Success']} == {present}
    assert failures(report) == {bad: PROCESSING_FAILURE}
    scp.wait_log(r'OPY0010 Exception in storage commitment lookup of %s' % re.escape(bad),
                 since=mark)
    scp.wait_log(r'KeyError: .lookup failed for %s.' % re.escape(bad), since=mark)
    assert scp.count_log('OPY0010', since=mark) == 1


# ------------------------------------------------------------ lifetime, registration

@needs_scp2
def test_stale_connections_raise(scp):
    find(scp, 'KEEPER')
    result = scp.get_json('/scp2/stale')
    for family in ('find', 'worklist', 'move', 'commitment'):
        assert family in result, result
        for method, text in result[family].items():
            assert EXPIRED.match(text), (family, method, text)
            assert 'used after its callback returned' in text, text
        assert result['repr'][family] == '<orthanc.DicomConnection (expired)>'
    assert scp.get('/system')[0] == 200


@needs_scp2
def test_registration_rules(scp):
    scp.get_json('/scp2/stale')
    reg = state(scp)['registration']
    already = 'is already registered (only one can be registered)'
    assert reg['second_find2'] == ('RuntimeError: orthanc.RegisterFindCallback2(): a C-FIND '
                                   'callback ' + already)
    assert reg['find_after_find2'] == ('RuntimeError: orthanc.RegisterFindCallback(): a C-FIND '
                                       'callback ' + already)
    assert reg['worklist_after_worklist2'] == ('RuntimeError: orthanc.RegisterWorklistCallback(): '
                                               'a worklist callback ' + already)
    assert reg['second_worklist2'] == ('RuntimeError: orthanc.RegisterWorklistCallback2(): a '
                                       'worklist callback ' + already)
    for name, fname in (('move_after_move3', 'RegisterMoveCallback'),
                        ('move2_after_move3', 'RegisterMoveCallback2'),
                        ('second_move3', 'RegisterMoveCallback3')):
        assert reg[name] == 'RuntimeError: orthanc.%s(): a C-MOVE callback %s' % (fname, already)
    for name, fname in (('commitment_after_commitment2', 'RegisterStorageCommitmentScpCallback'),
                        ('second_commitment2', 'RegisterStorageCommitmentScpCallback2')):
        assert reg[name] == ('RuntimeError: orthanc.%s(): a storage commitment SCP callback %s'
                             % (fname, already))
    assert reg['not_callable'].startswith('TypeError: orthanc.RegisterWorklistCallback2() '
                                          'expects a callable'), reg
    assert reg['move3_three_args'].startswith('TypeError:'), reg
    assert reg['late_find2'].startswith('RuntimeError: orthanc.RegisterFindCallback2() can only '
                                        'be called while the plugin script is imported'), reg


@pytest.fixture(scope='module')
def slots(orthanc_factory):
    if not IN_HEADER or NEWER[NAMES[0]] > harness.orthanc_version():
        pytest.skip('needs SDK 1.12.10')
    return orthanc_factory(orthanc_factory.script('cb_scp2_slots.py'), config=ALLOW, name='slots')


@needs_scp2
def test_v1_first_then_v2_refused(slots):
    reg = slots.get_json('/slots/state')['registration']
    already = 'is already registered (only one can be registered)'
    assert reg['worklist2_after_worklist'] == ('RuntimeError: orthanc.RegisterWorklistCallback2(): '
                                               'a worklist callback ' + already)
    assert reg['move3_after_move'] == ('RuntimeError: orthanc.RegisterMoveCallback3(): a C-MOVE '
                                       'callback ' + already)
    assert reg['commitment2_after_commitment'] == (
        'RuntimeError: orthanc.RegisterStorageCommitmentScpCallback2(): a storage commitment SCP '
        'callback ' + already)
    assert reg['find'] == 'accepted'


@needs_scp2
def test_find_v1_then_v2_refused(slots):
    # one C-FIND slot: Orthanc accepts one handler (v1 or v2); the v1 one answers
    reg = slots.get_json('/slots/state')['registration']
    assert reg['find2_after_find'] == ('RuntimeError: orthanc.RegisterFindCallback2(): a C-FIND '
                                       'callback is already registered (only one can be '
                                       'registered)')
    rc, out = find(slots, 'BOTH')
    assert rc == 0, out
    assert slots.get_json('/slots/state')['calls'] == [['v1', 'BOTH']]


# ------------------------------------------------------------ the sample

def test_sample_is_verbatim():
    assert (harness.REPO / 'examples' / 'dicom_connection.py').read_text() == \
        harness.script_text('dicom_connection.py')


@needs_scp2
def test_sample(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('dicom_connection.py'), config=ALLOW,
                          name='sample')
    out_mark = srv.out_mark()
    rc, out = find(srv, 'SAMPLESCU', called='SAMPLESCP', keys=['PatientName=', 'PatientID=TEST'])
    assert rc == 0, out
    answer, = find_answers(out)
    assert answer['(0010,0010)'].strip() == 'SAMPLESCU'
    assert answer['(0010,0020)'].strip() == 'HELLO'
    srv.wait_out(harness.bare(r'C-FIND from SAMPLESCU \(127\.0\.0\.1\), calling SAMPLESCP'),
                 since=out_mark)
    srv.wait_out(harness.bare(r'  PatientID = TEST'), since=out_mark)
    assert srv.count_log('OPY0010') == 0
