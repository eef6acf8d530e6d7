# SPDX-License-Identifier: GPL-3.0-or-later
# Bad arguments for every callable, called inside the server.
# POST /bad-args with {"name": ..., "params": [{"name", "kind", "nullable",
# "enum", "unsigned", "optional"}]} runs every bad call of the plan and answers
# [{"case", "exc", "message"}] ("exc" is None when the call returned).
# Only the replaced argument is wrong; the other arguments are harmless
# values, so that a wrongly accepted call does no damage.
import json
import os

import orthanc

WORKDIR = '@WORKDIR@'


class Unrelated:
    pass


def Image():
    return orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 2, 2)


def DicomInstance():
    return orthanc.CreateDicomInstance(DICOM)


def Peers():
    return orthanc.GetPeers()


def FindMatcher():
    return orthanc.CreateFindMatcher(DICOM)


DICOM = None


def Callback(*args, **kw):
    pass


# Harmless valid values, by (callable, parameter) then by kind.
VALID_BY_NAME = {
    'path': os.path.join(WORKDIR, 'bad-args-scratch.bin'),
    'url': 'http://127.0.0.1:1/opy-bad-args',
    'uri': '/opy-no-such-route',
    'redirection': '/opy-no-such-route',
    'transferSyntax': '1.2.840.10008.1.2.1',
    'json': '{}',
    'instanceId': 'opy-no-such-instance',
    'property': 5000,
    'name': 'opy_bad_args_name',
    'mimeType': 'text/plain',
}


def EnumClass(name):
    return getattr(orthanc, name)


def EnumValues(name):
    cls = EnumClass(name)
    return sorted(v for k, v in vars(cls).items() if not k.startswith('_') and isinstance(v, int))


def Valid(p):
    kind = p['kind']
    if p['name'] in VALID_BY_NAME and kind in ('str', 'int', 'uint'):
        return VALID_BY_NAME[p['name']]
    if kind == 'str':
        return 'x'
    if kind == 'buffer':
        return b'x'
    if kind in ('int', 'uint'):
        return 1
    if kind in ('enum', 'flags'):
        return EnumValues(p['enum'])[0]
    if kind == 'float':
        return 1.0
    if kind == 'bool':
        return False
    if kind == 'dict':
        return {}
    if kind == 'callable':
        return Callback
    if kind.startswith('object:'):
        make = globals().get(kind[7:])
        return make() if make is not None else object()  # type no test can reach
    raise ValueError('no valid value for kind %r' % kind)


def Wrong(p):
    """(label, value) pairs that must all be refused for parameter p."""
    kind = p['kind']
    out = [('object()', object()), ('Unrelated()', Unrelated())]
    if not p['nullable']:
        out.append(('None', None))
    if kind == 'str':
        out += [('1.5', 1.5), ("b'x'", b'x'), ('7', 7)]
    elif kind == 'buffer':
        out += [('1.5', 1.5), ('7', 7), ('[1]', [1])]
    elif kind in ('int', 'uint', 'enum', 'flags'):
        out += [('1.5', 1.5), ("'x'", 'x'), ("b'x'", b'x'), ('2**70', 2 ** 70), ('-2**70', -2 ** 70)]
        if kind == 'uint':
            out.append(('-1', -1))
        if kind == 'enum':
            values = EnumValues(p['enum'])
            out.append(('invalid enum %d' % (max(values) + 1000), max(values) + 1000))
            if -1 not in values:  # ErrorCode.INTERNAL_ERROR is -1
                out.append(('-1 (invalid enum)', -1))
        if kind == 'flags':
            values = EnumValues(p['enum'])
            bit = 1 << 30
            while any(v & bit for v in values):
                bit >>= 1
            out.append(('invalid flag %d' % bit, bit))
    elif kind == 'float':
        out += [("'x'", 'x'), ("b'x'", b'x')]
    elif kind == 'bool':
        out = [o for o in out if o[0] == 'None'] if not p['nullable'] else []
    elif kind == 'dict':
        out += [('1.5', 1.5), ("'x'", 'x'), ("{'a': 1}", {'a': 1}), ("{1: 'a'}", {1: 'a'})]
    elif kind == 'callable':
        out = [('1.5', 1.5), ("'x'", 'x')] + ([('None', None)] if not p['nullable'] else [])
    elif kind.startswith('object:'):
        other = 'Peers' if kind != 'object:Peers' else 'Image'
        out += [('1.5', 1.5), ("'x'", 'x'), (other + '()', globals()[other]())]
    return out


def Resolve(name):
    obj = orthanc
    for part in name.split('.'):
        obj = getattr(obj, part)
    return obj


def Run(fn, args, kw=None):
    try:
        fn(*args, **(kw or {}))
    except Exception as e:
        return type(e).__name__ if not isinstance(e, orthanc.OrthancException) else 'OrthancException', str(e)
    return None, None


def Plan(query, output):
    name = query['name']
    params = query['params']
    results = []

    def record(case, fn, args, kw=None):
        exc, message = Run(fn, args, kw)
        results.append({'case': case, 'exc': exc, 'message': message})

    unbound = Resolve(name)
    reachable = query.get('self')
    if '.' in name:
        # methods: wrong self on the unbound method
        valid = [Valid(p) for p in params]
        record('unbound, no self', unbound, [])
        record('unbound, self=object()', unbound, [object()] + valid)
        record('unbound, self=None', unbound, [None] + valid)
        if not reachable:
            return results
        if reachable == 'RestOutput':
            target = output
        else:
            target = globals()[reachable]()
        fn = getattr(target, name.split('.')[1])
    else:
        fn = unbound
    required = [p for p in params if not p['optional']]
    if required:
        record('no arguments', fn, [])
    valid = [Valid(p) for p in params]
    record('one argument too many', fn, valid + [valid[-1] if valid else 1])
    record('unknown keyword', fn, [Valid(p) for p in required], {'opyNoSuchKeyword': 1})
    for i, p in enumerate(params):
        for label, bad in Wrong(p):
            args = [Valid(q) for q in params]
            args[i] = bad
            record('%s=%s' % (p['name'], label), fn, args)
            kwargs = {q['name']: Valid(q) for q in params}
            kwargs[p['name']] = bad
            record('%s=%s (keyword)' % (p['name'], label), fn, [], kwargs)
    return results


def BadArgs(output, uri, **request):
    global DICOM
    query = json.loads(request['body'])
    if DICOM is None:
        DICOM = orthanc.GetDicomForInstance(query['instance'])
    results = Plan(query, output)
    output.AnswerBuffer(json.dumps(results), 'application/json')


orthanc.RegisterRestCallback('/bad-args', BadArgs)
