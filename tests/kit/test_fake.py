# SPDX-License-Identifier: GPL-3.0-or-later
"""orthanc_plugin_testing.fake: the fake orthanc module against the typing
stubs it is built from (read here with ast, on their own), its calls, its
RestOutput, and the seed page's samples run through it as a plugin author
would (load_script, call_rest, emit_change)."""

import ast
import inspect
import io
import json
import logging
import platform
import re
import sys
import types

import pytest

from conftest import PACKAGES, REPO, SEED_SCRIPTS
from orthanc_plugin_testing import fake as fake_module

STUBS = PACKAGES / 'orthanc-stubs' / '__init__.pyi'
ENUMS = json.loads((PACKAGES / 'orthanc_plugin_testing' / 'orthanc_enums.json').read_text())
SEED_PAGE = REPO.parent / 'shared' / 'seed' / 'python-plugin.txt'
TREE = ast.parse(STUBS.read_text())


# ------------------------------------------------------------ the stubs, read here

def is_protocol(node):
    return any(ast.unparse(b) == 'Protocol' for b in node.bases)


def stub_names():
    """{name: node} of what the stubs declare for the module (the Protocols
    only type the callbacks)."""
    return {n.name: n for n in TREE.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))
            and not n.name.startswith('_') and not (isinstance(n, ast.ClassDef) and is_protocol(n))}


def stub_defs():
    """[(path, def node)]: every module function and every method of a class."""
    out = []
    for name, node in stub_names().items():
        if isinstance(node, ast.FunctionDef):
            out.append((name, node))
        else:
            out += [('%s.%s' % (name, f.name), f) for f in node.body if isinstance(f, ast.FunctionDef)]
    return out


def object_classes():
    return [n for n, node in stub_names().items()
            if isinstance(node, ast.ClassDef) and (ast.get_docstring(node) or '').startswith('Generated from Orthanc C class')]


def text(node):
    if node is None:
        return inspect.Parameter.empty
    quoted = isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value if quoted else ast.unparse(node)


def expected_parameters(fn):
    """[(name, kind, default, annotation)] and the return annotation of a stub def."""
    a = fn.args
    positional = [(x, 'POSITIONAL_ONLY') for x in a.posonlyargs] + [(x, 'POSITIONAL_OR_KEYWORD') for x in a.args]
    defaults = [inspect.Parameter.empty] * (len(positional) - len(a.defaults)) + [ast.literal_eval(d) for d in a.defaults]
    params = [(x.arg, kind, d, text(x.annotation)) for (x, kind), d in zip(positional, defaults)]
    if a.vararg:
        params.append((a.vararg.arg, 'VAR_POSITIONAL', inspect.Parameter.empty, text(a.vararg.annotation)))
    params += [(x.arg, 'KEYWORD_ONLY', inspect.Parameter.empty if d is None else ast.literal_eval(d), text(x.annotation))
               for x, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        params.append((a.kwarg.arg, 'VAR_KEYWORD', inspect.Parameter.empty, text(a.kwarg.annotation)))
    return params, text(fn.returns)


def resolve(module, path):
    obj = module
    for part in path.split('.'):
        obj = getattr(obj, part)
    return obj


# ------------------------------------------------------------ fixtures

@pytest.fixture
def fake():
    controller = fake_module.install()
    yield controller
    fake_module.uninstall()


@pytest.fixture
def orthanc(fake):
    return fake.module


@pytest.fixture(scope='module')
def seed_text():
    if not SEED_PAGE.is_file():
        pytest.skip('documentation page (shared/seed/python-plugin.txt) not available')
    return SEED_PAGE.read_text()


def route(fake, pattern, callback):
    fake.module.RegisterRestCallback(pattern, callback)


# ------------------------------------------------------------ the surface

def test_module_names_are_those_of_the_stubs(orthanc):
    assert set(dir(orthanc)) == set(stub_names()) | {'__doc__', '__name__'}
    assert orthanc.__name__ == 'orthanc'


@pytest.mark.parametrize('path,node', stub_defs(), ids=[p for p, _ in stub_defs()])
def test_signature_and_doc_are_the_stubs(orthanc, path, node):
    obj = resolve(orthanc, path)
    sig = inspect.signature(obj)
    params, returns = expected_parameters(node)
    assert [(p.name, p.kind.name, p.default, p.annotation) for p in sig.parameters.values()] == params
    assert sig.return_annotation == returns
    if not path.startswith('StreamedAnswer.'):
        assert obj.__doc__ == ast.get_docstring(node)


@pytest.mark.parametrize('path,node', stub_defs(), ids=[p for p, _ in stub_defs()])
def test_unknown_keyword_is_type_error(orthanc, path, node):
    with pytest.raises(TypeError):
        resolve(orthanc, path)(no_such_parameter=1)


def test_enumerations_have_the_values_of_the_json(orthanc):
    enums = [n for n in stub_names() if n in ENUMS['enums']]
    assert enums and 'ChangeType' in enums and 'ErrorCode' in enums
    for name in enums:
        members = [s.target.id for s in stub_names()[name].body if isinstance(s, ast.AnnAssign)]
        cls = getattr(orthanc, name)
        assert {m: getattr(cls, m) for m in members} == {m: ENUMS['enums'][name][m] for m in members}
        assert all(type(getattr(cls, m)) is int for m in members)
        assert cls.__doc__ == ast.get_docstring(stub_names()[name])
    assert orthanc.ChangeType.STABLE_STUDY == ENUMS['enums']['ChangeType']['STABLE_STUDY']


def test_orthanc_exception(orthanc):
    assert issubclass(orthanc.OrthancException, Exception)
    e = orthanc.OrthancException(orthanc.ErrorCode.UNKNOWN_RESOURCE, 'Unknown resource')
    assert e.args == (17, 'Unknown resource') and str(e) == "(17, 'Unknown resource')"


@pytest.mark.parametrize('name', object_classes())
def test_object_classes_cannot_be_created(orthanc, name):
    with pytest.raises(TypeError, match="cannot create 'orthanc.%s' instances" % name):
        getattr(orthanc, name)()


@pytest.mark.parametrize('call', [
    lambda o: o.ComputeMd5(),
    lambda o: o.ComputeMd5(b'a', b'b'),
    lambda o: o.ComputeMd5(42),
    lambda o: o.ComputeMd5(buffer=None),
    lambda o: o.RestApiGet(b'/system'),
    lambda o: o.RestApiPost('/tools/find', {'Level': 'Study'}),
    lambda o: o.LogWarning(message=3),
    lambda o: o.GetTagName(0x10, 0x10, 3),
    lambda o: o.CreateImage('GRAYSCALE8', 1, 1),
    lambda o: o.CreateDicom('{}', 'not an image', 0),
    lambda o: o.RegisterRestCallback('/x', 'not callable'),
    lambda o: o.RegisterOnChangeCallback(),
    lambda o: o.RestOutput.AnswerBuffer(42, b'x', 'text/plain'),
], ids=['missing', 'too many', 'int for Buffer', 'None for Buffer', 'bytes for str', 'dict for Buffer',
        'int for str keyword', 'int for Optional[str]', 'str for int', 'str for Image', 'not callable',
        'no callback', 'wrong self'])
def test_wrong_calls_are_type_errors(orthanc, call):
    with pytest.raises(TypeError):
        call(orthanc)


def test_keyword_calls_and_buffers(orthanc):
    md5 = '900150983cd24fb0d6963f7d28e17f72'
    assert orthanc.ComputeMd5(buffer=b'abc') == md5
    assert {orthanc.ComputeMd5(b) for b in (b'abc', bytearray(b'abc'), memoryview(b'abc'), 'abc')} == {md5}
    # None where the stub says Optional: the call reaches the (missing) implementation
    with pytest.raises(NotImplementedError):
        orthanc.GetTagName(group=0x0010, element=0x0010, privateCreator=None)


def test_methods_are_method_descriptors(orthanc, fake):
    method = orthanc.RestOutput.AnswerBuffer
    assert inspect.ismethoddescriptor(method) and inspect.isroutine(method)
    output = fake.make_object('RestOutput')
    assert list(inspect.signature(output.AnswerBuffer).parameters) == ['answer', 'mimeType']
    assert inspect.isfunction(orthanc.RestApiGet)


def test_not_simulated_message(orthanc, fake):
    with pytest.raises(NotImplementedError) as e:
        orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 2, 2)
    assert str(e.value) == ('orthanc.CreateImage is not simulated by orthanc_plugin_testing.fake; '
                            'give it an implementation with fake.implement("CreateImage", function)')
    with pytest.raises(NotImplementedError, match=re.escape('fake.implement("Image.GetImageWidth", function)')):
        fake.make_object('Image').GetImageWidth()


def test_implement(orthanc, fake):
    image = fake.make_object('Image')
    fake.implement('CreateImage', lambda format, width, height: image)
    fake.implement('Image.GetImageWidth', lambda self: 3 if self is image else None)
    img = orthanc.CreateImage(format=orthanc.PixelFormat.GRAYSCALE8, width=3, height=2)
    assert img is image and img.GetImageWidth() == 3
    fake.implement('RestApiGet', lambda uri: b'replaced ' + uri.encode())
    assert orthanc.RestApiGet('/system') == b'replaced /system'
    with pytest.raises(TypeError):
        orthanc.CreateImage(1, 2)          # still bound to the stub's signature
    with pytest.raises(ValueError, match='NoSuchFunction'):
        fake.implement('NoSuchFunction', print)
    with pytest.raises(ValueError):
        fake.implement('Image.NoSuchMethod', print)


def test_make_object_with_its_own_methods(orthanc, fake):
    a = fake.make_object('DicomInstance', GetInstanceSize=lambda: 10)
    b = fake.make_object('DicomInstance', GetInstanceSize=lambda: 20)
    assert (a.GetInstanceSize(), b.GetInstanceSize()) == (10, 20)
    assert isinstance(a, orthanc.DicomInstance)
    with pytest.raises(ValueError):
        fake.make_object('DicomInstance', NoSuchMethod=lambda: 1)
    with pytest.raises(ValueError):
        fake.make_object('ChangeType')


def test_install_from_explicit_paths(tmp_path):
    stubs = tmp_path / 'orthanc.pyi'
    stubs.write_text('from typing import Optional, Union\nBuffer = Union[bytes, str]\n\n'
                     'class ErrorCode:\n    """Errors."""\n    SUCCESS: int\n    UNKNOWN_RESOURCE: int\n\n'
                     'class HttpMethod:\n    GET: int\n\n'
                     'class OrthancException(Exception):\n    """Failure."""\n\n'
                     'class Thing:\n    """Generated from Orthanc C class: OrthancPluginThing."""\n'
                     '    def Size(self, extra: Optional[int] = None) -> int: ...\n\n'
                     'def RestApiGet(uri: str) -> bytes:\n    """Orthanc SDK: 1.2.3."""\n'
                     'def Hash(data: Buffer, /, *more: int, level: int = 2) -> str: ...\n')
    enums = tmp_path / 'enums.json'
    enums.write_text(json.dumps({'sdk_version': '1.2.3', 'enums': {
        'ErrorCode': {'SUCCESS': 0, 'UNKNOWN_RESOURCE': 17}, 'HttpMethod': {'GET': 1}}}))
    fake = fake_module.install(stubs=stubs, enums=enums)
    try:
        o = sys.modules['orthanc']
        assert o is fake.module and fake.sdk_version == '1.2.3'
        assert set(dir(o)) == {'ErrorCode', 'HttpMethod', 'OrthancException', 'Thing', 'RestApiGet', 'Hash',
                               '__doc__', '__name__'}
        assert str(inspect.signature(o.Hash)) == "(data: 'Buffer', /, *more: 'int', level: 'int' = 2) -> 'str'"
        with pytest.raises(TypeError):
            o.Hash(data=b'x')              # positional-only
        with pytest.raises(o.OrthancException) as e:
            o.RestApiGet('/nope')
        assert e.value.args == (17, 'Unknown resource')
    finally:
        fake_module.uninstall()
    enums.write_text(json.dumps({'sdk_version': '1.2.3', 'enums': {'ErrorCode': {'SUCCESS': 0}, 'HttpMethod': {}}}))
    with pytest.raises(ValueError, match='UNKNOWN_RESOURCE'):
        fake_module.Fake(stubs, enums)


def test_uninstall_restores_sys_modules(tmp_path):
    before = sys.modules.get('orthanc')
    sentinel = types.ModuleType('orthanc')
    sys.modules['orthanc'] = sentinel
    try:
        first = fake_module.install()
        second = fake_module.install()
        assert sys.modules['orthanc'] is second.module
        fake_module.uninstall()
        assert sys.modules['orthanc'] is first.module
        script = tmp_path / 'kit-uninstall-sample.py'
        script.write_text('import orthanc\n')
        first.load_script(script)
        assert 'kit-uninstall-sample' in sys.modules and str(tmp_path) in sys.path
        fake_module.uninstall()
        assert sys.modules['orthanc'] is sentinel
        assert 'kit-uninstall-sample' not in sys.modules and str(tmp_path) not in sys.path
    finally:
        if before is None:
            sys.modules.pop('orthanc', None)
        else:
            sys.modules['orthanc'] = before
    fake_module.install()
    fake_module.uninstall()
    assert sys.modules.get('orthanc') is before
    with pytest.raises(RuntimeError):
        fake_module.uninstall()


def test_load_script_needs_the_fake_installed(tmp_path):
    script = tmp_path / 'plugin.py'
    script.write_text('import orthanc\n')
    with pytest.raises(RuntimeError, match='install'):
        fake_module.Fake().load_script(script)


def test_load_script_raises_the_script_error(fake, tmp_path):
    script = tmp_path / 'broken_plugin.py'
    script.write_text('import orthanc\nraise RuntimeError("broken at import")\n')
    with pytest.raises(RuntimeError, match='broken at import'):
        fake.load_script(script)
    assert 'broken_plugin' not in sys.modules


# ------------------------------------------------------------ REST routes

def keep_request(store):
    def callback(output, uri, **request):
        store.append((uri, request))
        output.AnswerBuffer('ok', 'text/plain')
    return callback


def test_rest_keyword_convention(fake):
    seen = []
    route(fake, '/items/([a-z]+)(/x)?', keep_request(seen))
    fake.call_rest('/items/abc?limit=2&q=', headers={'X-Token': 't'})
    fake.call_rest('/items/abc/x', 'POST', body='{"a": 1}')
    fake.call_rest('/items/abc', 'PUT', body={'a': 1})
    fake.call_rest('/items/abc', 'delete')
    assert seen == [
        ('/items/abc', {'method': 'GET', 'groups': ('abc', ''), 'get': {'limit': '2', 'q': ''},
                        'headers': {'x-token': 't'}}),
        ('/items/abc/x', {'method': 'POST', 'groups': ('abc', '/x'), 'headers': {}, 'body': b'{"a": 1}'}),
        ('/items/abc', {'method': 'PUT', 'groups': ('abc', ''), 'headers': {}, 'body': b'{"a": 1}'}),
        ('/items/abc', {'method': 'DELETE', 'groups': ('abc', ''), 'headers': {}})]
    assert list(seen[0][1]) == ['method', 'groups', 'get', 'headers']
    with pytest.raises(ValueError):
        fake.call_rest('/items/abc', 'PATCH')


def test_routes_match_the_whole_uri_first_registered_wins(fake):
    route(fake, '/a', lambda output, uri, **r: output.AnswerBuffer('first', 'text/plain'))
    route(fake, '/a', lambda output, uri, **r: output.AnswerBuffer('second', 'text/plain'))
    route(fake, '/b.*', lambda output, uri, **r: output.AnswerBuffer('b', 'text/plain'))
    assert fake.call_rest('/a').text == 'first'
    assert fake.call_rest('/a/more').status == 404
    assert fake.call_rest('/xa').status == 404
    assert fake.call_rest('/bcd').text == 'b'
    assert [r['pathRegularExpression'] for r in fake.registered['RegisterRestCallback']] == ['/a', '/a', '/b.*']


def test_answers_of_the_rest_output(fake):
    def answers(output, uri, **request):
        form = request['groups'][0]
        if form == 'code':
            output.SendHttpStatusCode(204)
        elif form == 'status':
            output.SendHttpStatus(409, 'conflict-body')
        elif form == 'status-size':
            output.SendHttpStatus(400, b'status-three', 6)
        elif form == 'unauthorized':
            output.SendUnauthorized('realm-x')
        elif form == 'not-allowed':
            output.SendMethodNotAllowed('GET,PUT')
        elif form == 'not-allowed-none':
            output.SendMethodNotAllowed()
        elif form == 'redirect':
            output.Redirect('/elsewhere')
        elif form == 'headers':
            output.SetHttpHeader('X-Conv', 'v')
            output.SetCookie('session', 'abc')
            output.AnswerBuffer(b'\x00\x01', 'application/octet-stream')
    route(fake, '/answers/(.*)', answers)
    r = fake.call_rest('/answers/code')
    assert (r.status, r.body, r.content_type) == (204, b'', None)
    assert (fake.call_rest('/answers/status').status, fake.call_rest('/answers/status').body) == (409, b'conflict-body')
    assert fake.call_rest('/answers/status-size').body == b'status'
    r = fake.call_rest('/answers/unauthorized')
    assert (r.status, r.headers['www-authenticate']) == (401, 'Basic realm="realm-x"')
    r = fake.call_rest('/answers/not-allowed')
    assert (r.status, r.headers['allow']) == (405, 'GET,PUT')
    assert 'allow' not in fake.call_rest('/answers/not-allowed-none').headers
    r = fake.call_rest('/answers/redirect')
    assert r.status == (301 if fake.sdk < (1, 11) else 307) and r.headers['location'] == '/elsewhere'
    r = fake.call_rest('/answers/headers')
    assert (r.status, r.body, r.content_type) == (200, b'\x00\x01', 'application/octet-stream')
    assert r.headers == {'x-conv': 'v', 'content-type': 'application/octet-stream'}
    assert r.cookies == {'session': 'abc'}
    assert r.calls == [('SetHttpHeader', ('X-Conv', 'v')), ('SetCookie', ('session', 'abc')),
                       ('AnswerBuffer', (b'\x00\x01', 'application/octet-stream'))]


def test_multipart_answer(fake):
    def parts(output, uri, **request):
        output.StartMultipartAnswer('related', 'application/dicom')
        output.SendMultipartItem(b'first')
        output.SendMultipartItem2('second', {'X-Part': '2'})
    route(fake, '/parts', parts)
    r = fake.call_rest('/parts')
    assert r.status == 200 and r.content_type.startswith('multipart/related; type=application/dicom; boundary=')
    assert r.parts == [(b'first', {}), (b'second', {'X-Part': '2'})]
    boundary = r.content_type.split('boundary=')[1]
    assert r.body.count(b'--' + boundary.encode()) == 3 and b'X-Part: 2\r\n' in r.body
    assert b'Content-Type: application/dicom\r\nContent-Length: 5\r\n\r\nfirst\r\n' in r.body


def refusal(call):
    """A route that answers, then makes one more call and answers its exception."""
    def callback(output, uri, **request):
        output.AnswerBuffer('first', 'text/plain')
        try:
            call(output)
        except Exception as e:
            callback.caught = e
    callback.caught = None
    return callback


@pytest.mark.parametrize('call', [
    lambda o: o.AnswerBuffer('second', 'text/plain'),
    lambda o: o.SetHttpHeader('X-Late', 'v'),
    lambda o: o.SetCookie('late', 'v'),
    lambda o: o.SendHttpStatusCode(404),
    lambda o: o.Redirect('/x'),
    lambda o: o.StartMultipartAnswer('related', 'text/plain'),
    lambda o: o.SendMultipartItem(b'x'),
], ids=['second answer', 'header after', 'cookie after', 'status after', 'redirect after', 'multipart after',
        'item without multipart'])
def test_rest_output_refusals(fake, call):
    callback = refusal(call)
    route(fake, '/refusal', callback)
    r = fake.call_rest('/refusal')
    assert (r.status, r.text) == (200, 'first')
    assert isinstance(callback.caught, fake.module.OrthancException)
    assert callback.caught.args == (fake.module.ErrorCode.BAD_SEQUENCE_OF_CALLS, 'Bad sequence of calls')
    assert len(r.calls) == 2          # the refused call is recorded too


def test_rest_output_used_after_its_callback(fake):
    kept = []
    route(fake, '/keep', lambda output, uri, **r: (kept.append(output), output.AnswerBuffer('x', 'text/plain')))
    fake.call_rest('/keep')
    with pytest.raises(ValueError, match='orthanc.RestOutput used after its callback returned'):
        kept[0].AnswerBuffer('late', 'text/plain')


def details(response):
    return response.json()['Details']


def test_errors_of_rest_callbacks(fake):
    orthanc = fake.module

    def fail(output, uri, **request):
        form = request['groups'][0]
        if form == 'raise':
            raise RuntimeError('boom-rest-4242')
        if form == 'unknown':
            raise orthanc.OrthancException(orthanc.ErrorCode.UNKNOWN_RESOURCE, 'x-resource-gone')
        if form == 'bad-request':
            raise orthanc.OrthancException(orthanc.ErrorCode.BAD_REQUEST, 'bad')
        if form == 'after-answer':
            output.AnswerBuffer('kept', 'text/plain')
            raise RuntimeError('after the answer')
        if form == 'exit':
            raise SystemExit(3)
    route(fake, '/errors/(.*)', fail)
    route(fake, '/wrong-signature', lambda output: output.AnswerBuffer('never', 'text/plain'))
    r = fake.call_rest('/errors/raise')
    assert r.status == 500 and 'boom-rest-4242' in details(r)
    assert 'Traceback (most recent call last)' in r.error and "in fail" in r.error
    assert r.json()['OrthancStatus'] == orthanc.ErrorCode.PLUGIN and r.json()['Uri'] == '/errors/raise'
    r = fake.call_rest('/errors/unknown')
    assert r.status == 404 and 'x-resource-gone' in details(r)
    assert fake.call_rest('/errors/bad-request').status == 400
    r = fake.call_rest('/errors/after-answer')
    assert (r.status, r.text) == (200, 'kept') and 'after the answer' in r.error
    assert fake.call_rest('/errors/exit').status == 500
    r = fake.call_rest('/errors/silent')
    assert r.status == 500 and 'returned without sending an answer' in details(r)
    r = fake.call_rest('/wrong-signature')
    assert r.status == 500 and 'TypeError' in details(r)
    assert len(fake.errors) == 6 and fake.errors[0][0] == 'REST callback /errors/(.*) (GET /errors/raise)'


def test_returned_stream(fake):
    orthanc, files = fake.module, []

    def stream(output, uri, **request):
        form = request['groups'][0]
        if form == 'generator':
            return (chunk for chunk in (b'ab', 'cd'))
        if form == 'file':
            files.append(io.BytesIO(b'file-body'))
            return files[-1]
        return orthanc.StreamedAnswer([b'x', b'y'], 'text/csv')
    route(fake, '/stream/(.*)', stream)
    answers = {form: fake.call_rest('/stream/' + form) for form in ('generator', 'file', 'streamed')}
    if hasattr(orthanc.RestOutput, 'StartStreamAnswer'):       # SDK 1.12.6 or newer
        assert (answers['generator'].body, answers['generator'].content_type) == (b'abcd', 'application/octet-stream')
        assert answers['file'].body == b'file-body'
        assert (answers['streamed'].body, answers['streamed'].content_type) == (b'xy', 'text/csv')
    else:
        for r in answers.values():
            assert r.status == 500 and 'needs Orthanc 1.12.6 or newer' in details(r)
    assert files[0].closed
    with pytest.raises(TypeError):
        orthanc.StreamedAnswer([], content_type=3)


def test_async_callbacks(fake):
    import asyncio

    async def slow(output, uri, **request):
        await asyncio.sleep(0)
        output.AnswerBuffer('done', 'text/plain')
    seen = []

    async def on_change(change, level, resource):
        seen.append(resource)
    route(fake, '/slow', slow)
    fake.module.RegisterOnChangeCallback(on_change)
    assert fake.call_rest('/slow').text == 'done'
    fake.emit_change(fake.module.ChangeType.NEW_STUDY, fake.module.ResourceType.STUDY, 's1')
    assert seen == ['s1']


# ------------------------------------------------------------ filters, changes, REST API, log

def test_http_filters(fake):
    orthanc, seen = fake.module, []

    def allow_get(uri, **request):
        seen.append((uri, request))
        return request['method'] == orthanc.HttpMethod.GET

    def fails(uri, **request):
        raise RuntimeError('filter fails')
    orthanc.RegisterIncomingHttpRequestFilter(allow_get)
    route(fake, '/r', lambda output, uri, **r: output.AnswerBuffer('ok', 'text/plain'))
    assert fake.call_rest('/r?x=1', headers={'Authorization': 'a'}).text == 'ok'
    assert seen == [('/r', {'method': orthanc.HttpMethod.GET, 'ip': '127.0.0.1', 'headers': {'authorization': 'a'},
                            'get': {'x': '1'}})]
    assert fake.call_rest('/r', 'POST', b'x').status == 403
    assert 'get' not in seen[-1][1]
    assert fake.call_filter('/r', ip='10.0.0.1') is True and seen[-1][1]['ip'] == '10.0.0.1'
    orthanc.RegisterIncomingHttpRequestFilter(fails)
    assert fake.call_rest('/r').status == 403
    assert fake.errors[-1][0] == 'HTTP filter for /r (request denied)' and 'filter fails' in fake.errors[-1][1]


def test_changes_go_to_every_callback_in_order(fake):
    orthanc, seen = fake.module, []

    def first(*change):
        seen.append(('first',) + change)
        raise ZeroDivisionError('first fails')
    orthanc.RegisterOnChangeCallback(first)
    orthanc.RegisterOnChangeCallback(lambda *change: seen.append(('second',) + change))
    with pytest.raises(ZeroDivisionError):
        fake.emit_change(orthanc.ChangeType.NEW_INSTANCE, orthanc.ResourceType.INSTANCE, 'i1')
    assert seen == [('first', orthanc.ChangeType.NEW_INSTANCE, orthanc.ResourceType.INSTANCE, 'i1'),
                    ('second', orthanc.ChangeType.NEW_INSTANCE, orthanc.ResourceType.INSTANCE, 'i1')]
    assert fake.errors[-1][0] == 'OnChange callback'


def test_rest_api_answer_table(fake):
    orthanc = fake.module
    fake.set_rest_answer('GET', '/system', {'Version': '1.12.0'})
    fake.set_rest_answer('GET', '/studies?expand', [])
    fake.set_rest_answer('post', '/tools/lookup', lambda body: [{'Path': '/instances/' + body.decode()}])
    fake.set_rest_answer('PUT', '/instances/i/metadata/1024', 'stored')
    fake.set_rest_answer('DELETE', '/instances/i', b'')
    assert json.loads(orthanc.RestApiGet('/system')) == {'Version': '1.12.0'}
    assert orthanc.RestApiGetAfterPlugins('/studies?expand') == b'[]'
    assert json.loads(orthanc.RestApiPost('/tools/lookup', '1.2.3')) == [{'Path': '/instances/1.2.3'}]
    assert orthanc.RestApiPut('/instances/i/metadata/1024', b'v') == b'stored'
    assert orthanc.RestApiDelete('/instances/i') is None
    with pytest.raises(orthanc.OrthancException) as e:
        orthanc.RestApiGet('/nope')
    assert e.value.args == (orthanc.ErrorCode.UNKNOWN_RESOURCE, 'Unknown resource')
    with pytest.raises(orthanc.OrthancException):
        orthanc.RestApiPost('/system', b'')          # the table is per method
    assert fake.rest_calls == [('GET', '/system', None), ('GET', '/studies?expand', None),
                               ('POST', '/tools/lookup', b'1.2.3'), ('PUT', '/instances/i/metadata/1024', b'v'),
                               ('DELETE', '/instances/i', None), ('GET', '/nope', None), ('POST', '/system', b'')]
    with pytest.raises(TypeError):
        fake.set_rest_answer('GET', '/x', 42)


def test_logs_configuration_and_registrations(fake):
    orthanc = fake.module
    orthanc.LogInfo('i')
    orthanc.LogWarning('w')
    orthanc.LogError('e')
    logger = logging.getLogger('kit-test-fake')
    logger.addHandler(orthanc.LogHandler())
    logger.setLevel(logging.INFO)
    logger.warning('via %s', 'logging')
    assert fake.logs == [('INFO', 'i'), ('WARNING', 'w'), ('ERROR', 'e'), ('WARNING', 'via logging')]
    assert json.loads(orthanc.GetConfiguration()) == {}
    fake.configuration = {'DicomPort': 4343}
    assert json.loads(orthanc.GetConfiguration()) == {'DicomPort': 4343}
    orthanc.SetDescription('my plugin')
    orthanc.RegisterStorageArea(print, print, print)
    assert fake.registered['SetDescription'] == [{'description': 'my plugin'}]
    assert fake.registered['RegisterStorageArea'] == [{'create': print, 'read': print, 'remove': print}]
    assert re.fullmatch(r'[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', orthanc.GenerateUuid())


# ------------------------------------------------------------ the seed page's samples

def test_seed_hello(fake, capsys, seed_text):
    fake.load_script(SEED_SCRIPTS / 'hello.py')
    out = capsys.readouterr().out
    assert out == 'Hello world!\n' and '\nHello world!\n' in seed_text


def test_seed_rest(fake, capsys, seed_text):
    fake.load_script(SEED_SCRIPTS / 'rest.py')
    r = fake.call_rest('/toto')
    assert (r.status, r.text, r.content_type) == (200, 'ok\n', 'text/plain')
    assert '$ curl http://localhost:8042/toto\n%s' % r.text in seed_text      # what the page shows
    out = capsys.readouterr().out
    assert "'groups': ('to', 't')" in out and "'method': 'GET'" in out and 'Accessing uri: /toto\n' in out
    assert fake.call_rest('/tata', 'POST', b'payload-123').text == 'ok\n'
    out = capsys.readouterr().out
    assert "'body': b'payload-123'" in out and "'groups': ()" in out and 'Accessing uri: /tata\n' in out
    assert fake.call_rest('/titi').status == 404


def test_seed_changes(fake, tmp_path, capsys):
    dicom = tmp_path / 'sample.dcm'
    dicom.write_bytes(b'DICM-bytes')
    fake.set_rest_answer('POST', '/instances', {'ID': 'new-id'})
    fake.load_script(SEED_SCRIPTS / 'changes.py', {'@SAMPLE_DCM@': dicom})
    orthanc = fake.module
    fake.emit_change(orthanc.ChangeType.ORTHANC_STARTED, orthanc.ResourceType.NONE, '')
    assert fake.rest_calls == [('POST', '/instances', b'DICM-bytes')]
    fake.emit_change(orthanc.ChangeType.NEW_INSTANCE, orthanc.ResourceType.INSTANCE, 'new-id')
    fake.emit_change(orthanc.ChangeType.ORTHANC_STOPPED, orthanc.ResourceType.NONE, '')
    assert capsys.readouterr().out == 'Started\nA new instance was uploaded: new-id\nStopped\n'


def test_seed_override_rest(fake):
    fake.load_script(SEED_SCRIPTS / 'override_rest.py')
    r = fake.call_rest('/instances', 'POST', b'DICM', headers={'Content-Type': 'application/dicom'})
    assert r.json() == {'MyAnswer': 'Instance Ignored'} and r.content_type == 'application/json'
    assert fake.logs == [('WARNING', 'I have received an instance')]
    fake.set_rest_answer('GET', '/instances', ['a', 'b'])
    assert fake.call_rest('/instances').json() == ['a', 'b']
    # without a DICOMweb plugin: UNKNOWN_RESOURCE, a 404 whose details carry it
    r = fake.call_rest('/my-dicom-web/studies/1.2.3/metadata')
    assert r.status == 404 and 'Unknown resource' in details(r)
    fake.set_rest_answer('GET', '/dicom-web/studies/1.2.3/metadata',
                         [{'00090010': {'vr': 'LO'}, '00100010': {'vr': 'PN'}}, {'00091001': {}}])
    r = fake.call_rest('/my-dicom-web/studies/1.2.3/metadata')
    assert r.json() == [{'00100010': {'vr': 'PN'}}, {}]
    assert fake.logs[-1] == ('WARNING', 'My DICOMWEB /studies/../metadata')


def test_seed_catching_exceptions(fake, capsys):
    fake.load_script(SEED_SCRIPTS / 'catching_exceptions.py')
    orthanc = fake.module
    fake.emit_change(orthanc.ChangeType.ORTHANC_STARTED, orthanc.ResourceType.NONE, '')
    assert capsys.readouterr().out == "(17, 'Unknown resource')\n17\nUnknown resource\nTrue\n"


def test_seed_autorouting(fake, capsys):
    fake.set_rest_answer('POST', '/modalities/sample/store', {})
    fake.load_script(SEED_SCRIPTS / 'autorouting.py')
    orthanc = fake.module
    fake.emit_change(orthanc.ChangeType.NEW_STUDY, orthanc.ResourceType.STUDY, 'study-1')
    fake.emit_change(orthanc.ChangeType.STABLE_STUDY, orthanc.ResourceType.STUDY, 'study-1')
    assert fake.rest_calls == [('POST', '/modalities/sample/store', b'study-1')]
    assert capsys.readouterr().out == 'Stable study: study-1\n'


def test_seed_paging(fake, seed_text):
    studies = [{'ID': i, 'MainDicomTags': {'StudyDate': d}} for i, d in (('c', '2021'), ('a', '2019'), ('b', '2020'))]
    studies.append({'ID': 'no-date', 'MainDicomTags': {}})
    fake.set_rest_answer('GET', '/studies?expand', studies)
    fake.load_script(SEED_SCRIPTS / 'paging.py')
    assert [s['ID'] for s in fake.call_rest('/sort-studies').json()] == ['no-date', 'a', 'b', 'c']
    assert "curl 'http://localhost:8042/sort-studies?offset=2&limit=2'" in seed_text
    assert [s['ID'] for s in fake.call_rest('/sort-studies?offset=2&limit=2').json()] == ['b', 'c']
    assert [s['ID'] for s in fake.call_rest('/sort-studies', get={'offset': '3'}).json()] == ['c']
    r = fake.call_rest('/sort-studies', 'POST', b'')
    assert (r.status, r.headers['allow']) == (405, 'GET')


def test_seed_find_metadata(fake, seed_text):
    query = re.search(r"curl http://localhost:8042/tools/find -d '(.*)'", seed_text).group(1)
    assert json.loads(query)['Metadata'] == {'LastUpdate': '^2019.*$'}
    found = [{'Type': 'Study', 'ID': 'old'}, {'Type': 'Study', 'ID': 'new'}, {'Type': 'Study', 'ID': 'gone'}]
    fake.set_rest_answer('POST', '/tools/find', lambda body: found if json.loads(body)['Expand'] else [])
    fake.set_rest_answer('GET', '/studies/old/metadata?expand', {'LastUpdate': '20190102T101010'})
    fake.set_rest_answer('GET', '/studies/new/metadata?expand', {'LastUpdate': '20240102T101010'})
    fake.load_script(SEED_SCRIPTS / 'find_metadata.py')
    r = fake.call_rest('/tools/find', 'POST', query)
    assert r.json() == [{'Type': 'Study', 'ID': 'old', 'Metadata': {'LastUpdate': '20190102T101010'}}]
    assert fake.call_rest('/tools/find', 'POST', {'Level': 'Study', 'Query': {}}).json() == ['old', 'new']
    assert fake.call_rest('/tools/find').status == 405


def test_seed_http_filter(fake, capsys):
    fake.load_script(SEED_SCRIPTS / 'http_filter.py')
    assert fake.call_filter('/patients', headers={'Host': 'localhost'}, get={'expand': ''}) is True
    out = capsys.readouterr().out
    assert out.startswith('User trying to access URI: /patients\n')
    assert "'ip': '127.0.0.1'" in out and "'headers': {'host': 'localhost'}" in out and "'get': {'expand': ''}" in out
    assert fake.call_rest('/no-route').status == 404      # allowed, then no route


def test_seed_lookup_dictionary(fake, seed_text):
    # the entry the page shows Orthanc answering for PatientID
    entry = json.loads(re.search(r'Entry in the dictionary: (\{.*?\n\})', seed_text, re.S).group(1))
    fake.implement('LookupDictionary', lambda name: entry if name == 'PatientID' else None)
    fake.load_script(SEED_SCRIPTS / 'lookup_dictionary.py')
    assert [level for level, _ in fake.logs] == ['WARNING', 'WARNING']
    for _, message in fake.logs:
        assert '] ' + message + '\n' in seed_text
    assert fake.logs[1][1] == 'Name of the value representation: LO'


def test_seed_explorer(fake):
    fake.load_script(SEED_SCRIPTS / 'explorer.py')
    javascript = fake.registered['ExtendOrthancExplorer'][0]['javascript']
    assert "$.get('../execute-python'" in javascript
    assert fake.call_rest('/execute-python').text == 'Python version: %s' % platform.python_version()


def test_seed_stored_instance(fake, capsys):
    fake.load_script(SEED_SCRIPTS / 'stored_instance.py')
    orthanc = fake.module
    metadata = {'TransferSyntax': '1.2.840.10008.1.2.1', 'SopClassUid': '1.2.840.10008.5.1.4.1.1.7'}
    dicom = fake.make_object('DicomInstance', GetInstanceSize=lambda: 1234, GetInstanceMetadata=metadata.get,
                             GetInstanceOrigin=lambda: orthanc.InstanceOrigin.REST_API,
                             GetInstanceSimplifiedJson=lambda: '{"PatientID": "P1"}')
    fake.registered['RegisterOnStoredInstanceCallback'][0]['callback'](dicom, 'instance-1')
    assert capsys.readouterr().out == (
        'Received instance instance-1 of size 1234 (transfer syntax 1.2.840.10008.1.2.1, '
        'SOP class UID 1.2.840.10008.5.1.4.1.1.7)\nThis instance was received through the REST API\n'
        "{'PatientID': 'P1'}\n")


def test_seed_scheduler(fake):
    fake.load_script(SEED_SCRIPTS / 'scheduler.py')
    orthanc = fake.module
    fake.emit_change(orthanc.ChangeType.ORTHANC_STARTED, orthanc.ResourceType.NONE, '')
    fake.emit_change(orthanc.ChangeType.ORTHANC_STOPPED, orthanc.ResourceType.NONE, '')
    assert fake.logs[:3] == [('WARNING', 'Starting the scheduler'), ('WARNING', 'In Hello()'),
                             ('WARNING', 'Stopping the scheduler')]


def test_seed_inspect_api(fake, capsys):
    fake.load_script(SEED_SCRIPTS / 'inspect_api.py')
    out = capsys.readouterr().out
    assert 'Function RestApiGet():\n  Documentation: Orthanc SDK: before 1.0.0.\n' in out
    assert 'Class ChangeType:\n  Documentation: Generated from C enumeration OrthancPluginChangeType.\n' in out
    assert '  - Enumeration value STABLE_STUDY: %d\n' % ENUMS['enums']['ChangeType']['STABLE_STUDY'] in out
    assert '  - Method AnswerBuffer(): None\n' in out and '  - Method Redirect(): Orthanc SDK:' in out
