# SPDX-License-Identifier: GPL-3.0-or-later
# Call conventions of the orthanc module, probed from inside the server; the
# routes answer JSON that the tests check.
import json
import logging
import sys
import threading

import orthanc

print('conv-import-print-marker')
print('conv-import-stderr-marker', file=sys.stderr)
orthanc.LogWarning('conv-import-warning-marker')

LAST = {}
STASH = []


def Echo(output, uri, **request):
    info = {
        'uri': uri,
        'uri_type': type(uri).__name__,
        'keys': sorted(request.keys()),
        'types': {k: type(v).__name__ for k, v in request.items()},
        'method': request.get('method'),
        'groups': list(request['groups']) if 'groups' in request else None,
        'get': request.get('get'),
        'headers': request.get('headers'),
        'header_value_types': sorted({type(v).__name__ for v in request.get('headers', {}).values()}),
    }
    if 'body' in request:
        info['body_hex'] = bytes(request['body']).hex()
    LAST[str(request.get('method'))] = info
    output.AnswerBuffer(json.dumps(info, default=repr), 'application/json')


def MakeMany(i):
    def Many(output, uri, **request):
        output.AnswerBuffer('many-%d' % i, 'text/plain')
    return Many


def Outcome(fn, *args):
    try:
        r = fn(*args)
    except Exception as e:
        return {'ok': False, 'exc': type(e).__name__,
                'is_orthanc': isinstance(e, orthanc.OrthancException),
                'args': [a if isinstance(a, (int, str)) else repr(a) for a in e.args]}
    if isinstance(r, bytes):
        value = r.decode('latin-1')
    elif r is None or isinstance(r, (int, str)):
        value = r
    else:
        value = repr(r)
    return {'ok': True, 'type': type(r).__name__, 'value': value}


def RestApi(output, uri, **request):
    instance = request['get']['instance']
    sop = request['get']['sop']
    meta = '/instances/%s/metadata/Sample' % instance
    r = {}
    r['get_system'] = Outcome(orthanc.RestApiGet, '/system')
    r['get_missing'] = Outcome(orthanc.RestApiGet, '/nope')
    r['get_plugin_route'] = Outcome(orthanc.RestApiGet, '/conv/many/3')
    r['get_after_plugins'] = Outcome(orthanc.RestApiGetAfterPlugins, '/conv/many/3')
    r['post_str'] = Outcome(orthanc.RestApiPost, '/tools/lookup', sop)
    r['post_bytes'] = Outcome(orthanc.RestApiPost, '/tools/lookup', sop.encode())
    r['post_after_plugins_bytes'] = Outcome(orthanc.RestApiPostAfterPlugins, '/conv/echo/p/q', b'\x00\x01\xff')
    r['post_after_plugins_str'] = Outcome(orthanc.RestApiPostAfterPlugins, '/conv/echo/p/q', 'hello-str')
    r['put_str'] = Outcome(orthanc.RestApiPut, meta, 'v-str')
    r['get_meta_str'] = Outcome(orthanc.RestApiGet, meta)
    r['put_bytes'] = Outcome(orthanc.RestApiPut, meta, b'v-bytes')
    r['get_meta_bytes'] = Outcome(orthanc.RestApiGet, meta)
    r['put_after_plugins'] = Outcome(orthanc.RestApiPutAfterPlugins, '/conv/echo/u/v', b'put-body')
    r['delete'] = Outcome(orthanc.RestApiDelete, meta)
    r['get_meta_deleted'] = Outcome(orthanc.RestApiGet, meta)
    r['delete_missing'] = Outcome(orthanc.RestApiDelete, '/nope')
    r['delete_after_plugins'] = Outcome(orthanc.RestApiDeleteAfterPlugins, '/conv/echo/d/e')
    r['last_delete'] = LAST.get('DELETE')
    output.AnswerBuffer(json.dumps(r), 'application/json')


def Exception_(output, uri, **request):
    r = {}
    try:
        orthanc.RestApiGet('/nope')
        r['raised'] = False
    except orthanc.OrthancException as e:
        r['raised'] = True
        r['args'] = list(e.args)
        r['arg0_type'] = type(e.args[0]).__name__
        r['arg1_type'] = type(e.args[1]).__name__
        r['eq_enum'] = e.args[0] == orthanc.ErrorCode.UNKNOWN_RESOURCE
        r['is_exception'] = isinstance(e, Exception)
    made = orthanc.OrthancException(1, 'x')
    r['constructed_args'] = list(made.args)
    r['subclass_of_exception'] = issubclass(orthanc.OrthancException, Exception)
    output.AnswerBuffer(json.dumps(r), 'application/json')


def Token(output, uri, **request):
    t = orthanc.GenerateRestApiAuthorizationToken()
    output.AnswerBuffer(json.dumps({'type': type(t).__name__, 'length': len(t)}), 'application/json')


def Config(output, uri, **request):
    c = orthanc.GetConfiguration()
    output.AnswerBuffer(json.dumps({'type': type(c).__name__, 'value': c}), 'application/json')


def Log(output, uri, **request):
    m = request['get'].get('m', 'x')
    orthanc.LogInfo('conv-info-' + m)
    orthanc.LogWarning('conv-warning-' + m)
    orthanc.LogError('conv-error-' + m)
    print('conv-print-' + m)
    print('conv-stderr-' + m, file=sys.stderr)
    logging.getLogger('conv').warning('conv-logging-' + m)
    output.AnswerBuffer('logged', 'text/plain')


def BigAnswer(output, uri, **request):
    output.AnswerBuffer(bytes(range(256)) * (32 * 1024), 'application/octet-stream')


def OddPrints(output, uri, **request):
    print('conv-long-marker ' + 'L' * 100000)
    print('conv-multi-first\nconv-multi-second')
    print('conv-nul-before\x00conv-nul-after')
    sys.stdout.write('conv-two-writes-')
    sys.stdout.write('joined\n')
    output.AnswerBuffer('printed', 'text/plain')


def TryRegister():
    try:
        orthanc.RegisterRestCallback('/conv/late', Echo)
        return {'raised': False}
    except Exception as e:
        return {'raised': True, 'type': type(e).__name__, 'message': str(e)}


def RegisterLate(output, uri, **request):
    r = {'callback': TryRegister()}
    box = {}
    t = threading.Thread(target=lambda: box.update(thread=TryRegister()))
    t.start()
    t.join(30)
    r['thread'] = box.get('thread', {'raised': None, 'message': 'thread did not finish'})
    output.AnswerBuffer(json.dumps(r), 'application/json')


def Stash(output, uri, **request):
    STASH.append(output)
    output.AnswerBuffer('stashed', 'text/plain')


def UseStash(output, uri, **request):
    try:
        STASH[-1].AnswerBuffer('late', 'text/plain')
        r = {'raised': False}
    except Exception as e:
        r = {'raised': True, 'type': type(e).__name__, 'message': str(e)}
    output.AnswerBuffer(json.dumps(r), 'application/json')


def Instantiate(output, uri, **request):
    try:
        orthanc.RestOutput()
        r = {'raised': False}
    except Exception as e:
        r = {'raised': True, 'type': type(e).__name__, 'message': str(e)}
    output.AnswerBuffer(json.dumps(r), 'application/json')


def Enums(output, uri, **request):
    result = {}
    for name, obj in vars(orthanc).items():
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            members = {}
            for attr in dir(obj):
                if attr.startswith('_'):
                    continue
                v = getattr(obj, attr)
                if isinstance(v, int) and not isinstance(v, bool):
                    members[attr] = int(v)
            if members:
                result[name] = members
    output.AnswerBuffer(json.dumps(result), 'application/json')


def Digest(output, uri, **request):
    import hashlib
    body = request.get('body', b'')
    output.AnswerBuffer(json.dumps({'type': type(body).__name__, 'length': len(body),
                                    'sha256': hashlib.sha256(body).hexdigest()}),
                        'application/json')


def AnswerBytes(output, uri, **request):
    output.AnswerBuffer(bytes(range(256)), 'application/octet-stream')


def Status(output, uri, **request):
    form = request['groups'][0]
    if form == 'one':
        output.SendHttpStatus(403)
    elif form == 'two':
        output.SendHttpStatus(400, 'status-two')
    elif form == 'three':
        output.SendHttpStatus(409, 'status-three', 12)
    elif form == 'not-allowed-none':
        output.SendMethodNotAllowed()
    elif form == 'not-allowed-arg':
        output.SendMethodNotAllowed('GET,PUT')
    elif form == 'unauthorized':
        output.SendUnauthorized('realm-x')
    elif form == 'redirect':
        output.Redirect('/conv/nogroups')
    elif form == 'header':
        output.SetHttpHeader('X-Conv', 'header-value')
        output.AnswerBuffer('with-header', 'text/plain')


CHANGES = []


def OnChange(changeType, level, resource):
    t = threading.current_thread()
    CHANGES.append({'args': [changeType, level, resource],
                    'types': [type(changeType).__name__, type(level).__name__,
                              type(resource).__name__],
                    'thread': t.ident, 'main': t is threading.main_thread()})


def Changes(output, uri, **request):
    output.AnswerBuffer(json.dumps(CHANGES), 'application/json')


orthanc.RegisterOnChangeCallback(OnChange)
orthanc.RegisterRestCallback('/conv/changes', Changes)
orthanc.RegisterRestCallback('/conv/big-answer', BigAnswer)
orthanc.RegisterRestCallback('/conv/odd-prints', OddPrints)
orthanc.RegisterRestCallback('/conv/digest', Digest)
orthanc.RegisterRestCallback('/conv/answer-bytes', AnswerBytes)
orthanc.RegisterRestCallback('/conv/status/(.*)', Status)
orthanc.RegisterRestCallback('/conv/echo/([^/]*)/([^/]*)', Echo)
orthanc.RegisterRestCallback('/conv/nogroups', Echo)
for i in range(50):
    orthanc.RegisterRestCallback('/conv/many/%d' % i, MakeMany(i))
orthanc.RegisterRestCallback('/conv/restapi', RestApi)
orthanc.RegisterRestCallback('/conv/exception', Exception_)
orthanc.RegisterRestCallback('/conv/token', Token)
orthanc.RegisterRestCallback('/conv/config', Config)
orthanc.RegisterRestCallback('/conv/log', Log)
orthanc.RegisterRestCallback('/conv/register-late', RegisterLate)
orthanc.RegisterRestCallback('/conv/stash', Stash)
orthanc.RegisterRestCallback('/conv/use-stash', UseStash)
orthanc.RegisterRestCallback('/conv/instantiate', Instantiate)
orthanc.RegisterRestCallback('/conv/enums', Enums)

logging.getLogger('conv').warning('conv-import-logging-marker')
