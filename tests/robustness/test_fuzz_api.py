# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzzing of the orthanc module with hostile arguments, inside REST callbacks
of one server (scripts/fuzz_api.py).

Callables: every public callable of the module (functions, classes), every
method of every class called unbound, and every method of the objects the
script can get: Image (CreateImage), DicomInstance (CreateDicomInstance),
Peers (GetPeers), FindMatcher (CreateFindMatcher), RestOutputs kept from
earlier callbacks and DicomInstances kept from OnStoredInstance callbacks
(both invalid by then), and the route's own RestOutput (separate route, so
that its answering methods may answer anything).  Arguments are drawn,
seeded, from None, 0, -1, 2**70, '', 'x' * 10**6, b'\\x00\\xff', 'x', 1.5,
True, [], {}, objects of the wrong type, invalidated handles, the live
objects and a few plausible values (1, 2, 16, '/system', '{}', a valid DICOM
file, PixelFormat.RGB24) that let calls go deeper, positionally and as keywords (real parameter names and garbage
ones).

Every call must return or raise an Exception (SystemError, which means a C
function returned NULL without an exception or the reverse, counts as a
failure), and Orthanc must answer GET /system after every batch.

The callables left out, or called with neutralised arguments, because a
valid-looking call could do harm, are listed in scripts/fuzz_api.py
(deletions, file and database writes, import-time registrations, jobs,
requests to anything but 127.0.0.1:1).

OPY_FUZZ_CALLS (default 20000, about 4 s) sets the number of calls of the module-level
fuzzing; each batch has a time budget, so the test stays bounded.
"""

import http.client
import json
import os
import time
from pathlib import Path

import pytest

import dicomgen
import harness

CALLS = int(os.environ.get('OPY_FUZZ_CALLS', '20000'))
BATCH = 500
BUDGET = 20.0   # seconds per batch, at most


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    # Calls everything on purpose: its counts do not count as exercised.
    srv = orthanc_factory(Path(__file__).resolve().parent / 'scripts' / 'fuzz_api.py',
                          count_calls=False)
    srv.instance = srv.upload(dicomgen.make_instance(patient_id='FUZZ'))['ID']
    return srv


def _alive(srv, what):
    assert srv.running, 'Orthanc died during %s' % what
    status, _, _ = srv.get('/system')
    assert status == 200, 'GET /system answered %d after %s' % (status, what)


def _check_every_callable_is_a_target(results):
    # Every public name of this build (names.txt of the generator: the SDK
    # 1.11-1.13 functions too when the header has them) is fuzzed, but the
    # excluded ones, each with its reason in scripts/fuzz_api.py.
    names = (harness.plugin_path().parent / 'gen' / 'names.txt').read_text().split()
    excluded = set(results['excluded'])
    targets = set(results['target_names'])
    missing = sorted(n for n in names if n not in excluded and n not in targets)
    assert not missing, 'public callables the fuzzer does not call: %s' % missing


def _merge(total, results):
    for kind, n in results['by_type'].items():
        total[kind] = total.get(kind, 0) + n


def _report(title, total, calls):
    print('\n%s: %d calls; by outcome: %s' % (
        title, calls, ', '.join('%s %d' % kv for kv in sorted(total.items(), key=lambda kv: -kv[1]))))


def test_fuzz_module(srv):
    total, calls, batches, seed = {}, 0, 0, 0
    suspicious = []
    while calls < CALLS:
        seed += 1
        query = {'seed': seed, 'calls': min(BATCH, CALLS - calls), 'budget': BUDGET,
                 'instance': srv.instance}
        status, _, body = srv.post('/fuzz', json.dumps(query), timeout=BUDGET + 60)
        _alive(srv, 'fuzz batch %d' % seed)
        assert status == 200, body[:2000]
        results = json.loads(body)
        _merge(total, results)
        calls += results['calls']
        batches += 1
        suspicious += results['suspicious']
        assert results['targets'] > 200, 'too few callables found: %d' % results['targets']
        if seed == 1:
            _check_every_callable_is_a_target(results)
        if seed >= 2:
            assert results['stale'][0] >= 1, 'no stale RestOutput in the pool'
        if results['calls'] < query['calls']:
            break  # the time budget ran out: enough for this run
    _report('fuzz of the module (%d batches)' % batches, total, calls)
    assert calls >= min(CALLS, 1000), 'only %d calls within the time budget' % calls
    assert not suspicious, 'calls that did not end with an Exception:\n' + '\n'.join(suspicious[:50])
    # all of them cannot have been refused the same way
    assert total.get('TypeError', 0) > 0 and total.get('ValueError', 0) > 0
    assert total.get('OrthancException', 0) > 0 and total.get('returned', 0) > 0


def _post_tolerant(srv, path, body):
    """POST whose answer may be anything (even malformed): returns the status
    or the exception text, never fails."""
    conn = http.client.HTTPConnection('127.0.0.1', srv.http_port, timeout=60)
    try:
        conn.request('POST', path, body=body)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as e:
        return repr(e)
    finally:
        conn.close()


def _output_report(srv, seed):
    """The report of the /fuzz-output call with this seed, once it is whole:
    a fuzzed method may send a (malformed) answer early, so the client can be
    here while the callback still runs."""
    deadline = time.monotonic() + 60
    while True:
        status, _, body = srv.get('/fuzz-report')
        assert status == 200, body[:2000]
        results = json.loads(body)
        if results is not None and results['seed'] == seed and results['done']:
            return results
        assert time.monotonic() < deadline, 'the /fuzz-output callback of seed %d never finished: %r' % (seed, results)
        time.sleep(0.05)


def test_fuzz_live_rest_output(srv):
    total, calls = {}, 0
    for seed in range(1, 41):
        query = {'seed': 1000 + seed, 'calls': 25, 'instance': srv.instance}
        _post_tolerant(srv, '/fuzz-output', json.dumps(query))
        _alive(srv, 'RestOutput fuzz %d' % seed)
        results = _output_report(srv, 1000 + seed)
        assert not results['suspicious'], '\n'.join(results['suspicious'])
        _merge(total, results)
        calls += results['calls']
    _report('fuzz of the live RestOutput', total, calls)
    assert calls == 40 * 25
    # the stale outputs of those 40 callbacks are fuzzed by one more batch
    status, _, body = srv.post('/fuzz', json.dumps({'seed': 99, 'calls': 300, 'budget': BUDGET,
                                                    'instance': srv.instance}))
    assert status == 200, body[:2000]
    assert not json.loads(body)['suspicious']
    _alive(srv, 'the fuzz of stale outputs')


def test_found_by_fuzzing(srv):
    """Calls the fuzzing found harmful, kept as regressions."""
    status, _, body = srv.post('/fuzz-edges', b'')
    _alive(srv, 'the edge calls')
    assert status == 200, body[:2000]
    out = json.loads(body)
    out_of_range = 'OrthancException %d' % 3   # ErrorCode.PARAMETER_OUT_OF_RANGE
    assert out == {
        'GetCommandLineArgument(count)': out_of_range,
        'GetCommandLineArgument(2**31)': out_of_range,
        'GetCommandLineArgument(2**32-1)': out_of_range,
        'GetCommandLineArgument(count-1)': 'returned str',
    }, out
