# Received-instance callback whose behaviour follows the PatientID prefix of
# the received instance, to exercise every return form and failure.
from io import BytesIO

from pydicom import dcmread

import orthanc

CALLS = []


def modified(dataset, patient_id):
    dataset.PatientID = patient_id
    out = BytesIO()
    dataset.save_as(out, write_like_original=False)
    return out.getvalue()


def OnReceived(receivedDicom, origin):
    dataset = dcmread(BytesIO(receivedDicom))
    pid = str(dataset.PatientID)
    print('received-instance callback: %s origin=%d type=%s' % (pid, origin, type(receivedDicom).__name__))
    if pid.startswith('RAISE-'):
        raise RuntimeError('received-instance callback fails on purpose for %s' % pid)
    if pid.startswith('NOTUPLE-'):
        return orthanc.ReceivedInstanceAction.KEEP_AS_IS
    if pid.startswith('BADACTION-'):
        return 42, None
    if pid.startswith('MODIFYNONE-'):
        return orthanc.ReceivedInstanceAction.MODIFY, None
    if pid.startswith('MODIFYSTR-'):
        return orthanc.ReceivedInstanceAction.MODIFY, 'not bytes'
    if pid.startswith('DISCARD-'):
        return orthanc.ReceivedInstanceAction.DISCARD, None
    if pid.startswith('MODIFY-'):
        # bytearray is accepted as well as bytes
        return orthanc.ReceivedInstanceAction.MODIFY, bytearray(modified(dataset, 'MODIFIED-' + pid))
    return orthanc.ReceivedInstanceAction.KEEP_AS_IS, None


orthanc.RegisterReceivedInstanceCallback(OnReceived)

try:
    orthanc.RegisterReceivedInstanceCallback(OnReceived)
except RuntimeError as e:
    print('second registration refused: %s' % e)
