# SPDX-License-Identifier: GPL-3.0-or-later
# The v1 DICOM SCP registrations first, then their v2 forms, which share
# their slots (C-FIND, worklist, C-MOVE, storage commitment) and must be
# refused. The v1 C-FIND callback still answers.
import json

import orthanc

STATE = {'registration': {}, 'calls': []}


def attempt(name, register):
    try:
        register()
        STATE['registration'][name] = 'accepted'
    except Exception as e:
        STATE['registration'][name] = '%s: %s' % (type(e).__name__, e)


def OnFind(answers, query, issuerAet, calledAet):
    STATE['calls'].append(['v1', issuerAet])


def OnFind2(answers, query, connection):
    STATE['calls'].append(['v2', connection.GetConnectionRemoteAet()])


def ignore(*args, **kwargs):
    return None


orthanc.RegisterWorklistCallback(ignore)
orthanc.RegisterMoveCallback(ignore)
orthanc.RegisterStorageCommitmentScpCallback(ignore, ignore)
attempt('worklist2_after_worklist', lambda: orthanc.RegisterWorklistCallback2(ignore))
attempt('move3_after_move', lambda: orthanc.RegisterMoveCallback3(ignore, ignore, ignore, ignore))
attempt('commitment2_after_commitment', lambda: orthanc.RegisterStorageCommitmentScpCallback2(
    ignore, ignore))
attempt('find', lambda: orthanc.RegisterFindCallback(OnFind))
attempt('find2_after_find', lambda: orthanc.RegisterFindCallback2(OnFind2))
orthanc.RegisterRestCallback('/slots/state', lambda output, uri, **r: output.AnswerBuffer(
    json.dumps(STATE), 'application/json'))
