# Storage area with range reads (RegisterStorageArea2), in memory, with a
# fault switch: POST /storage2/mode with one of MODES.
import json
import threading

import orthanc

FILES = {}
LOCK = threading.Lock()
STATS = {'create': 0, 'whole': 0, 'range': 0, 'remove': 0, 'ranges': []}
MODE = 'ok'
MODES = ('ok', 'create-raises', 'whole-raises', 'whole-str', 'whole-none',
         'range-raises', 'range-short', 'range-str', 'remove-raises', 'orthanc-exception',
         'range-orthanc-exception')


def OnCreate(uuid, contentType, data):
    if MODE == 'create-raises':
        raise RuntimeError('create refused on purpose')
    with LOCK:
        FILES[(uuid, contentType)] = bytes(data)
        STATS['create'] += 1


def OnReadWhole(uuid, contentType):
    with LOCK:
        STATS['whole'] += 1
        data = FILES[(uuid, contentType)]
    if MODE == 'whole-raises':
        raise RuntimeError('readWhole refused on purpose')
    if MODE == 'orthanc-exception':
        raise orthanc.OrthancException(orthanc.ErrorCode.UNKNOWN_RESOURCE, 'gone')
    if MODE == 'whole-str':
        return 'not bytes'
    if MODE == 'whole-none':
        return None
    return memoryview(bytearray(data))


def OnReadRange(uuid, contentType, rangeStart, size):
    with LOCK:
        STATS['range'] += 1
        STATS['ranges'].append([contentType, rangeStart, size])
        data = FILES[(uuid, contentType)]
    print('storage2 range read type=%d start=%d size=%d' % (contentType, rangeStart, size))
    if MODE == 'range-raises':
        raise RuntimeError('readRange refused on purpose')
    if MODE == 'range-short':
        return data[rangeStart:rangeStart + size - 1]
    if MODE == 'range-str':
        return 'x' * size
    if MODE == 'range-orthanc-exception':
        raise orthanc.OrthancException(orthanc.ErrorCode.UNKNOWN_RESOURCE, 'gone')
    return data[rangeStart:rangeStart + size]


def OnRemove(uuid, contentType):
    if MODE == 'remove-raises':
        raise RuntimeError('remove refused on purpose')
    with LOCK:
        del FILES[(uuid, contentType)]
        STATS['remove'] += 1


def Mode(output, uri, **request):
    global MODE
    if request['method'] == 'POST':
        mode = request['body'].decode()
        if mode not in MODES:
            output.SendHttpStatus(400, 'unknown mode')
            return
        MODE = mode
    output.AnswerBuffer(MODE, 'text/plain')


def Stats(output, uri, **request):
    with LOCK:
        answer = dict(STATS, files=len(FILES))
    output.AnswerBuffer(json.dumps(answer), 'application/json')


orthanc.RegisterStorageArea2(OnCreate, OnReadWhole, OnReadRange, OnRemove)
orthanc.RegisterRestCallback('/storage2/mode', Mode)
orthanc.RegisterRestCallback('/storage2/stats', Stats)
