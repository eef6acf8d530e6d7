# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad arguments for every public callable of the orthanc module
(build/gen/names.txt), one test per name, all run inside one shared server
(scripts/api_bad_args.py): no arguments, one too many, an unknown keyword,
and each argument in turn replaced by values of the wrong type, out of range
or outside its enumeration.  Every call must raise TypeError, ValueError,
OverflowError or orthanc.OrthancException, and the server must live on.

The kind of each parameter comes from the typing stubs (build/orthanc.pyi)
and, for integers, from the C type of the SDK parameter of the same name in
the installed header (unsigned, enumeration, flags)."""

import ast
import json
import re
from pathlib import Path

import pytest

import dicomgen
import exercised
import harness

HEADER = harness.sdk_header()
PYI = harness.plugin_path().parent / 'orthanc.pyi'
COVERAGE = harness.plugin_path().parent / 'gen' / 'coverage.txt'

ALLOWED = {'TypeError', 'ValueError', 'OverflowError', 'OrthancException'}
# objects the plugin script can make (RestOutput: the route's own output)
REACHABLE = {'Image', 'DicomInstance', 'Peers', 'FindMatcher', 'RestOutput'}

# integer parameters of the hand-written wrappers that have no SDK parameter
# of the same name
INT_OVERRIDES = {
    ('CallRestApi', 'method'): ('enum', 'HttpMethod'),
    ('HttpClient', 'method'): ('enum', 'HttpMethod'),
    ('Peers.CallPeerApi', 'method'): ('enum', 'HttpMethod'),
    ('HttpClient', 'timeout'): ('uint', None),
    ('Peers.CallPeerApi', 'timeout'): ('uint', None),
    ('CreateImageFromBuffer', 'format'): ('enum', 'PixelFormat'),
    ('CreateMemoryBuffer', 'size'): ('uint', None),
}


def _header_functions():
    text = HEADER.read_text()
    out = {}
    for m in re.finditer(r'ORTHANC_PLUGIN_INLINE\s+[\w\s\*]+?\b(OrthancPlugin\w+)\s*\(([^)]*)\)', text):
        params = {}
        for decl in m.group(2).split(','):
            decl = ' '.join(decl.split())
            pm = re.match(r'(.*?)[\s\*]*\b(\w+)$', decl)
            if pm:
                params[pm.group(2)] = pm.group(1).replace('const ', '').strip(' *')
        out[m.group(1)] = params
    return out


def _python_to_c():
    mapping = {}
    for line in COVERAGE.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0].startswith('OrthancPlugin'):
            for py in fields[2:]:
                if re.fullmatch(r'[A-Z]\w*(\.\w+)?', py):
                    mapping.setdefault(py, fields[0])
    return mapping


def _stub_signatures():
    tree = ast.parse(PYI.read_text())
    sigs, classes = {}, set()

    def params(fn, method):
        args = fn.args.args[1:] if method else fn.args.args
        defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
        return [(a.arg, ast.unparse(a.annotation) if a.annotation else 'Any', d is not None)
                for a, d in zip(args, defaults)]

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            sigs[node.name] = params(node, False)
        elif isinstance(node, ast.ClassDef):
            classes.add(node.name)
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    sigs['%s.%s' % (node.name, sub.name)] = params(sub, True)
    return sigs, classes


def plan(name):
    sigs, classes = STUBS
    if name not in sigs:
        return None
    c_params = HEADER_FUNCTIONS.get(PY_TO_C.get(name, ''), {})
    out = []
    for pname, ann, optional in sigs[name]:
        nullable = ann.startswith('Optional[')
        core = ann[len('Optional['):-1] if nullable else ann
        p = {'name': pname, 'nullable': nullable, 'optional': optional, 'enum': None}
        if core == 'Buffer':
            p['kind'] = 'buffer'
        elif core == 'str':
            p['kind'] = 'str'
        elif core.startswith('Dict'):
            p['kind'] = 'dict'
        elif core in ('bool', 'float'):
            p['kind'] = core
        elif core.endswith('Callback'):
            p['kind'] = 'callable'
        elif core in classes:
            p['kind'] = 'object:' + core
        elif core == 'int':
            kind, enum = INT_OVERRIDES.get((name, pname), (None, None))
            if kind is None:
                ctype = c_params.get(pname, 'int32_t')
                if ctype.startswith('OrthancPlugin') and ctype[len('OrthancPlugin'):] in classes:
                    enum = ctype[len('OrthancPlugin'):]
                    kind = 'flags' if enum.endswith('Flags') else 'enum'
                elif ctype.startswith('uint'):
                    kind = 'uint'
                else:
                    kind = 'int'
            p['kind'], p['enum'] = kind, enum
        else:
            p['kind'] = 'unknown:' + core
        out.append(p)
    return out


if PYI.is_file() and COVERAGE.is_file():
    STUBS = _stub_signatures()
    HEADER_FUNCTIONS = _header_functions()
    PY_TO_C = _python_to_c()
    NAMES = exercised.public_callables()
else:  # not built: the fixture reports it
    NAMES = []


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    # Calls everything on purpose: its counts do not count as exercised.
    srv = orthanc_factory(orthanc_factory.script('api_bad_args.py'), count_calls=False)
    srv.instance = srv.upload(dicomgen.make_instance(patient_id='BAD-ARGS'))['ID']
    return srv


TYPE_MISMATCH = ('object()', 'Unrelated()')


@pytest.mark.parametrize('name', NAMES)
def test_bad_arguments(srv, name):
    params = plan(name)
    assert params is not None, '%s has no entry in the typing stubs' % name
    unknown = [p for p in params if p['kind'].startswith('unknown:')]
    assert not unknown, 'parameter kinds not understood by the test: %s' % unknown
    query = {'name': name, 'params': params, 'instance': srv.instance,
             'self': (name.split('.')[0] if '.' in name and name.split('.')[0] in REACHABLE else None)}
    status, _, body = srv.post('/bad-args', json.dumps(query))
    assert srv.running, 'Orthanc died during the bad calls of %s' % name
    assert status == 200, body[:2000]
    results = json.loads(body)
    assert results
    needs = harness.sdk_versions().get(name)
    if needs and needs > harness.orthanc_version():
        # newer than the running Orthanc: refused before the arguments are looked at
        wrong = [r for r in results if not r['case'].startswith('unbound')
                 and (r['exc'] != 'NotImplementedError'
                      or 'needs Orthanc %s' % '.'.join(map(str, needs)) not in (r['message'] or ''))]
        assert not wrong, wrong
        return
    accepted = [r for r in results if r['exc'] not in ALLOWED]
    assert not accepted, 'calls of %s not refused as they should:\n%s' % (
        name, '\n'.join('  %s -> %s %s' % (r['case'], r['exc'] or 'returned', r['message'] or '')
                        for r in accepted))
    must_be_type_error = [r for r in results
                          if (r['case'] in ('no arguments', 'one argument too many', 'unknown keyword')
                              or r['case'].startswith('unbound')
                              or any(r['case'].split('=', 1)[-1].startswith(t) for t in TYPE_MISMATCH))
                          and r['exc'] != 'TypeError']
    assert not must_be_type_error, 'expected TypeError for %s:\n%s' % (
        name, '\n'.join('  %s -> %s %s' % (r['case'], r['exc'], r['message']) for r in must_be_type_error))
    assert srv.get('/system')[0] == 200
