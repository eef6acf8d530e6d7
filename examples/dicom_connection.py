import json
import orthanc

def OnFind(answers, query, connection):
    print('C-FIND from %s (%s), calling %s' % (connection.GetConnectionRemoteAet(),
                                               connection.GetConnectionRemoteIp(),
                                               connection.GetConnectionCalledAet()))
    for i in range(query.GetFindQuerySize()):
        print('  %s = %s' % (query.GetFindQueryTagName(i), query.GetFindQueryValue(i)))

    answers.FindAddAnswer(orthanc.CreateDicom(json.dumps({
        'PatientID' : 'HELLO',
        'PatientName' : connection.GetConnectionRemoteAet(),
    }), None, orthanc.CreateDicomFlags.NONE))

orthanc.RegisterFindCallback2(OnFind)
