# Plugin script of test_duplicate_route.py: the same route registered twice.
import orthanc


def First(output, uri, **request):
    output.AnswerBuffer('first', 'text/plain')


def Second(output, uri, **request):
    output.AnswerBuffer('second', 'text/plain')


orthanc.RegisterRestCallback('/dup', First)
orthanc.RegisterRestCallback('/dup', Second)
