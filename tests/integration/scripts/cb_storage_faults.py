# RegisterStorageArea (whole reads only) on disk, with a fault switch:
# POST /storage/mode with one of MODES.
import os

import orthanc

MODE = 'ok'
MODES = ('ok', 'create-raises', 'read-raises', 'read-str', 'read-none', 'read-bytearray',
         'remove-raises')


def GetPath(uuid, contentType):
    return os.path.join('@WORKDIR@', 'area', '%d-%s' % (contentType, uuid))


def OnCreate(uuid, contentType, data):
    if MODE == 'create-raises':
        raise RuntimeError('create refused on purpose')
    assert isinstance(data, bytes)
    with open(GetPath(uuid, contentType), 'wb') as f:
        f.write(data)


def OnRead(uuid, contentType):
    with open(GetPath(uuid, contentType), 'rb') as f:
        data = f.read()
    if MODE == 'read-raises':
        raise RuntimeError('read refused on purpose')
    if MODE == 'read-str':
        return data.decode('latin-1')
    if MODE == 'read-none':
        return None
    if MODE == 'read-bytearray':
        return bytearray(data)
    return data


def OnRemove(uuid, contentType):
    if MODE == 'remove-raises':
        raise RuntimeError('remove refused on purpose')
    os.remove(GetPath(uuid, contentType))


def Mode(output, uri, **request):
    global MODE
    mode = request['body'].decode()
    if mode not in MODES:
        output.SendHttpStatus(400, 'unknown mode')
        return
    MODE = mode
    output.AnswerBuffer(MODE, 'text/plain')


os.makedirs(os.path.join('@WORKDIR@', 'area'), exist_ok=True)
orthanc.RegisterStorageArea(OnCreate, OnRead, OnRemove)
orthanc.RegisterRestCallback('/storage/mode', Mode)

for args in ((OnCreate, OnRead, OnRemove), (OnCreate, OnRead, None, OnRemove)):
    register = orthanc.RegisterStorageArea if len(args) == 3 else orthanc.RegisterStorageArea2
    try:
        register(*args)
    except RuntimeError as e:
        print('second storage area refused: %s' % e)
try:
    orthanc.RegisterStorageArea(OnCreate, 'not callable', OnRemove)
except TypeError as e:
    print('non-callable refused: %s' % e)
