# SPDX-License-Identifier: GPL-3.0-or-later
# The DICOM SCP callbacks that receive the calling connection (SDK 1.12.10):
# RegisterFindCallback2, RegisterWorklistCallback2, RegisterMoveCallback3
# and RegisterStorageCommitmentScpCallback2, each recording what the
# orthanc.DicomConnection tells (remote AET, remote IP, called AET) and
# keeping the connection to use it after its callback (it must refuse).
# The calling AET chooses a failure: RAISER (C-FIND, worklist), RAISECREATE,
# BADSIZE, RAISEAPPLY (C-MOVE); a SOP instance UID ending in .666 makes the
# storage commitment factory raise, .777 the lookup.
import json

import orthanc

STATE = {'find': [], 'worklist': [], 'move': [], 'sizes': [], 'applied': [], 'freed': [],
         'factory': [], 'lookups': [], 'registration': {}}
KEPT = {}
Reason = orthanc.StorageCommitmentFailureReason


def describe(connection):
    return {'remote': connection.GetConnectionRemoteAet(),
            'ip': connection.GetConnectionRemoteIp(),
            'called': connection.GetConnectionCalledAet()}


def use_stale(connection):
    """What each method of an expired connection does."""
    result = {}
    for name in ('GetConnectionRemoteAet', 'GetConnectionRemoteIp', 'GetConnectionCalledAet'):
        try:
            result[name] = 'returned %r' % getattr(connection, name)()
        except Exception as e:
            result[name] = '%s: %s' % (type(e).__name__, e)
    return result


# ------------------------------------------------------------ C-FIND

def OnFind(answers, query, connection):
    seen = describe(connection)
    seen['type'] = type(connection).__name__
    seen['tags'] = {query.GetFindQueryTagName(i): query.GetFindQueryValue(i)
                    for i in range(query.GetFindQuerySize())}
    STATE['find'].append(seen)
    KEPT['find'] = connection
    if seen['remote'] == 'RAISER':
        raise RuntimeError('C-FIND v2 refused for %s' % seen['remote'])
    answers.FindAddAnswer(orthanc.CreateDicom(json.dumps({
        'QueryRetrieveLevel': 'STUDY', 'PatientID': seen['remote'],
        'AccessionNumber': seen['called'], 'StudyDescription': seen['ip']}),
        None, orthanc.CreateDicomFlags.NONE))


# ------------------------------------------------------------ worklist

def OnWorklist(answers, query, connection):
    seen = describe(connection)
    STATE['worklist'].append(seen)
    KEPT['worklist'] = connection
    if seen['remote'] == 'RAISER':
        raise RuntimeError('worklist v2 refused for %s' % seen['remote'])
    for modality in ('MR', 'CT'):
        item = orthanc.CreateDicom(json.dumps({
            'PatientID': 'WL-%s-%s' % (modality, seen['remote']), 'PatientName': 'Worklist^2',
            'AccessionNumber': seen['called'],
            'ScheduledProcedureStepSequence': [{'Modality': modality,
                                                'ScheduledStationAETitle': seen['remote']}]}),
            None, orthanc.CreateDicomFlags.NONE)
        if query.WorklistIsMatch(item):
            answers.WorklistAddAnswer(query, item)


# ------------------------------------------------------------ C-MOVE

class MoveDriver:
    def __init__(self, connection, request):
        self.connection = connection        # kept on purpose: expired in apply_move
        self.aet = describe(connection)['remote']
        self.instances = []
        for r in json.loads(orthanc.RestApiPost('/tools/lookup', request['StudyInstanceUID'])):
            if r['Type'] == 'Study':
                self.instances += [i['ID'] for i in json.loads(
                    orthanc.RestApiGet('/studies/%s/instances' % r['ID']))]
        modalities = json.loads(orthanc.RestApiGet('/modalities?expand'))
        self.target = [n for n, m in modalities.items() if m['AET'] == request['TargetAET']][0]
        self.sent = 0


def CreateMove(*args, **request):
    seen = describe(args[0])
    STATE['move'].append({'connection': seen, 'positional': [type(a).__name__ for a in args],
                          'request': request})
    KEPT['move'] = args[0]
    if seen['remote'] == 'RAISECREATE':
        raise RuntimeError('cannot create a C-MOVE driver for %s' % seen['remote'])
    return MoveDriver(args[0], request)


def GetMoveSize(driver):
    STATE['sizes'].append(driver.aet)
    if driver.aet == 'BADSIZE':
        return 'three'
    return len(driver.instances)


def ApplyMove(driver):
    STATE['applied'].append([driver.aet, use_stale(driver.connection)])
    if driver.aet == 'RAISEAPPLY' and driver.sent == 1:
        raise RuntimeError('sub-operation %d failed' % driver.sent)
    orthanc.RestApiPost('/modalities/%s/store' % driver.target, json.dumps(
        {'Resources': [driver.instances[driver.sent]], 'Synchronous': True}))
    driver.sent += 1


def FreeMove(driver):
    STATE['freed'].append([driver.aet, driver.sent])


# ------------------------------------------------------------ storage commitment

class Commitment:
    def __init__(self, connection, sopInstanceUids):
        self.connection = connection        # kept on purpose: expired in lookup
        self.stored = set()
        for sop in sopInstanceUids:
            if any(r['Type'] == 'Instance'
                   for r in json.loads(orthanc.RestApiPost('/tools/lookup', sop))):
                self.stored.add(sop)


def CreateCommitment(jobId, transactionUid, sopClassUids, sopInstanceUids, connection):
    seen = describe(connection)
    STATE['factory'].append({'jobId': jobId, 'transactionUid': transactionUid,
                             'sopClassUids': sopClassUids, 'sopInstanceUids': sopInstanceUids,
                             'connection': seen})
    KEPT['commitment'] = connection
    if any(uid.endswith('.666') for uid in sopInstanceUids):
        raise RuntimeError('storage commitment v2 refused for %s' % transactionUid)
    return Commitment(connection, sopInstanceUids)


def Lookup(sopClassUid, sopInstanceUid, data):
    STATE['lookups'].append([sopInstanceUid, use_stale(data.connection)])
    if sopInstanceUid.endswith('.777'):
        raise KeyError('lookup failed for %s' % sopInstanceUid)
    return Reason.SUCCESS if sopInstanceUid in data.stored else Reason.NO_SUCH_OBJECT_INSTANCE


# ------------------------------------------------------------ registration

def attempt(name, register):
    try:
        register()
        STATE['registration'][name] = 'accepted'
    except Exception as e:
        STATE['registration'][name] = '%s: %s' % (type(e).__name__, e)


def State(output, uri, **request):
    output.AnswerBuffer(json.dumps(STATE), 'application/json')


def Stale(output, uri, **request):
    result = {name: use_stale(connection) for name, connection in KEPT.items()}
    result['repr'] = {name: repr(connection) for name, connection in KEPT.items()}
    attempt('late_find2', lambda: orthanc.RegisterFindCallback2(OnFind))
    output.AnswerBuffer(json.dumps(result), 'application/json')


orthanc.RegisterFindCallback2(OnFind)
orthanc.RegisterWorklistCallback2(callback=OnWorklist)
orthanc.RegisterMoveCallback3(CreateMove, GetMoveSize, ApplyMove, FreeMove)
orthanc.RegisterStorageCommitmentScpCallback2(CreateCommitment, Lookup)
attempt('second_find2', lambda: orthanc.RegisterFindCallback2(OnFind))
attempt('find_after_find2', lambda: orthanc.RegisterFindCallback(OnFind))
attempt('worklist_after_worklist2', lambda: orthanc.RegisterWorklistCallback(OnWorklist))
attempt('second_worklist2', lambda: orthanc.RegisterWorklistCallback2(OnWorklist))
attempt('move_after_move3', lambda: orthanc.RegisterMoveCallback(CreateMove))
attempt('move2_after_move3', lambda: orthanc.RegisterMoveCallback2(
    CreateMove, GetMoveSize, ApplyMove, FreeMove))
attempt('second_move3', lambda: orthanc.RegisterMoveCallback3(
    callback=CreateMove, get_move_size=GetMoveSize, apply_move=ApplyMove, free_move=FreeMove))
attempt('commitment_after_commitment2', lambda: orthanc.RegisterStorageCommitmentScpCallback(
    CreateCommitment, Lookup))
attempt('second_commitment2', lambda: orthanc.RegisterStorageCommitmentScpCallback2(
    factory=CreateCommitment, lookup=Lookup))
attempt('not_callable', lambda: orthanc.RegisterWorklistCallback2(42))
attempt('move3_three_args', lambda: orthanc.RegisterMoveCallback3(CreateMove, GetMoveSize, ApplyMove))
orthanc.RegisterRestCallback('/scp2/state', State)
orthanc.RegisterRestCallback('/scp2/stale', Stale)
