# Incoming DICOM instance filters (all origins) and C-STORE filters, two of
# each; the behaviour follows the PatientID prefix of the instance.
import json

import orthanc

SEEN = []


def patient_id(instance):
    return json.loads(instance.GetInstanceSimplifiedJson()).get('PatientID', '')


class NoTruth:
    def __bool__(self):
        raise ValueError('this result has no truth value')


def DicomFilter1(instance):
    pid = patient_id(instance)
    print('dicom filter 1: %s origin=%d' % (pid, instance.GetInstanceOrigin()))
    if pid.startswith('DENY1-'):
        return False
    if pid.startswith('DRAISE-'):
        raise RuntimeError('dicom filter fails on purpose for %s' % pid)
    if pid.startswith('DBAD-'):
        return NoTruth()
    return True


def DicomFilter2(instance):
    pid = patient_id(instance)
    print('dicom filter 2: %s' % pid)
    return not pid.startswith('DENY2-')


def CStoreFilter1(instance):
    pid = patient_id(instance)
    print('c-store filter 1: %s aet=%s' % (pid, instance.GetInstanceRemoteAet()))
    if pid.startswith('FULL-'):
        return 0xA702
    if pid.startswith('CRAISE-'):
        raise RuntimeError('c-store filter fails on purpose for %s' % pid)
    if pid.startswith('CSTR-'):
        return 'no'
    if pid.startswith('CBOOL-'):
        return True
    if pid.startswith('CRANGE-'):
        return 0x10000
    return 0


def CStoreFilter2(instance):
    pid = patient_id(instance)
    print('c-store filter 2: %s' % pid)
    if pid.startswith('CDENY2-'):
        return 0xC123
    return 0


STASHED = []


def Stash(instance):
    STASHED.append(instance)
    return True


def UseStashed(output, uri, **request):
    try:
        STASHED[-1].GetInstanceSize()
        output.AnswerBuffer('usable', 'text/plain')
    except ValueError as e:
        output.AnswerBuffer('ValueError: %s' % e, 'text/plain')


orthanc.RegisterIncomingDicomInstanceFilter(DicomFilter1)
orthanc.RegisterIncomingDicomInstanceFilter(DicomFilter2)
orthanc.RegisterIncomingDicomInstanceFilter(Stash)
orthanc.RegisterIncomingCStoreInstanceFilter(CStoreFilter1)
orthanc.RegisterIncomingCStoreInstanceFilter(CStoreFilter2)
orthanc.RegisterRestCallback('/filters/stashed', UseStashed)
