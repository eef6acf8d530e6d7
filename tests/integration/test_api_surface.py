# SPDX-License-Identifier: GPL-3.0-or-later
"""Surface of the live orthanc module (scripts/api_surface.py), compared with
the official 4.0 plugin's (data/official_api.json) and with the SDK header:
names, positional arities, inspect.signature, parameter names, docstrings,
keyword calls."""

import json
from pathlib import Path

import pytest

import exercised

DATA = Path(__file__).resolve().parent / 'data'
OFFICIAL = json.loads((DATA / 'official_api.json').read_text())

def official_entries():
    entries = dict(OFFICIAL['functions'])
    for cls, methods in OFFICIAL['classes'].items():
        for m, n in methods.items():
            entries['%s.%s' % (cls, m)] = n
    return entries


ENTRIES = official_entries()
PRESENT = sorted(ENTRIES)


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    # Introspection only: what this server calls does not count as exercised.
    return orthanc_factory(orthanc_factory.script('api_surface.py'), count_calls=False)


def surface(srv, query):
    status, _, body = srv.post('/surface', json.dumps(query))
    assert status == 200, body
    return {r['name']: r for r in json.loads(body)}


def check_entry(r, count):
    assert r['exists'], '%s is missing' % r['name']
    assert r.get('callable'), r
    assert 'signature_error' not in r, r
    assert r.get('bind'), '%s: signature %s does not take %d positional arguments: %s' % (
        r['name'], r.get('signature'), count, r.get('bind_error'))


def test_official_surface(srv):
    """Every function and method of the official 4.0 plugin exists and takes
    its positional arguments (inspect.signature(...).bind(*[None] * N))."""
    answers = surface(srv, [[n, ENTRIES[n]] for n in PRESENT])
    problems = []
    for name in PRESENT:
        try:
            check_entry(answers[name], ENTRIES[name])
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, '\n'.join(problems)


def test_signature_of_every_public_callable(srv):
    names = exercised.public_callables()
    answers = surface(srv, [[n, None] for n in names])
    bad = [(n, answers[n].get('signature_error', 'missing')) for n in names
           if not answers[n]['exists'] or 'signature' not in answers[n]]
    assert not bad
    undocumented = [n for n in names if not answers[n].get('doc')]
    assert not undocumented


# (name, SDK parameter names, words of the Doxygen @brief)
SPOT = [
    ('ComputeMd5', ['buffer'], 'Compute an MD5 hash.'),
    ('GetTagName', ['group', 'element', 'privateCreator'], None),
    ('CreateImage', ['format', 'width', 'height'], 'Create an image.'),
    ('LookupPatient', ['patientID'], 'Look for a patient.'),
    ('GetFontsCount', [], 'Return the number of available fonts.'),
    ('DicomBufferToJson', ['buffer', 'format', 'flags', 'maxStringLength'], None),
    ('HttpGet', ['url', 'username', 'password'], None),
    ('RestOutput.AnswerBuffer', ['self', 'answer', 'mimeType'], None),
    ('Image.DrawText', ['self', 'fontIndex', 'utf8Text', 'x', 'y', 'r', 'g', 'b'], None),
    ('Peers.GetPeerUserProperty', ['self', 'peerIndex', 'userProperty'], None),
]


@pytest.mark.parametrize('name,params,brief', SPOT, ids=[s[0] for s in SPOT])
def test_parameter_names_and_docstrings(srv, name, params, brief):
    r = surface(srv, [[name, None]])[name]
    assert r['params'] == params, r['signature']
    if brief is not None:
        assert brief in r['doc'], r['doc']


def test_keyword_calls(srv):
    status, _, body = srv.get('/keywords')
    assert status == 200, body
    r = json.loads(body)
    assert r['md5'] == '900150983cd24fb0d6963f7d28e17f72'
    assert r['tag'] == 'PatientName'
    assert r['image'] == 3 and r['compress'] > 0
    assert r['method_kw'] == 4
    assert r['bad_kw'] == 'TypeError'
    assert r['instantiate'] == 'TypeError'


def test_stub_signatures_match_runtime(srv):
    """build/orthanc.pyi names the same parameters, in the same order, as
    inspect.signature of the live callables."""
    import ast
    import harness
    tree = ast.parse((harness.plugin_path().parent / 'orthanc.pyi').read_text())
    stub = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stub[node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    stub['%s.%s' % (node.name, sub.name)] = [a.arg for a in sub.args.posonlyargs + sub.args.args]
    names = exercised.public_callables()
    answers = surface(srv, [[n, None] for n in names])
    missing = [n for n in names if n not in stub]
    assert not missing, 'not in the stubs: %s' % missing
    differ = ['%s: stub %s, runtime %s' % (n, stub[n], answers[n].get('params'))
              for n in names if stub[n] != answers[n].get('params')]
    assert not differ, '\n'.join(differ)


def test_stub_names_exist_at_runtime(srv):
    """Every function, class and method of build/orthanc.pyi exists in the
    live module (the stubs, and the testing kit's fake built from them,
    promise nothing the module of this SDK lacks); the stubs' typing-only
    helpers (Buffer, the callback Protocols) excepted."""
    import ast
    import harness
    tree = ast.parse((harness.plugin_path().parent / 'orthanc.pyi').read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef):
            if any(isinstance(b, ast.Name) and b.id == 'Protocol' for b in node.bases):
                continue
            names.append(node.name)
            names += ['%s.%s' % (node.name, sub.name) for sub in node.body
                      if isinstance(sub, ast.FunctionDef) and not sub.name.startswith('__')]
    answers = surface(srv, [[n, None] for n in names])
    missing = [n for n in names if not answers[n]['exists']]
    assert not missing, 'in the stubs, not in the module: %s' % missing
