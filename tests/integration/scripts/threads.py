# SPDX-License-Identifier: GPL-3.0-or-later
# A Python route that calls back into Orthanc: concurrent clients must all be
# answered.
import orthanc


def System(output, uri, **request):
    output.AnswerBuffer(orthanc.RestApiGet('/system'), 'application/json')


orthanc.RegisterRestCallback('/mt/system', System)
