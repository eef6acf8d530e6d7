# Plugin script of test_memory.py: a route that takes a body and builds an
# answer from it, as plugins do.
import orthanc


def Echo(output, uri, **request):
    body = request.get('body', b'')
    output.SetHttpHeader('X-Length', str(len(body)))
    output.AnswerBuffer(body[:16] + b'|' + request['headers'].get('x-tag', '').encode(), 'text/plain')


orthanc.RegisterRestCallback('/memory/echo', Echo)
