# SPDX-License-Identifier: GPL-3.0-or-later
# AdoptDicomInstance with a storage area v3 (tests/integration/
# test_cb_storage3.py): adopted files stay where they are; their custom data
# says where, and the storage area reads them from there.
import json

import orthanc

STORED = {}             # uuid -> bytes: the attachments Orthanc hands to create
LOG = []


def OnCreate(uuid, content_type, compression_type, content, dicom_instance):
    STORED[uuid] = bytes(content)
    LOG.append(['create', content_type])
    return (orthanc.ErrorCode.SUCCESS, b'stored')


def OnRead(uuid, content_type, range_start, size, custom_data):
    if custom_data.startswith(b'adopted:'):
        with open(custom_data[len(b'adopted:'):].decode(), 'rb') as f:
            f.seek(range_start)
            return (orthanc.ErrorCode.SUCCESS, f.read(size))
    return (orthanc.ErrorCode.SUCCESS, STORED[uuid][range_start:range_start + size])


def OnRemove(uuid, content_type, custom_data):
    LOG.append(['remove', content_type, custom_data.decode()])
    if not custom_data.startswith(b'adopted:'):
        STORED.pop(uuid, None)
    return orthanc.ErrorCode.SUCCESS


def Adopt(output, uri, **request):
    path = request['body'].decode()
    with open(path, 'rb') as f:
        dicom = f.read()
    instance, attachment, status = orthanc.AdoptDicomInstance(dicom, b'adopted:' + path.encode())
    custom = None
    if status == orthanc.StoreStatus.SUCCESS:
        custom = orthanc.GetAttachmentCustomData(attachment).decode()
    output.AnswerBuffer(json.dumps({'instance': instance, 'attachment': attachment, 'status': status,
                                    'custom': custom}), 'application/json')


def Log(output, uri, **request):
    output.AnswerBuffer(json.dumps(LOG), 'application/json')


orthanc.RegisterStorageArea3(OnCreate, OnRead, OnRemove)
orthanc.RegisterRestCallback('/adopt', Adopt)
orthanc.RegisterRestCallback('/adopt-log', Log)
