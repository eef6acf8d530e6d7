# SPDX-License-Identifier: GPL-3.0-or-later
# Storage commitment SCP that commits only the instances Orthanc holds and
# that were backed up: the factory prefetches the state of every queried
# instance once, the lookup answers from that prefetch. Some SOP instance
# UIDs of the tests ask for failures: ...666 in a request makes the factory
# raise; ...777 makes the lookup raise; ...888, ...889 and ...890 make it
# return a bad value (a str, a bool, an int outside the enum); ...891 is
# reported RESOURCE_LIMITATION.
import json

import orthanc

Reason = orthanc.StorageCommitmentFailureReason
FACTORY_CALLS = []
LOOKUPS = []
BAD = {'888': 'SUCCESS', '889': True, '890': 99}


class Commitment:
    def __init__(self, transactionUid, sopInstanceUids):
        self.transactionUid = transactionUid
        self.stored = {}
        for sop in sopInstanceUids:
            for r in json.loads(orthanc.RestApiPost('/tools/lookup', sop)):
                if r['Type'] == 'Instance':
                    tags = json.loads(orthanc.RestApiGet(r['Path'] + '/simplified-tags'))
                    self.stored[sop] = tags['SOPClassUID']

    def __del__(self):
        orthanc.LogWarning('Commitment data released: %s' % self.transactionUid)


def CreateCommitment(jobId, transactionUid, sopClassUids, sopInstanceUids, remoteAet, calledAet):
    FACTORY_CALLS.append({'jobId': jobId, 'transactionUid': transactionUid,
                          'sopClassUids': sopClassUids, 'sopInstanceUids': sopInstanceUids,
                          'remoteAet': remoteAet, 'calledAet': calledAet})
    if any(uid.endswith('.666') for uid in sopInstanceUids):
        raise RuntimeError('storage commitment refused for %s' % transactionUid)
    return Commitment(transactionUid, sopInstanceUids)


def Lookup(sopClassUid, sopInstanceUid, data):
    LOOKUPS.append([sopClassUid, sopInstanceUid, type(data).__name__])
    suffix = sopInstanceUid.rsplit('.', 1)[-1]
    if suffix == '777':
        raise KeyError('lookup failed for %s' % sopInstanceUid)
    if suffix in BAD:
        return BAD[suffix]
    if suffix == '891':
        return Reason.RESOURCE_LIMITATION
    if sopInstanceUid not in data.stored:
        return Reason.NO_SUCH_OBJECT_INSTANCE
    if data.stored[sopInstanceUid] != sopClassUid:
        return Reason.CLASS_INSTANCE_CONFLICT
    return Reason.SUCCESS


def State(output, uri, **request):
    result = {'factory': FACTORY_CALLS, 'lookups': LOOKUPS}
    try:
        orthanc.RegisterStorageCommitmentScpCallback(CreateCommitment, Lookup)
        result['late'] = 'accepted'
    except Exception as e:
        result['late'] = '%s: %s' % (type(e).__name__, e)
    output.AnswerBuffer(json.dumps(result), 'application/json')


orthanc.RegisterStorageCommitmentScpCallback(factory=CreateCommitment, lookup=Lookup)
try:
    orthanc.RegisterStorageCommitmentScpCallback(CreateCommitment, Lookup)
    SECOND = 'accepted'
except Exception as e:
    SECOND = '%s: %s' % (type(e).__name__, e)
orthanc.RegisterRestCallback('/commitment/state', State)
orthanc.RegisterRestCallback('/commitment/second', lambda output, uri, **r: output.AnswerBuffer(
    SECOND, 'text/plain'))
