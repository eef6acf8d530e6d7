# SPDX-License-Identifier: GPL-3.0-or-later
# Audit log handlers (tests/integration/test_audit_auth.py): two handlers in
# order, the first raising on some records; a slow one never holds the
# emitting thread.
import json
import threading
import time

import orthanc

SEEN = []
LOCK = threading.Lock()


def First(source, user, level, resource, action, data):
    if action == 'boom':
        raise RuntimeError('audit-handler-boom')
    with LOCK:
        SEEN.append(['first', source, user, level, resource, action, data.hex(),
                     threading.current_thread() is threading.main_thread()])


def Second(source, user, level, resource, action, data):
    if action == 'slow':
        time.sleep(0.5)
    with LOCK:
        SEEN.append(['second', action])


def Emit(output, uri, **request):
    records = json.loads(request['body'])
    start = time.monotonic()
    for r in records:
        orthanc.EmitAuditLog(r['source'], r['user'], r['level'], r['resource'], r['action'],
                             bytes.fromhex(r['data']))
    output.AnswerBuffer(json.dumps({'elapsed': time.monotonic() - start}), 'application/json')


def Seen(output, uri, **request):
    with LOCK:
        output.AnswerBuffer(json.dumps(SEEN), 'application/json')


orthanc.RegisterAuditLogHandler(First)
orthanc.RegisterAuditLogHandler(Second)
orthanc.RegisterRestCallback('/audit/emit', Emit)
orthanc.RegisterRestCallback('/audit/seen', Seen)
