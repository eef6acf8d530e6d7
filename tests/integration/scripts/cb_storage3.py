# SPDX-License-Identifier: GPL-3.0-or-later
# Storage area v3 (RegisterStorageArea3, custom data), in memory, with a
# fault switch per callback: POST /storage3/mode {"create": ..., "read": ...,
# "remove": ...}. tests/integration/test_cb_storage3.py.
import json
import threading

import orthanc

FILES = {}
LOCK = threading.Lock()
CALLS = {'create': [], 'read': [], 'remove': []}
MODE = {'create': 'ok', 'read': 'ok', 'remove': 'ok'}
KEPT = []


def custom_for(uuid):
    return ('custom-' + uuid).encode()


def OnCreate(uuid, content_type, compression_type, content, dicom_instance):
    mode = MODE['create']
    with LOCK:
        CALLS['create'].append({
            'uuid': uuid, 'content_type': content_type, 'compression_type': compression_type,
            'size': len(content), 'content_is_bytes': type(content) is bytes,
            'instance': None if dicom_instance is None else type(dicom_instance).__name__,
            'instance_size': None if dicom_instance is None else dicom_instance.GetInstanceSize(),
        })
    if mode == 'raises':
        raise RuntimeError('create refused on purpose')
    if mode == 'code':
        return (orthanc.ErrorCode.FULL_STORAGE, None)
    if mode == 'plain-code':
        return orthanc.ErrorCode.FULL_STORAGE
    if mode == 'bad-shape':
        return [0, None]
    if mode == 'bad-custom':
        return (0, 'a str is not custom data')
    if mode == 'bad-code':
        return ('0', None)
    if mode == 'keep-instance':
        KEPT.append(dicom_instance)
    with LOCK:
        FILES[uuid] = bytes(content)
    if mode == 'plain-none':
        return None
    if mode == 'plain-bytes':
        return bytearray(custom_for(uuid))
    if mode == 'empty':
        return (0, b'')
    if mode == 'none':
        return (0, None)
    return (0, custom_for(uuid))


def OnRead(uuid, content_type, range_start, size, custom_data):
    mode = MODE['read']
    with LOCK:
        CALLS['read'].append({'uuid': uuid, 'content_type': content_type, 'start': range_start,
                              'size': size, 'custom_data': custom_data.decode('latin-1'),
                              'custom_is_bytes': type(custom_data) is bytes})
        data = FILES.get(uuid)
    if mode == 'raises':
        raise RuntimeError('read refused on purpose')
    if data is None or mode == 'code':
        return (orthanc.ErrorCode.UNKNOWN_RESOURCE, None)
    if mode == 'plain-code':
        return orthanc.ErrorCode.UNKNOWN_RESOURCE
    if mode == 'short':
        return (0, data[range_start:range_start + size - 1])
    if mode == 'none':
        return (0, None)
    if mode == 'bad-shape':
        return 'a str'
    if mode == 'plain-bytes':
        return memoryview(data)[range_start:range_start + size]
    return (0, data[range_start:range_start + size])


def OnRemove(uuid, content_type, custom_data):
    mode = MODE['remove']
    with LOCK:
        CALLS['remove'].append({'uuid': uuid, 'content_type': content_type,
                                'custom_data': custom_data.decode('latin-1')})
    if mode == 'raises':
        raise RuntimeError('remove refused on purpose')
    if mode == 'code':
        return orthanc.ErrorCode.UNKNOWN_RESOURCE
    if mode == 'bad-shape':
        return 'removed'
    with LOCK:
        FILES.pop(uuid, None)
    if mode == 'none':
        return None
    return 0


def Mode(output, uri, **request):
    MODE.update(json.loads(request['body']))
    output.AnswerBuffer(json.dumps(MODE), 'application/json')


def Calls(output, uri, **request):
    with LOCK:
        answer = dict(CALLS, files=sorted(FILES))
        if request['method'] == 'DELETE':
            for calls in CALLS.values():
                del calls[:]
    output.AnswerBuffer(json.dumps(answer), 'application/json')


def CustomData(output, uri, **request):
    uuid = request['groups'][0]
    try:
        if request['method'] == 'PUT':
            orthanc.SetAttachmentCustomData(uuid, request['body'])
        value = orthanc.GetAttachmentCustomData(uuid)
        answer = {'value': value.decode('latin-1'), 'type': type(value).__name__}
    except orthanc.OrthancException as e:
        answer = {'exc': 'OrthancException', 'code': e.args[0]}
    output.AnswerBuffer(json.dumps(answer), 'application/json')


def RegisterLate(output, uri, **request):
    try:
        orthanc.RegisterStorageArea3(OnCreate, OnRead, OnRemove)
        answer = 'registered'
    except RuntimeError as e:
        answer = 'RuntimeError: %s' % e
    output.AnswerBuffer(answer, 'text/plain')


def Kept(output, uri, **request):
    try:
        KEPT[-1].GetInstanceSize()
        answer = 'usable'
    except ValueError as e:
        answer = 'ValueError: %s' % e
    output.AnswerBuffer(answer, 'text/plain')


for args in [(OnCreate, OnRead), (OnCreate, 'not callable', OnRemove)]:
    try:
        orthanc.RegisterStorageArea3(*args)
    except TypeError as e:
        print('refused before registering: %s' % e)
orthanc.RegisterStorageArea3(OnCreate, OnRead, OnRemove)
for register, args in [(orthanc.RegisterStorageArea3, (OnCreate, OnRead, OnRemove)),
                       (orthanc.RegisterStorageArea, (OnCreate, OnRead, OnRemove)),
                       (orthanc.RegisterStorageArea2, (OnCreate, OnRead, None, OnRemove))]:
    try:
        register(*args)
    except RuntimeError as e:
        print('second storage area refused: %s' % e)
orthanc.RegisterRestCallback('/storage3/mode', Mode)
orthanc.RegisterRestCallback('/storage3/calls', Calls)
orthanc.RegisterRestCallback('/storage3/custom-data/(.*)', CustomData)
orthanc.RegisterRestCallback('/storage3/kept', Kept)
orthanc.RegisterRestCallback('/storage3/register-late', RegisterLate)
