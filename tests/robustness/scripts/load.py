# SPDX-License-Identifier: GPL-3.0-or-later
# Load test (tests/robustness/test_load.py): a small Python route hammered by
# many keep-alive connections, while instances are uploaded and counted by
# the OnStoredInstance and OnChange callbacks.
import json
import threading

import orthanc

LOCK = threading.Lock()
COUNTS = {'stored': 0, 'new_instance': 0, 'route': 0}


def OnStored(instance, instanceId):
    with LOCK:
        COUNTS['stored'] += 1


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.NEW_INSTANCE:
        with LOCK:
            COUNTS['new_instance'] += 1


def Hello(output, uri, **request):
    with LOCK:
        COUNTS['route'] += 1
    output.AnswerBuffer('ok %s\n' % request['method'], 'text/plain')


def Counters(output, uri, **request):
    with LOCK:
        text = json.dumps(COUNTS)
    output.AnswerBuffer(text, 'application/json')


orthanc.RegisterOnStoredInstanceCallback(OnStored)
orthanc.RegisterOnChangeCallback(OnChange)
orthanc.RegisterRestCallback('/load', Hello)
orthanc.RegisterRestCallback('/load-counters', Counters)
