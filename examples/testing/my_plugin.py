# SPDX-License-Identifier: GPL-3.0-or-later
# An Orthanc Python plugin script to test (docs/testing-your-plugin.md):
# a REST route that asks Orthanc's own REST API, and a change callback.
import json

import orthanc


def PatientsCount(output, uri, **request):
    patients = json.loads(orthanc.RestApiGet('/patients'))
    output.AnswerBuffer(json.dumps({'count': len(patients)}), 'application/json')


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.NEW_INSTANCE:
        print('New instance: %s' % resource)


orthanc.RegisterRestCallback('/patients-count', PatientsCount)
orthanc.RegisterOnChangeCallback(OnChange)
