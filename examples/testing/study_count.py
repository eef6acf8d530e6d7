# SPDX-License-Identifier: GPL-3.0-or-later
# The second example of docs/testing-your-plugin.md (tested with the fake module).
import json

import orthanc


def StudyCount(output, uri, **request):
    if request['method'] != 'GET':
        output.SendMethodNotAllowed('GET')
        return
    patient = json.loads(orthanc.RestApiGet('/patients/%s' % request['groups'][0]))
    orthanc.LogInfo('counting the studies of %s' % patient['ID'])
    answer = {'PatientID': patient['MainDicomTags'].get('PatientID'), 'Studies': len(patient['Studies'])}
    output.AnswerBuffer(json.dumps(answer), 'application/json')


orthanc.RegisterRestCallback('/patients/([^/]+)/study-count', StudyCount)
