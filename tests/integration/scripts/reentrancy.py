# Plugin script of test_reentrancy.py: a route that calls itself through the
# REST API of plugins, without any bound of its own.
import orthanc


def Recurse(output, uri, **request):
    n = int(request['groups'][0])
    try:
        answer = orthanc.RestApiGetAfterPlugins('/recurse/%d' % (n + 1))
        output.AnswerBuffer(answer, 'text/plain')
    except orthanc.OrthancException as e:
        output.AnswerBuffer('stopped at %d: %d %s' % (n, e.args[0], e.args[1]), 'text/plain')


def Register(output, uri, **request):
    try:
        orthanc.RegisterRestCallback('/late', Register)
        output.AnswerBuffer('registered?!', 'text/plain')
    except RuntimeError as e:
        output.AnswerBuffer('RuntimeError: %s' % e, 'text/plain')


orthanc.RegisterRestCallback('/recurse/([0-9]+)', Recurse)
orthanc.RegisterRestCallback('/register-late', Register)
