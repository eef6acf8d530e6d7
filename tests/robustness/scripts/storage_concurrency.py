# SPDX-License-Identifier: GPL-3.0-or-later
# A storage area in Python (RegisterStorageArea) used by uploads, reads and
# deletes at once (tests/robustness/test_storage_concurrency.py).  Each
# callback sleeps a little, to widen the windows where they overlap.
import threading
import time

import orthanc

FILES = {}
LOCK = threading.Lock()
CALLS = {'create': 0, 'read': 0, 'remove': 0}


def create(uuid, contentType, data):
    time.sleep(0.002)
    with LOCK:
        FILES[(uuid, contentType)] = bytes(data)
        CALLS['create'] += 1


def read(uuid, contentType):
    time.sleep(0.002)
    with LOCK:
        CALLS['read'] += 1
        return FILES[(uuid, contentType)]


def remove(uuid, contentType):
    time.sleep(0.002)
    with LOCK:
        FILES.pop((uuid, contentType), None)
        CALLS['remove'] += 1


orthanc.RegisterStorageArea(create, read, remove)


def Stats(output, uri, **request):
    import json
    with LOCK:
        body = json.dumps({'files': len(FILES), 'calls': CALLS})
    output.AnswerBuffer(body, 'application/json')


orthanc.RegisterRestCallback('/storage-stats', Stats)
