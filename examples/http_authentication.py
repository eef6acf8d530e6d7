# SPDX-License-Identifier: GPL-3.0-or-later
# The Book's "Forbid or allow access to REST resources" on the HTTP
# authentication callback of Orthanc 1.12.9 or newer: the plugin decides
# for every request (Orthanc's own "RegisteredUsers" are then off), and
# what it says about the user reaches the REST callbacks.
import json
import orthanc

# Who holds which token (a real plugin would check a JWT, or ask a service)
TOKENS = {
    'alice-token': {'user': 'alice', 'groups': ['admin']},
    'bob-token': {'user': 'bob', 'groups': ['readers']},
}


def Authenticate(uri, **request):
    print('User trying to access URI: %s' % uri)
    if uri == '/system' or uri.startswith('/app/'):
        return True                                       # public
    if uri.startswith('/ui/'):
        return orthanc.HttpAuthenticationStatus.REDIRECT, '/app/login.html'
    token = request['headers'].get('authorization', '')
    who = TOKENS.get(token.removeprefix('Bearer '))
    if who is None:
        return orthanc.HttpAuthenticationStatus.UNAUTHORIZED   # 401
    if uri.startswith('/tools/') and 'admin' not in who['groups']:
        return orthanc.HttpAuthenticationStatus.FORBIDDEN      # 403
    return who                                            # granted, with who it is


def WhoAmI(output, uri, **request):
    who = json.loads(request.get('authenticationPayload', b'{}'))
    output.AnswerBuffer(json.dumps(who), 'application/json')


orthanc.RegisterHttpAuthentication(Authenticate)
orthanc.RegisterRestCallback('/whoami', WhoAmI)
