# SPDX-License-Identifier: GPL-3.0-or-later
# The Book's sample that asks a Web service whether a request is allowed,
# on the HTTP authentication callback of Orthanc 1.12.9 or newer: the
# service answers {"granted": true/false}, and Orthanc answers 403 when it
# says no (401 when the request has no token at all).
import json
import orthanc
import requests

def Authenticate(uri, **request):
    if 'authorization' not in request['headers']:
        return orthanc.HttpAuthenticationStatus.UNAUTHORIZED
    body = {
        'uri' : uri,
        'headers' : request['headers']
    }
    r = requests.post('http://localhost:@AUTHZ_PORT@/authorize',
                      data = json.dumps(body))
    if r.json() ['granted']:
        return orthanc.HttpAuthenticationStatus.GRANTED
    return orthanc.HttpAuthenticationStatus.FORBIDDEN

orthanc.RegisterHttpAuthentication(Authenticate)
