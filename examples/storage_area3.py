# SPDX-License-Identifier: GPL-3.0-or-later
# Storage area with custom data (Orthanc 1.12.8 or newer): each attachment is
# a file of the working folder, and the name of that file is kept in Orthanc's
# database as the attachment's custom data, so read and remove find it there.
import os

import orthanc


def OnCreate(uuid, content_type, compression_type, content, dicom_instance):
    # dicom_instance is None for the attachments that are not DICOM files
    kind = 'dicom' if dicom_instance is not None else 'other'
    path = 'storage3-%s-%s' % (kind, uuid)
    with open(path, 'wb') as f:
        f.write(content)
    return (orthanc.ErrorCode.SUCCESS, path.encode())


def OnRead(uuid, content_type, range_start, size, custom_data):
    try:
        with open(custom_data.decode(), 'rb') as f:
            f.seek(range_start)
            return (orthanc.ErrorCode.SUCCESS, f.read(size))
    except FileNotFoundError:
        return (orthanc.ErrorCode.UNKNOWN_RESOURCE, None)


def OnRemove(uuid, content_type, custom_data):
    os.remove(custom_data.decode())
    return orthanc.ErrorCode.SUCCESS


orthanc.RegisterStorageArea3(OnCreate, OnRead, OnRemove)
