# Plugin script of test_reset.py: state that must start afresh each time
# Orthanc restarts itself (POST /tools/reset reloads the plugins).
import orthanc

N = [0]


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.ORTHANC_STARTED:
        orthanc.LogWarning('reset-test: started')
    elif changeType == orthanc.ChangeType.NEW_INSTANCE:
        orthanc.LogWarning('reset-test: new instance %s' % resource)


def Hello(output, uri, **request):
    N[0] += 1
    output.AnswerBuffer('hello %d %s' % (N[0], orthanc.RestApiGet('/system')[:1].decode()),
                        'text/plain')


orthanc.RegisterOnChangeCallback(OnChange)
orthanc.RegisterRestCallback('/reset-test/hello', Hello)
