# SPDX-License-Identifier: GPL-3.0-or-later
# C-FIND and C-MOVE SCP answered from Orthanc's own database through its REST
# API (tests of RegisterFindCallback / RegisterMoveCallback). The behaviour on
# errors is chosen by the calling AET: RAISER raises, BADRETURN returns a
# value that Orthanc must ignore, LIMITED gets one answer marked incomplete.
import json

import orthanc

CALLS = {'find': [], 'move': []}
REGISTRATION = {}
KEPT = {}
LEVELS = {'PATIENT': 'Patient', 'STUDY': 'Study', 'SERIES': 'Series', 'IMAGE': 'Instance'}


def OnFind(answers, query, issuerAet, calledAet):
    tags = {}
    for i in range(query.GetFindQuerySize()):
        tags[query.GetFindQueryTagName(i)] = {
            'group': query.GetFindQueryTagGroup(i),
            'element': query.GetFindQueryTagElement(i),
            'value': query.GetFindQueryValue(i),
        }
    CALLS['find'].append({'issuer': issuerAet, 'called': calledAet, 'tags': tags})
    KEPT['answers'], KEPT['query'] = answers, query
    if issuerAet == 'RAISER':
        raise RuntimeError('C-FIND refused for %s' % issuerAet)
    if issuerAet == 'BADRETURN':
        return 'not a status'

    level = tags.get('QueryRetrieveLevel', {}).get('value', 'STUDY')
    constraints = {name: t['value'] for name, t in tags.items()
                   if name not in ('QueryRetrieveLevel', 'SpecificCharacterSet') and t['value']}
    found = json.loads(orthanc.RestApiPost('/tools/find', json.dumps({
        'Level': LEVELS[level], 'Query': constraints, 'Expand': True})))
    for n, resource in enumerate(found):
        if issuerAet == 'LIMITED' and n == 1:
            answers.FindMarkIncomplete()
            break
        known = dict(resource.get('PatientMainDicomTags', {}), **resource['MainDicomTags'])
        answer = {'QueryRetrieveLevel': level}
        for name in tags:
            if name in known:
                answer[name] = known[name]
        answers.FindAddAnswer(orthanc.CreateDicom(json.dumps(answer), None,
                                                  orthanc.CreateDicomFlags.NONE))


def OnMove(**request):
    CALLS['move'].append(request)
    if request['OriginatorAET'] == 'RAISER':
        raise RuntimeError('C-MOVE refused for %s' % request['OriginatorAET'])
    if request['OriginatorAET'] == 'BADRETURN':
        return 12
    studies = [r['ID'] for r in json.loads(orthanc.RestApiPost(
        '/tools/lookup', request['StudyInstanceUID'])) if r['Type'] == 'Study']
    if not studies:
        raise LookupError('no study %s' % request['StudyInstanceUID'])
    modalities = json.loads(orthanc.RestApiGet('/modalities?expand'))
    target = [name for name, m in modalities.items() if m['AET'] == request['TargetAET']]
    if not target:
        raise LookupError('unknown target AET %s' % request['TargetAET'])
    orthanc.RestApiPost('/modalities/%s/store' % target[0],
                        json.dumps({'Resources': studies, 'Synchronous': True}))


def attempt(name, register):
    try:
        register()
        REGISTRATION[name] = 'accepted'
    except Exception as e:
        REGISTRATION[name] = '%s: %s' % (type(e).__name__, e)


def Calls(output, uri, **request):
    output.AnswerBuffer(json.dumps({'calls': CALLS, 'registration': REGISTRATION}),
                        'application/json')


def Stale(output, uri, **request):
    # The handles of the last C-FIND, used after their callback returned
    result = {}
    for name, use in (('answers', lambda: KEPT['answers'].FindMarkIncomplete()),
                      ('query', lambda: KEPT['query'].GetFindQuerySize())):
        try:
            use()
            result[name] = 'usable'
        except Exception as e:
            result[name] = '%s: %s' % (type(e).__name__, e)
    attempt('late_find', lambda: orthanc.RegisterFindCallback(OnFind))
    output.AnswerBuffer(json.dumps(result), 'application/json')


orthanc.RegisterFindCallback(OnFind)
orthanc.RegisterMoveCallback(OnMove)
attempt('second_find', lambda: orthanc.RegisterFindCallback(OnFind))
attempt('second_move', lambda: orthanc.RegisterMoveCallback(OnMove))
attempt('move2_after_move', lambda: orthanc.RegisterMoveCallback2(OnMove, OnMove, OnMove, OnMove))
attempt('not_callable', lambda: orthanc.RegisterFindCallback(42))
orthanc.RegisterRestCallback('/scp/calls', Calls)
orthanc.RegisterRestCallback('/scp/stale', Stale)
