# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake ``orthanc`` module, to unit-test plugin scripts without Orthanc.

install() builds it from the typing stubs installed with the plugin and the
values of the enumerations: every name of the real module, every function and
method with the stub's signature, its arguments bound and type-checked
(TypeError) as by the real module.  What a script needs from Orthanc in a
test is simulated: REST routes (call_rest), changes (emit_change), HTTP
filters (call_filter), Orthanc's REST API as a table of answers
(set_rest_answer), the log, the configuration; anything else raises
NotImplementedError until the test implements it (implement).  Guide:
docs/testing-your-plugin.md.
"""

import ast
import asyncio
import collections
import functools
import hashlib
import http
import inspect
import io
import json
import logging
import re
import sys
import traceback
import types
import urllib.parse
import uuid
import weakref
from pathlib import Path

from . import server

STUBS = Path(__file__).resolve().parent.parent / 'orthanc-stubs' / '__init__.pyi'
ENUMS = Path(__file__).resolve().parent / 'orthanc_enums.json'
NOT_SIMULATED = ('orthanc.{0} is not simulated by orthanc_plugin_testing.fake; '
                 'give it an implementation with fake.implement("{0}", function)')

# The HTTP status Orthanc answers for an error code (any other code: 500).
_HTTP_STATUS = {
    400: 'PARAMETER_OUT_OF_RANGE BAD_PARAMETER_TYPE BAD_REQUEST URI_SYNTAX BAD_FILE_FORMAT BAD_JSON '
         'CREATE_DICOM_NOT_STRING CREATE_DICOM_OVERRIDE_TAG CREATE_DICOM_USE_CONTENT CREATE_DICOM_NO_PAYLOAD '
         'CREATE_DICOM_USE_DATA_URI_SCHEME CREATE_DICOM_BAD_PARENT CREATE_DICOM_PARENT_IS_INSTANCE',
    401: 'UNAUTHORIZED', 403: 'FORBIDDEN_ACCESS', 404: 'INEXISTENT_ITEM INEXISTENT_FILE UNKNOWN_RESOURCE '
    'INEXISTENT_TAG', 406: 'NOT_ACCEPTABLE', 409: 'REVISION', 415: 'UNSUPPORTED_MEDIA_TYPE', 416: 'BAD_RANGE',
    503: 'DATABASE_UNAVAILABLE DATABASE_CANNOT_SERIALIZE'}
# Orthanc's descriptions of the errors the fake raises itself.
_DESCRIPTIONS = {'UNKNOWN_RESOURCE': 'Unknown resource', 'BAD_SEQUENCE_OF_CALLS': 'Bad sequence of calls',
                 'PLUGIN': 'Error encountered within the plugin engine'}
# The stub types checked with isinstance (a bool parameter also takes an int).
_PLAIN_TYPES = {'str': str, 'int': int, 'bool': int, 'float': (int, float), 'bytes': bytes,
                'bytearray': bytearray, 'memoryview': memoryview, 'Dict': dict, 'List': list, 'Tuple': tuple}
_BUFFERS = (bytes, bytearray, memoryview, str)
_FILES = (io.RawIOBase, io.BufferedIOBase)
_HTTP_METHODS = ('GET', 'POST', 'PUT', 'DELETE')
_REST_API = re.compile(r'RestApi(Get|Post|Put|Delete)(AfterPlugins)?')
_LOG = re.compile(r'Log(Info|Warning|Error)')
_RECORDED = re.compile(r'(Register|Set|Extend)[A-Z]\w*')      # ... that return None
_BOUNDARY = 'orthanc-plugin-testing-fake'
_INSTALLED = []     # (Fake, the sys.modules['orthanc'] it hides, or None)


def install(stubs=None, enums=None):
    """Builds a fresh fake orthanc module from the stubs and the enumeration
    values (default: those installed beside this package), puts it in
    sys.modules['orthanc'] and returns its controller, a Fake."""
    fake = Fake(stubs, enums)
    _INSTALLED.append((fake, sys.modules.get('orthanc')))
    sys.modules['orthanc'] = fake.module
    return fake


def uninstall():
    """Undoes the last install(): sys.modules['orthanc'] is again what it was
    (nothing, or the module it hid); the scripts loaded are forgotten and
    their folders leave sys.path."""
    if not _INSTALLED:
        raise RuntimeError('orthanc_plugin_testing.fake.uninstall(): no fake is installed')
    fake, hidden = _INSTALLED.pop()
    fake._forget_scripts()
    if hidden is None:
        sys.modules.pop('orthanc', None)
    else:
        sys.modules['orthanc'] = hidden


def _encode(value):
    """The bytes of a buffer, of a str (UTF-8) or of a JSON document (dict, list)."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return value.encode('utf-8') if isinstance(value, str) else bytes(value)


def _multipart(item_type, parts):
    """The body of a multipart answer: each item with its type, length and headers."""
    body = b''
    for data, headers in parts:
        head = ['--' + _BOUNDARY, 'Content-Type: ' + item_type, 'Content-Length: %d' % len(data)]
        body += '\r\n'.join(head + ['%s: %s' % h for h in headers.items()] + ['', '']).encode() + data + b'\r\n'
    return body + ('--%s--\r\n' % _BOUNDARY).encode()


def _run(function, *args, **kwargs):
    """Calls a script's callback; an ``async def`` one is run to its end (the
    plugin runs it on its event loop while Orthanc's thread waits)."""
    result = function(*args, **kwargs)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def _annotation(node):
    """The source text of a stub annotation (of a quoted one: its content)."""
    if node is None:
        return inspect.Parameter.empty
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ast.unparse(node)


@functools.lru_cache(maxsize=None)
def _signature(fn):
    """The inspect.Signature of a stub def, annotations as their source text."""
    P, a = inspect.Parameter, fn.args
    positional = a.posonlyargs + a.args
    defaults = [P.empty] * (len(positional) - len(a.defaults)) + [ast.literal_eval(d) for d in a.defaults]
    params = [P(arg.arg, P.POSITIONAL_ONLY if i < len(a.posonlyargs) else P.POSITIONAL_OR_KEYWORD,
                default=d, annotation=_annotation(arg.annotation))
              for i, (arg, d) in enumerate(zip(positional, defaults))]
    if a.vararg:
        params.append(P(a.vararg.arg, P.VAR_POSITIONAL, annotation=_annotation(a.vararg.annotation)))
    params += [P(arg.arg, P.KEYWORD_ONLY, default=P.empty if d is None else ast.literal_eval(d),
                 annotation=_annotation(arg.annotation)) for arg, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        params.append(P(a.kwarg.arg, P.VAR_KEYWORD, annotation=_annotation(a.kwarg.annotation)))
    return inspect.Signature(params, return_annotation=_annotation(fn.returns))


def _not_instantiable(cls, *args, **kwargs):
    """__new__ of the object classes: as with the real module, scripts cannot create them."""
    raise TypeError("cannot create 'orthanc.%s' instances" % cls.__name__)


class _Stubs:
    """The public classes, functions and type aliases of the stubs (not the Protocols: they type callbacks)."""

    def __init__(self, text):
        self.classes, self.functions, self.aliases, self.protocols = {}, {}, {}, set()
        for node in ast.parse(text).body:
            name = getattr(node, 'name', '_')
            if isinstance(node, ast.ClassDef) and not name.startswith('_'):
                if 'Protocol' in [ast.unparse(b) for b in node.bases]:
                    self.protocols.add(name)
                else:
                    self.classes[name] = node
            elif isinstance(node, ast.FunctionDef) and not name.startswith('_'):
                self.functions[name] = node
            elif isinstance(node, ast.Assign) and [type(t) for t in node.targets] == [ast.Name]:
                self.aliases[node.targets[0].id] = node.value


_read_stubs = functools.lru_cache(maxsize=4)(_Stubs)     # by text: each file parsed once


class _Method:
    """A method of an object class: a method descriptor, as those of the real module's C types."""

    def __init__(self, function):
        self.__func__ = function
        for attr in ('__name__', '__qualname__', '__module__', '__doc__', '__signature__'):
            setattr(self, attr, getattr(function, attr))

    def __get__(self, obj, cls=None):
        return self if obj is None else types.MethodType(self.__func__, obj)

    def __call__(self, *args, **kwargs):
        return self.__func__(*args, **kwargs)


class Response(server.Response):
    """What call_rest answers (text and json() as the real server's): status,
    body (bytes), content_type, headers (lower-case names), cookies,
    parts (a multipart answer's items: (bytes, headers)), calls (the callback's calls of its
    RestOutput, in order: (method, arguments)) and error (the traceback of the callback's
    exception, or why the answer is an error; else None)."""

    def __init__(self, status, body=b'', content_type=None, headers=(), cookies=(), parts=(), calls=(),
                 error=None):
        super().__init__(status, dict(headers), body)
        self.content_type, self.error = content_type, error
        self.cookies = dict(cookies)
        self.parts, self.calls = list(parts), list(calls)


class _Answer:
    """What one RestOutput sent, with Orthanc's order rules (headers and cookies, then one answer or one
    multipart or streamed answer and its items; else OrthancException BAD_SEQUENCE_OF_CALLS).  Its
    CamelCase methods simulate the RestOutput methods of the same names."""

    def __init__(self, fake):
        self.fake, self.state, self.closed = fake, 'headers', False
        self.status, self.body, self.content_type, self.item_type = None, b'', None, None
        self.headers, self.cookies, self.parts, self.calls = {}, {}, [], []

    def record(self, method, args):
        if self.closed:
            raise ValueError('orthanc.RestOutput used after its callback returned')
        self.calls.append((method, tuple(args)))

    def expect(self, state):
        if self.state != state:
            raise self.fake._error('BAD_SEQUENCE_OF_CALLS')

    def send(self, status, body=b'', content_type=None, headers=None, state='answered'):
        self.expect('headers')
        self.state, self.status, self.body, self.content_type = state, status, body, content_type
        if content_type is not None:
            self.headers['content-type'] = content_type
        self.headers.update(headers or {})

    def response(self, error=None):
        body = _multipart(self.item_type, self.parts) if self.state == 'multipart' else self.body
        return Response(self.status, body, self.content_type, self.headers, self.cookies, self.parts,
                        self.calls, error)

    def AnswerBuffer(self, answer, mimeType):
        self.send(200, _encode(answer), mimeType)

    def SendHttpStatusCode(self, status):
        self.send(status)

    def SendHttpStatus(self, status, body=None, bodySize=None):
        body = b'' if body is None else _encode(body)
        self.send(status, body if bodySize is None else body[:bodySize])

    def SendUnauthorized(self, realm):
        self.send(401, headers={'www-authenticate': 'Basic realm="%s"' % realm})

    def SendMethodNotAllowed(self, allowedMethods=''):
        self.send(405, headers={'allow': allowedMethods} if allowedMethods else None)

    def Redirect(self, redirection):
        # Orthanc 1.10 answers a plugin's redirection with 301, later ones with 307
        self.send(301 if self.fake.sdk < (1, 11) else 307, headers={'location': redirection})

    def SetHttpHeader(self, key, value):
        self.expect('headers')
        self.headers[key.lower()] = value

    def SetCookie(self, cookie, value):
        self.expect('headers')
        self.cookies[cookie] = value

    def SetHttpErrorDetails(self, details, log):
        """Only recorded (Orthanc adds the details to the HTTP error of a failed callback)."""

    def StartMultipartAnswer(self, subType, contentType):
        self.send(200, content_type='multipart/%s; type=%s; boundary=%s' % (subType, contentType, _BOUNDARY),
                  state='multipart')
        self.item_type = contentType

    def SendMultipartItem(self, answer):
        self.SendMultipartItem2(answer, {})

    def SendMultipartItem2(self, answer, headers):
        self.expect('multipart')
        self.parts.append((_encode(answer), dict(headers)))

    def StartStreamAnswer(self, contentType):
        self.send(200, content_type=contentType, state='stream')

    def SendStreamChunk(self, answer):
        self.expect('stream')
        self.body += _encode(answer)


class Fake:
    """The controller of one fake orthanc module: ``module``; ``registered``: what each Register...(),
    Set...() or Extend...() function returning None received (per name, a list of {parameter:
    value}); ``rest_calls``: the (method, uri, body) of the RestApi...() calls; ``logs``: the (level,
    message) of Log...() and LogHandler; ``errors``: the (where, traceback) of the callbacks'
    exceptions that Orthanc would log; ``configuration``: the dict GetConfiguration() gives as JSON."""

    def __init__(self, stubs=None, enums=None):
        self.stubs_path = Path(stubs or STUBS)
        if not self.stubs_path.is_file():
            raise FileNotFoundError('%s: no typing stubs of the orthanc module (build the plugin, or give '
                                    'install(stubs=..., enums=...))' % self.stubs_path)
        self._stubs = _read_stubs(self.stubs_path.read_text())
        values = json.loads(Path(enums or ENUMS).read_text())
        self.sdk_version = values['sdk_version']
        self.sdk = tuple(int(n) for n in self.sdk_version.split('.'))
        self.configuration, self.registered = {}, collections.defaultdict(list)
        self.rest_calls, self.logs, self.errors, self._scripts, self._paths = [], [], [], [], []
        self._rest_answers, self._signatures, self._impls, self._checks = {}, {}, {}, {}
        self._own_methods = weakref.WeakKeyDictionary()     # object -> {method: function}
        self._answers = weakref.WeakKeyDictionary()         # RestOutput -> _Answer
        self.module = types.ModuleType('orthanc', 'Fake orthanc module (orthanc_plugin_testing.fake) of the '
                                                  'Orthanc SDK %s.' % self.sdk_version)
        for attr in ('__loader__', '__package__', '__spec__'):
            delattr(self.module, attr)
        self._build_classes(values['enums'])
        self._build_functions()
        self._add_simulations()
        codes = vars(self.module.ErrorCode)
        self._statuses = {codes[n]: status for status, names in _HTTP_STATUS.items() for n in names.split()
                          if n in codes}

    # ---------------------------------------------------------------- the module

    def _build_classes(self, enums):
        """Enumerations, OrthancException, object classes, classes written in Python (_class_...)."""
        for name, node in self._stubs.classes.items():
            special = getattr(self, '_class_' + name, None)
            if name in enums:
                cls = self._enum(name, node, enums[name])
            elif [ast.unparse(b) for b in node.bases] == ['Exception']:
                cls = type(name, (Exception,), {})
            elif special is not None:
                cls = special()
                cls.__qualname__ = name
                for fn in node.body:        # its methods get the stub's signature
                    if isinstance(vars(cls).get(getattr(fn, 'name', None)), types.FunctionType):
                        vars(cls)[fn.name].__signature__ = _signature(fn)
            elif any(isinstance(s, ast.AnnAssign) for s in node.body):
                raise ValueError('%s: orthanc.%s has no values in orthanc_enums.json' % (self.stubs_path, name))
            else:
                cls = type(name, (), {'__new__': _not_instantiable})
            cls.__module__, cls.__doc__ = 'orthanc', ast.get_docstring(node)
            setattr(self.module, name, cls)

    @staticmethod
    def _enum(name, node, values):
        """An enumeration: a class of plain ints, the names of the stubs with the values of the JSON."""
        members = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign)]
        missing = [m for m in members if m not in values]
        if missing:
            raise ValueError('orthanc_enums.json has no value for orthanc.%s.%s' % (name, missing[0]))
        return type(name, (), {m: values[m] for m in members})

    def _class_LogHandler(self):
        fake = self

        class LogHandler(logging.Handler):
            def emit(self, record):
                """Records the record in fake.logs, at Orthanc's level for its level."""
                level = ('ERROR' if record.levelno >= logging.ERROR else
                         'WARNING' if record.levelno >= logging.WARNING else 'INFO')
                fake.logs.append((level, self.format(record)))
        return LogHandler

    @staticmethod
    def _class_StreamedAnswer():
        class StreamedAnswer:
            def __init__(self, chunks, content_type='application/octet-stream'):
                """A stream a REST callback returns: chunks (an iterable, or a binary file) and their type."""
                if not isinstance(content_type, str):
                    raise TypeError('StreamedAnswer() content_type must be a str, not %s'
                                    % type(content_type).__name__)
                self.chunks, self.content_type = chunks, content_type
        return StreamedAnswer

    def _build_functions(self):
        """The module's functions and the methods of its object classes."""
        for name, node in self._stubs.functions.items():
            setattr(self.module, name, self._callable(name, node, None))
        for cname, node in self._stubs.classes.items():
            cls = getattr(self.module, cname)
            for fn in node.body if cls.__new__ is _not_instantiable else ():
                if isinstance(fn, ast.FunctionDef):
                    setattr(cls, fn.name, _Method(self._callable('%s.%s' % (cname, fn.name), fn, cls)))

    def _callable(self, qualname, node, owner):
        """The fake of one stub def: binds the arguments to the stub's signature and checks their
        types (TypeError, as the real module), then calls the implementation of qualname."""
        sig = self._signatures[qualname] = _signature(node)
        checks = [(p.name, p.annotation, self._check_of(p.annotation)) for p in sig.parameters.values()
                  if p.annotation is not p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        checks = [c for c in checks if c[2] is not None]
        fake = self

        def function(*args, **kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError('orthanc.%s(): %s' % (qualname, e)) from None
            bound.apply_defaults()
            if owner is not None and not isinstance(bound.args[0], owner):
                raise TypeError("descriptor '%s' for 'orthanc.%s' objects doesn't apply to a '%s' object"
                                % (node.name, owner.__name__, type(bound.args[0]).__name__))
            for name, text, check in checks:
                if not check(bound.arguments[name]):
                    raise TypeError('orthanc.%s() argument %r must be %s, not %s'
                                    % (qualname, name, text, type(bound.arguments[name]).__name__))
            return fake._call(qualname, bound.args, bound.kwargs)

        function.__name__, function.__qualname__, function.__module__ = node.name, qualname, 'orthanc'
        function.__doc__, function.__signature__ = ast.get_docstring(node), sig
        return function

    def _check_of(self, annotation):
        """The predicate of an annotation's text (made once per text)."""
        if annotation not in self._checks:
            self._checks[annotation] = self._checker(ast.parse(annotation, mode='eval').body)
        return self._checks[annotation]

    def _checker(self, node):
        """A predicate for the values of an annotation; None: any value (Any, or an unknown type)."""
        if isinstance(node, ast.Subscript):
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if ast.unparse(node.value) in ('Optional', 'Union'):
                checks = [self._checker(i) for i in items]
                if None in checks:
                    return None
                if ast.unparse(node.value) == 'Optional':
                    checks.append(lambda v: v is None)
                return lambda v: any(check(v) for check in checks)
            node = node.value
        name = ast.unparse(node)
        if name == 'None':
            return lambda v: v is None
        if name in self._stubs.aliases:
            return self._checker(self._stubs.aliases[name])
        if name in _PLAIN_TYPES:
            return lambda v: isinstance(v, _PLAIN_TYPES[name])
        if name == 'Callable' or name in self._stubs.protocols:
            return callable
        if name in self._stubs.classes:
            return lambda v: isinstance(v, getattr(self.module, name))
        return None

    def _call(self, qualname, args, kwargs):
        """Runs qualname's implementation: the object's, the test's, the fake's, else NotImplementedError."""
        if '.' in qualname:
            obj, method = args[0], qualname.split('.', 1)[1]
            if obj in self._answers:
                self._answers[obj].record(method, args[1:])
            own = self._own_methods.get(obj, {}).get(method)
            if own is not None:
                return own(*args[1:], **kwargs)
        impl = self._impls.get(qualname)
        if impl is None:
            raise NotImplementedError(NOT_SIMULATED.format(qualname))
        return impl(*args, **kwargs)

    def _add_simulations(self):
        """The fake's implementations of the stub names it simulates."""
        simple = {'GetConfiguration': lambda: json.dumps(self.configuration),
                  'ComputeMd5': lambda buffer: hashlib.md5(_encode(buffer)).hexdigest(),
                  'GenerateUuid': lambda: str(uuid.uuid4()),
                  'RestApiGet2': lambda uri, headers, afterPlugins: self._rest_api('GET', uri)}
        for qualname, sig in self._signatures.items():
            cname, _, method = qualname.rpartition('.')
            rest_api, log = _REST_API.fullmatch(qualname), _LOG.fullmatch(qualname)
            if cname == 'RestOutput' and hasattr(_Answer, method):
                impl = functools.partial(self._on_answer, method)
            elif rest_api:
                impl = functools.partial(self._rest_api, rest_api.group(1).upper())
            elif log:
                impl = functools.partial(self._log, log.group(1).upper())
            elif qualname in simple:
                impl = simple[qualname]
            elif _RECORDED.fullmatch(qualname) and sig.return_annotation == 'None':
                impl = functools.partial(self._record, qualname)
            else:
                continue
            self._impls[qualname] = impl

    def _error(self, name):
        """The OrthancException of ErrorCode.<name>, one of the errors the fake raises."""
        return self.module.OrthancException(getattr(self.module.ErrorCode, name), _DESCRIPTIONS[name])

    # ------------------------------------------------------- what is simulated

    def _on_answer(self, method, output, *args):
        return getattr(self._answers[output], method)(*args)

    def _rest_api(self, method, uri, body=None):
        """RestApiGet, RestApiPost... and their AfterPlugins forms: the answer table."""
        body = None if body is None else _encode(body)
        self.rest_calls.append((method, uri, body))
        answer = self._rest_answers.get((method, uri))
        if answer is None:
            raise self._error('UNKNOWN_RESOURCE')
        answer = answer(body) if callable(answer) else answer
        return None if method == 'DELETE' else _encode(answer)

    def _record(self, name, *args, **kwargs):
        self.registered[name].append(dict(zip(self._signatures[name].parameters, args), **kwargs))

    def _log(self, level, message):
        self.logs.append((level, message))

    # ----------------------------------------------------------- for the tests

    def implement(self, name, function):
        """Gives orthanc.<name> ('Function' or 'Class.Method') an implementation, called with the
        arguments bound to the stub's signature, positionally (for a method: self first)."""
        if name not in self._signatures:
            raise ValueError('orthanc.%s is not a function or method of the stubs %s' % (name, self.stubs_path))
        if not callable(function):
            raise TypeError('implement(%r, ...): the implementation must be callable' % name)
        self._impls[name] = function

    def make_object(self, class_name, **methods):
        """An object of an object class (scripts cannot create them), e.g. a DicomInstance for a
        callback; ``methods``: its own implementations, called without self
        (make_object('DicomInstance', GetInstanceSize=lambda: 1234)).  A RestOutput records its
        calls (``calls``) and its answer, as the one call_rest gives a route."""
        cls = getattr(self.module, class_name, None)
        if not (isinstance(cls, type) and cls.__new__ is _not_instantiable):
            raise ValueError('orthanc.%s is not an object class of the fake module' % class_name)
        unknown = [m for m in methods if '%s.%s' % (class_name, m) not in self._signatures]
        if unknown:
            raise ValueError('orthanc.%s has no method %s' % (class_name, unknown[0]))
        obj = object.__new__(cls)
        self._own_methods[obj] = methods
        if class_name == 'RestOutput':
            self._answers[obj] = _Answer(self)
            obj.calls = self._answers[obj].calls
        return obj

    def set_rest_answer(self, method, uri, answer):
        """What orthanc.RestApi<Method>(uri) returns: bytes, str, a dict or list (JSON), or a
        callable(body) returning one (body: bytes for POST and PUT, else None).  Any other uri
        raises OrthancException(ErrorCode.UNKNOWN_RESOURCE), as Orthanc does."""
        if method.upper() not in _HTTP_METHODS:
            raise ValueError('set_rest_answer(): method must be one of %s' % ', '.join(_HTTP_METHODS))
        if not (callable(answer) or isinstance(answer, _BUFFERS + (dict, list))):
            raise TypeError('set_rest_answer(): answer must be bytes, str, dict, list or callable, not %s'
                            % type(answer).__name__)
        self._rest_answers[(method.upper(), uri)] = answer

    def load_script(self, path, substitutions=None):
        """Runs a plugin script as Orthanc does at its start: a fresh module named after the file,
        its folder on sys.path; ``substitutions``: text replaced first ({'@SAMPLE_DCM@': path}).
        Returns the script's module; its exception is raised here (Orthanc would not start)."""
        if sys.modules.get('orthanc') is not self.module:
            raise RuntimeError('load_script(): this fake is not the installed orthanc module (use install())')
        path = Path(path).resolve()
        text = path.read_text()
        for key, value in (substitutions or {}).items():
            text = text.replace(key, str(value))
        script = types.ModuleType('_orthanc_script' if path.stem == 'orthanc' else path.stem)
        script.__file__ = str(path)
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
            self._paths.append(str(path.parent))
        sys.modules[script.__name__] = script
        try:
            exec(compile(text, str(path), 'exec'), vars(script))
        except BaseException:
            del sys.modules[script.__name__]
            raise
        self._scripts.append(script)
        return script

    def _forget_scripts(self):
        """Takes the loaded scripts out of sys.modules and their folders out of sys.path."""
        for script in self._scripts:
            if sys.modules.get(script.__name__) is script:
                del sys.modules[script.__name__]
        for folder in self._paths:
            if folder in sys.path:
                sys.path.remove(folder)
        self._scripts, self._paths = [], []

    def call_rest(self, uri, method='GET', body=b'', headers=None, get=None):
        """Serves one HTTP request as Orthanc does: the HTTP filters (403 when one denies), then the
        first route whose regex matches the whole path (404 without one), called with the plugin's
        keyword arguments.  A query string in uri goes to ``get``; body: bytes, str, dict or list
        (JSON).  Returns a Response."""
        method = method.upper()
        if method not in _HTTP_METHODS:
            raise ValueError('call_rest(): method must be one of %s' % ', '.join(_HTTP_METHODS))
        path, _, query = uri.partition('?')
        arguments = dict(urllib.parse.parse_qsl(query, keep_blank_values=True), **(get or {}))
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        if not self.call_filter(path, method, headers, arguments):
            return Response(403)
        for route in self.registered['RegisterRestCallback']:
            match = re.fullmatch(route['pathRegularExpression'], path)
            if match:
                request = {'method': method, 'groups': tuple(g or '' for g in match.groups())}
                if method == 'GET':
                    request['get'] = arguments
                request['headers'] = headers
                if method in ('POST', 'PUT'):
                    request['body'] = _encode(body)
                return self._serve(route, path, request)
        return Response(404)

    def _serve(self, route, uri, request):
        """One REST callback's answer, or the HTTP error the plugin gives for an exception or none."""
        output = self.make_object('RestOutput')
        answer, error = self._answers[output], None
        code, description = self.module.ErrorCode.PLUGIN, _DESCRIPTIONS['PLUGIN']
        details = 'The Python REST callback for %s returned without sending an answer' % uri
        try:
            self._stream(answer, _run(route['callback'], output, uri, **request))
        except (Exception, SystemExit) as e:
            error = self._caught('REST callback %s (%s %s)'
                                 % (route['pathRegularExpression'], request['method'], uri))
            details = '%s: %s' % (type(e).__name__, e)
            if isinstance(e, self.module.OrthancException) and len(e.args) == 2 and isinstance(e.args[0], int):
                code, description = e.args[0], str(e.args[1])
        finally:
            answer.closed = True
        if answer.status is not None:
            return answer.response(error)
        status = self._statuses.get(code, 500)      # the HTTP error, a JSON body as Orthanc's
        body = json.dumps({'Details': details, 'HttpError': http.HTTPStatus(status).phrase,
                           'HttpStatus': status, 'Message': description, 'Method': request['method'],
                           'OrthancError': description, 'OrthancStatus': code, 'Uri': uri}, indent=3).encode()
        return Response(status, body, 'application/json', {'content-type': 'application/json'},
                        calls=answer.calls, error=error or details)

    def _stream(self, answer, result):
        """A callback's return value: a stream (generator, binary file, StreamedAnswer) is its answer."""
        content_type = 'application/octet-stream'
        if isinstance(result, getattr(self.module, 'StreamedAnswer', ())):
            result, content_type = result.chunks, result.content_type
        elif not isinstance(result, (types.GeneratorType,) + _FILES):
            return
        close = getattr(result, 'close', lambda: None)
        try:
            if 'RestOutput.StartStreamAnswer' not in self._signatures:
                raise NotImplementedError('a REST callback that returns a stream (a generator, a binary file '
                                          'or an orthanc.StreamedAnswer) needs Orthanc 1.12.6 or newer; this '
                                          'is Orthanc %s' % self.sdk_version)
            if answer.state == 'headers':
                answer.StartStreamAnswer(content_type)
            if isinstance(result, _FILES):
                result = iter(functools.partial(result.read, 1 << 20), b'')
            for chunk in result:
                if not isinstance(chunk, _BUFFERS):
                    raise TypeError("a streamed answer's chunks must be bytes (or bytes-like) or str, not %s"
                                    % type(chunk).__name__)
                answer.SendStreamChunk(chunk)
        finally:
            close()

    def call_filter(self, uri, method='GET', headers=None, get=None, ip='127.0.0.1'):
        """Whether the HTTP filters (RegisterIncomingHttpRequestFilter) allow a request: called in
        order as the plugin calls them; a false answer or an exception denies (the first stops)."""
        request = {'method': getattr(self.module.HttpMethod, method.upper()), 'ip': ip,
                   'headers': {k.lower(): v for k, v in (headers or {}).items()}}
        if method.upper() == 'GET':
            request['get'] = dict(get or {})
        for entry in self.registered['RegisterIncomingHttpRequestFilter']:
            try:
                allowed = bool(_run(entry['callback'], uri, **request))
            except Exception:
                self._caught('HTTP filter for %s (request denied)' % uri)
                allowed = False
            if not allowed:
                return False
        return True

    def emit_change(self, changeType, resourceType, resourceId):
        """Gives one change to every RegisterOnChangeCallback callback, in order, positionally; as in
        Orthanc one that raises does not stop the others, then the first exception is raised here."""
        failures = []
        for entry in self.registered['RegisterOnChangeCallback']:
            try:
                _run(entry['callback'], changeType, resourceType, resourceId)
            except Exception as e:
                self._caught('OnChange callback')
                failures.append(e)
        if failures:
            raise failures[0]

    def _caught(self, where):
        """Keeps the traceback of the exception being handled, as the plugin logs it."""
        self.errors.append((where, traceback.format_exc()))
        return self.errors[-1][1]
