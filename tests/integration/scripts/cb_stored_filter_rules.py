# Plugin script of test_cb_stored_filter.py: several callables per family,
# exceptions, bad return values and objects kept after their callback.
import orthanc

CALLS = []
KEPT = []


def First(dicom, instanceId):
    CALLS.append('first %s' % instanceId)
    KEPT.append(dicom)


def Raises(dicom, instanceId):
    CALLS.append('raises')
    raise RuntimeError('stored-callback-boom')


def Second(dicom, instanceId):
    CALLS.append('second %d' % dicom.GetInstanceSize())
    return {'a bad': 'return value'}            # ignored: the return value is unused


orthanc.RegisterOnStoredInstanceCallback(First)
orthanc.RegisterOnStoredInstanceCallback(Raises)
orthanc.RegisterOnStoredInstanceCallback(Second)


class NoTruth:
    def __bool__(self):
        raise ValueError('no truth value')


def AllowMost(uri, **request):
    return not uri.startswith('/denied-by-first')


def Picky(uri, **request):
    if uri.startswith('/filter-raises'):
        raise RuntimeError('filter-boom')
    if uri.startswith('/filter-bad-return'):
        return NoTruth()
    if uri.startswith('/denied-by-second'):
        return 0
    return 'yes'            # any true value allows


orthanc.RegisterIncomingHttpRequestFilter(AllowMost)
orthanc.RegisterIncomingHttpRequestFilter(Picky)


def Report(output, uri, **request):
    used = []
    for d in KEPT:
        try:
            d.GetInstanceSize()
            used.append('usable')
        except ValueError as e:
            used.append(str(e))
    output.AnswerBuffer('\n'.join(CALLS + used), 'text/plain')


orthanc.RegisterRestCallback('/report', Report)


def AnswersThenReturnsGarbage(output, uri, **request):
    output.AnswerBuffer('answered', 'text/plain')
    return object()                             # ignored


def OnChange(changeType, level, resource):
    return 42                                   # ignored


orthanc.RegisterRestCallback('/returns-garbage', AnswersThenReturnsGarbage)
orthanc.RegisterOnChangeCallback(OnChange)
