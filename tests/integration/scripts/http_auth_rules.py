# SPDX-License-Identifier: GPL-3.0-or-later
# What an HTTP authentication callback may answer, and that it fails closed
# (tests/integration/test_audit_auth.py). URIs under /rules/ pick the answer.
import json

import orthanc

S = orthanc.HttpAuthenticationStatus
ANSWERS = {
    '/rules/true': True,
    '/rules/false': False,
    '/rules/none': None,
    '/rules/granted': S.GRANTED,
    '/rules/forbidden': S.FORBIDDEN,
    '/rules/unauthorized': S.UNAUTHORIZED,
    '/rules/tuple-payload': (S.GRANTED, b'raw \x00 payload'),
    '/rules/str-payload': (S.GRANTED, 'text payload'),
    '/rules/dict-payload': {'user': 'carol', 'groups': ['g1', 'g2']},
    '/rules/dict-status': {'status': S.FORBIDDEN},
    '/rules/dict-redirect': {'status': S.REDIRECT, 'redirect': '/app/from-dict.html'},
    '/rules/redirect': (S.REDIRECT, '/app/login.html'),
    '/rules/redirect-no-path': S.REDIRECT,
    '/rules/bad-type': 'yes',
    '/rules/bad-value': 17,
    '/rules/bad-tuple': (S.GRANTED, b'a', b'b'),
    '/rules/bad-payload': (S.GRANTED, object()),
}
SEEN = []


def Authenticate(uri, **request):
    if uri == '/rules/raise':
        raise RuntimeError('auth-callback-boom')
    if uri.startswith('/rules/'):
        SEEN.append([uri, request['ip'], request['headers'].get('x-probe'), request['get']])
        return ANSWERS[uri]
    return True


def Echo(output, uri, **request):
    payload = request.get('authenticationPayload')
    output.AnswerBuffer(json.dumps({'payload': None if payload is None else payload.hex(),
                                    'keys': sorted(request)}), 'application/json')


def Seen(output, uri, **request):
    output.AnswerBuffer(json.dumps(SEEN), 'application/json')


orthanc.RegisterHttpAuthentication(Authenticate)
try:
    orthanc.RegisterHttpAuthentication(Authenticate)
except RuntimeError as e:
    print('second registration: %s' % e)
orthanc.RegisterRestCallback('/rules/(.*)', Echo)
orthanc.RegisterRestCallback('/seen', Seen)
