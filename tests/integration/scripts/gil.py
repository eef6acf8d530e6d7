# Plugin script of test_gil.py: the GIL is released around SDK calls, and
# each Orthanc thread keeps one Python thread state.
import threading
import time
import orthanc

LOCAL = threading.local()


def Slow(output, uri, **request):
    # A core call that blocks about 2 s inside Orthanc: C-ECHO to a modality
    # that accepts the connection but never answers (2 s timeout).
    start = time.monotonic()
    try:
        orthanc.RestApiPost('/modalities/silent/echo', '{"Timeout": 2}')
    except orthanc.OrthancException:
        pass
    output.AnswerBuffer('%.3f' % (time.monotonic() - start), 'text/plain')


def Fast(output, uri, **request):
    output.AnswerBuffer('fast', 'text/plain')


def Counter(output, uri, **request):
    LOCAL.n = getattr(LOCAL, 'n', 0) + 1
    output.AnswerBuffer('%d %d' % (LOCAL.n, threading.get_ident()), 'text/plain')


orthanc.RegisterRestCallback('/gil/slow', Slow)
orthanc.RegisterRestCallback('/gil/fast', Fast)
orthanc.RegisterRestCallback('/gil/counter', Counter)
