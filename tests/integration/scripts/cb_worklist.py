# SPDX-License-Identifier: GPL-3.0-or-later
# A small RIS bridge: worklist items are posted as JSON to /ris/items (as a
# HL7 or FHIR feed would deliver them), kept as DICOM in memory, and served
# to the modalities by the worklist C-FIND SCP (RegisterWorklistCallback).
# The calling AET chooses a behaviour: RAISER raises, BADRETURN returns a
# value that Orthanc must ignore, LIMITED gets one answer marked incomplete.
import json

import orthanc

ITEMS = []
CALLS = []
KEPT = {}


def AddItem(output, uri, **request):
    if request['method'] != 'POST':
        output.SendMethodNotAllowed('POST')
        return
    item = json.loads(request['body'])
    ITEMS.append(orthanc.CreateDicom(json.dumps(item), None, orthanc.CreateDicomFlags.NONE))
    output.AnswerBuffer(json.dumps({'count': len(ITEMS)}), 'application/json')


def OnWorklist(answers, query, issuerAet, calledAet):
    tags = json.loads(orthanc.DicomBufferToJson(query.WorklistGetDicomQuery(),
                                                orthanc.DicomToJsonFormat.SHORT,
                                                orthanc.DicomToJsonFlags.NONE, 0))
    CALLS.append({'issuer': issuerAet, 'called': calledAet, 'query': tags})
    KEPT['answers'], KEPT['query'] = answers, query
    if issuerAet == 'RAISER':
        raise RuntimeError('worklist refused for %s' % issuerAet)
    if issuerAet == 'BADRETURN':
        return ['not', 'a', 'status']
    sent = 0
    for item in ITEMS:
        if query.WorklistIsMatch(item):
            if issuerAet == 'LIMITED' and sent == 1:
                answers.WorklistMarkIncomplete()
                break
            answers.WorklistAddAnswer(query, item)
            sent += 1


def Calls(output, uri, **request):
    output.AnswerBuffer(json.dumps(CALLS), 'application/json')


def Stale(output, uri, **request):
    result = {}
    for name, use in (('answers', lambda: KEPT['answers'].WorklistMarkIncomplete()),
                      ('query', lambda: KEPT['query'].WorklistGetDicomQuery())):
        try:
            use()
            result[name] = 'usable'
        except Exception as e:
            result[name] = '%s: %s' % (type(e).__name__, e)
    try:
        orthanc.RegisterWorklistCallback(OnWorklist)
        result['late'] = 'accepted'
    except Exception as e:
        result['late'] = '%s: %s' % (type(e).__name__, e)
    output.AnswerBuffer(json.dumps(result), 'application/json')


orthanc.RegisterWorklistCallback(OnWorklist)
try:
    orthanc.RegisterWorklistCallback(OnWorklist)
    SECOND = 'accepted'
except Exception as e:
    SECOND = '%s: %s' % (type(e).__name__, e)
orthanc.RegisterRestCallback('/ris/items', AddItem)
orthanc.RegisterRestCallback('/ris/calls', Calls)
orthanc.RegisterRestCallback('/ris/stale', Stale)
orthanc.RegisterRestCallback('/ris/second', lambda output, uri, **r: output.AnswerBuffer(
    SECOND, 'text/plain'))
