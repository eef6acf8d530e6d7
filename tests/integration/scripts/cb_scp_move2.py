# SPDX-License-Identifier: GPL-3.0-or-later
# C-MOVE SCP with the driver model of RegisterMoveCallback2: one sub-operation
# per instance of the requested study, each sent to the target modality
# through Orthanc's REST API. The calling AET chooses a failure: RAISECREATE,
# BADSIZE (getMoveSize returns a str), NEGSIZE (returns -1), RAISEAPPLY (the
# second sub-operation raises).
import json

import orthanc

STATE = {'created': [], 'sizes': [], 'applied': [], 'freed': []}


class MoveDriver:
    def __init__(self, request):
        self.request = request
        self.aet = request['OriginatorAET']
        self.instances = []
        for r in json.loads(orthanc.RestApiPost('/tools/lookup', request['StudyInstanceUID'])):
            if r['Type'] == 'Study':
                self.instances += [i['ID'] for i in json.loads(
                    orthanc.RestApiGet('/studies/%s/instances' % r['ID']))]
        modalities = json.loads(orthanc.RestApiGet('/modalities?expand'))
        self.target = [n for n, m in modalities.items() if m['AET'] == request['TargetAET']][0]
        self.sent = 0


def CreateMove(**request):
    STATE['created'].append(request)
    if request['OriginatorAET'] == 'RAISECREATE':
        raise RuntimeError('cannot create a driver')
    return MoveDriver(request)


def GetMoveSize(driver):
    STATE['sizes'].append(driver.aet)
    if driver.aet == 'BADSIZE':
        return 'three'
    if driver.aet == 'NEGSIZE':
        return -1
    return len(driver.instances)


def ApplyMove(driver):
    STATE['applied'].append(driver.aet)
    if driver.aet == 'RAISEAPPLY' and driver.sent == 1:
        raise RuntimeError('sub-operation %d failed' % driver.sent)
    orthanc.RestApiPost('/modalities/%s/store' % driver.target, json.dumps(
        {'Resources': [driver.instances[driver.sent]], 'Synchronous': True}))
    driver.sent += 1


def FreeMove(driver):
    STATE['freed'].append([driver.aet, driver.sent])


def State(output, uri, **request):
    output.AnswerBuffer(json.dumps(STATE), 'application/json')


orthanc.RegisterMoveCallback2(create=CreateMove, getMoveSize=GetMoveSize, applyMove=ApplyMove,
                              free=FreeMove)
for name, register in (('move_after_move2', lambda: orthanc.RegisterMoveCallback(CreateMove)),
                       ('second_move2', lambda: orthanc.RegisterMoveCallback2(
                           CreateMove, GetMoveSize, ApplyMove, FreeMove))):
    try:
        register()
        STATE[name] = 'accepted'
    except Exception as e:
        STATE[name] = '%s: %s' % (type(e).__name__, e)
orthanc.RegisterRestCallback('/move2/state', State)
