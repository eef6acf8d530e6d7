# SPDX-License-Identifier: GPL-3.0-or-later
# Streamed answer (Orthanc 1.12.6 or newer): GET /export.csv sends one line per
# instance as soon as it is known, without building the whole answer in memory.
import json

import orthanc


def ExportCsv(output, uri, **request):
    def lines():
        yield 'instance,patient\n'
        for instance in json.loads(orthanc.RestApiGet('/instances')):
            tags = json.loads(orthanc.RestApiGet('/instances/%s/simplified-tags' % instance))
            yield '%s,%s\n' % (instance, tags.get('PatientID', ''))

    return orthanc.StreamedAnswer(lines(), 'text/csv')


orthanc.RegisterRestCallback('/export.csv', ExportCsv)
