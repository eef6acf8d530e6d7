# SPDX-License-Identifier: GPL-3.0-or-later
"""Forged and stale objects (docs/robustness.md, "Objects";
scripts/objects.py): none of the 14 object types of the module can be made
from Python (TypeError, whatever the way); a borrowed object kept after its
callback returned raises ValueError for every method, from the thread of a
later callback and from a thread started later; a thread that uses a
borrowed object while its callback returns sees answers, then only
ValueError (never a crash)."""

import ast
import json
import time
from pathlib import Path

import pytest

import dicomgen
import harness
from scp_tools import dcmtk

OBJECT_TYPES = ['DicomInstance', 'DicomWebNode', 'FindAnswers', 'FindMatcher', 'FindQuery',
                'Image', 'Job', 'Peers', 'RestOutput', 'ServerChunkedRequestReader',
                'StorageArea', 'WebDavCollection', 'WorklistAnswers', 'WorklistQuery']
# ... and those of later SDK headers
if harness.sdk_header_version() >= (1, 12, 8):
    OBJECT_TYPES = sorted(OBJECT_TYPES + ['KeysValuesIterator'])
if harness.sdk_header_version() >= (1, 12, 10):
    OBJECT_TYPES = sorted(OBJECT_TYPES + ['DicomConnection'])
KEPT = ['DicomInstance', 'FindAnswers', 'FindQuery', 'RestOutput', 'WorklistAnswers',
        'WorklistQuery']
SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'objects.py'


def stub_methods():
    """{class: {method: [annotations of the required parameters]}} of the
    object types, from the build's typing stubs."""
    tree = ast.parse((harness.plugin_path().parent / 'orthanc.pyi').read_text())
    result = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in OBJECT_TYPES:
            methods = {}
            for f in node.body:
                if isinstance(f, ast.FunctionDef):
                    args = f.args.args[1:]
                    required = args[:len(args) - len(f.args.defaults)]
                    methods[f.name] = [ast.unparse(a.annotation) for a in required]
            result[node.name] = methods
    return result


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    methods = stub_methods()
    assert sorted(methods) == OBJECT_TYPES
    srv = orthanc_factory(SCRIPT, subst={'METHODS': json.dumps(methods)},
                          config={'DicomAlwaysAllowFind': True,
                                  'DicomAlwaysAllowFindWorklist': True})
    srv.methods = methods
    # one callback of each kind, whose borrowed objects the script keeps
    # (a thread of the script uses the RestOutput and the DicomInstance in a
    # loop meanwhile: the callbacks still end at once)
    t0 = time.monotonic()
    assert srv.get('/objects/keep-output')[2] == b'kept'
    srv.upload(dicomgen.make_instance(patient_id='OBJ-1'))
    srv.callback_seconds = time.monotonic() - t0
    rc, out = dcmtk('findscu', '-S', '-aet', 'FINDSCU', '-k', 'QueryRetrieveLevel=STUDY',
                    '-k', 'PatientID=', '127.0.0.1', srv.dicom_port)
    assert rc == 0, out
    rc, out = dcmtk('findscu', '-W', '-aet', 'FINDSCU', '-k', 'PatientID=',
                    '127.0.0.1', srv.dicom_port)
    assert rc == 0, out
    return srv


def test_object_types_cannot_be_forged(srv):
    result = srv.get_json('/objects/forge')
    assert sorted(result) == OBJECT_TYPES
    for name, attempts in result.items():
        for how, (kind, message) in attempts.items():
            assert kind == 'TypeError', (name, how, kind, message)
        assert attempts['call'][1] == "cannot create 'orthanc.%s' instances" % name
        assert attempts['subclass'][1] == "type 'orthanc.%s' is not an acceptable base type" % name
        if 'pickle' in attempts:
            assert attempts['pickle'][1] == "cannot pickle 'orthanc.%s' object" % name
    # the kept samples (and a fresh Image) exercised the instance attempts too
    for name in KEPT + ['Image']:
        assert 'copy' in result[name], name
    assert srv.get('/system')[0] == 200


@pytest.mark.parametrize('where', ['same-thread', 'other-thread'])
def test_stale_objects_raise_value_error(srv, where):
    result = srv.get_json('/objects/stale/' + where)
    assert result['kept'] == KEPT
    expected = sorted('%s.%s' % (name, m) for name in KEPT for m in srv.methods[name])
    assert sorted(result['calls']) == expected
    assert len(expected) > 30
    newer = harness.sdk_versions()
    for call, (kind, message) in result['calls'].items():
        if newer.get(call, (0,)) > harness.orthanc_version():   # refused before anything else
            assert kind == 'NotImplementedError' and message.startswith('orthanc.%s() needs Orthanc' % call), \
                (call, kind, message)
            continue
        assert (kind, message) == ('ValueError', 'orthanc.%s used after its callback returned'
                                   % call.split('.')[0]), call
    for name, text in result['reprs'].items():
        assert text == '<orthanc.%s (expired)>' % name
    assert srv.count_log(r'Segmentation|Aborted') == 0
    assert srv.get('/system')[0] == 200


def test_thread_racing_the_end_of_a_callback(srv):
    # The callbacks ended at once although the racing threads ran for up to
    # 10 s (they used to delay the callback until they stopped).
    assert srv.callback_seconds < 5, srv.callback_seconds
    races = srv.get_json('/objects/stale/same-thread')['races']
    assert sorted(races) == ['DicomInstance', 'RestOutput']
    for name, runs in races.items():
        # answers (or Orthanc's refusal once the answer was sent) while the
        # callback runs, then ValueError only, to the end (100 calls at least)
        kinds = [kind for kind, _ in runs]
        assert kinds[-1] == 'ValueError' and runs[-1][1] >= 100, (name, runs)
        assert kinds.count('ValueError') == 1, (name, runs)
        assert set(kinds[:-1]) <= {'returned', 'OrthancException'}, (name, runs)


def test_argument_conversion_runs_no_python_code(srv):
    # A method checks its object, converts its arguments, then checks the
    # object again right before the SDK call (opy_handle_enter). The second
    # check matters only if a conversion could run Python code that lets
    # another thread end the callback; the conversions never do: an object
    # with __index__ is refused as an int (TypeError) without calling it,
    # even while the callback that owns the object ends meanwhile.
    assert srv.get('/objects/slow-argument')[2] == b'answered'
    result = srv.get_json('/objects/slow-argument/release')
    assert result['index_calls'] == 0, result
    assert result['outcome'] == ['TypeError', 'status must be int, not SlowIndex'], result
    assert srv.get_json('/system')['Version'] == harness.orthanc_version_text()
