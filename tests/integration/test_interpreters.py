# SPDX-License-Identifier: GPL-3.0-or-later
"""Python.Interpreters: several interpreters with their own GIL (Python 3.12+).

REST callbacks run in whichever interpreter is free, the other families in
the main one; every interpreter must register the same; an extension module
that cannot live in such an interpreter gives a clear start-up error; on
Python 3.11 the key is refused."""

import concurrent.futures
import functools
import json
import re
import subprocess
import sys
import sysconfig
import time

import pytest

import harness

SUBINTERPRETERS = sys.version_info >= (3, 12)
need_subinterpreters = pytest.mark.skipif(not SUBINTERPRETERS,
                                          reason='interpreters with their own GIL need Python 3.12')


import test_refusals  # noqa: E402
from test_refusals import assert_logged  # noqa: E402

# (two interpreters import the scripts: more time to fail than one)
refuse = functools.partial(test_refusals.refuse, timeout=60)


@pytest.mark.skipif(SUBINTERPRETERS, reason='Python 3.11 only')
def test_key_refused_on_python_311(orthanc_factory):
    srv, text = refuse(orthanc_factory, script="print('never')\n",
                       config={'Python': {'Interpreters': 2}})
    assert_logged(srv, text, r'OPY0051 "Python.Interpreters": 2 needs Python 3\.12 or newer.*Python 3\.11')


@pytest.mark.parametrize('value', [0, 33, '2', 1.5])
def test_bad_values_refused(orthanc_factory, value):
    srv, text = refuse(orthanc_factory, script="print('never')\n", name='badvalue',
                       config={'Python': {'Interpreters': value}})
    assert_logged(srv, text, r'OPY0029 configuration option "Python.Interpreters" must be a whole number '
                             r'from 1 to 32')


def test_one_is_the_default_behaviour(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('interpreters.py'), name='one',
                          config={'Python': {'Interpreters': 1}})
    srv.wait_out(harness.bare('changes run in interpreter 0'))
    assert srv.count_out(harness.bare(r'imported in interpreter \d+')) == 1
    assert 'OPY0053' not in srv.log_text()
    assert srv.stop() == 0


@pytest.fixture(scope='module')
def two(orthanc_factory):
    if not SUBINTERPRETERS:
        pytest.skip('interpreters with their own GIL need Python 3.12')
    return orthanc_factory(orthanc_factory.script('interpreters.py'), name='two',
                           config={'HttpThreadsCount': 8, 'Python': {'Interpreters': 2}})


def ids_of(lines):
    return sorted(int(m) for m in re.findall(r'^imported in interpreter (\d+)$', lines, re.MULTILINE))


def call_during_hold(srv):
    """(interpreter of /interp/hold, of /interp/id, seconds /interp/id took,
    seconds the hold took) while /interp/hold keeps its interpreter's GIL
    for about 2 s (sized at import: less or more on a loaded machine)."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        slow = ex.submit(srv.get, '/interp/hold')
        time.sleep(0.4)
        start = time.monotonic()
        status, _, body = srv.get('/interp/id')
        took = time.monotonic() - start
        slow_status, _, slow_body = slow.result(timeout=60)
    assert status == 200 and slow_status == 200, (body, slow_body)
    held_for = float(slow_body.split()[1])
    assert held_for > 0.8, 'the hold lasted %.2f s only' % held_for
    return int(slow_body.split()[0]), int(body.split()[0]), took, held_for


@need_subinterpreters
def test_each_interpreter_imports_the_scripts(two):
    assert len(set(ids_of(two.out_text()))) == 2
    assert re.search(r'OPY0053 2 Python interpreters run, each with its own GIL', two.log_text())


@need_subinterpreters
def test_other_families_run_in_the_main_interpreter(two):
    two.wait_out(harness.bare('changes run in interpreter 0'))
    assert two.count_out(harness.bare(r'changes run in interpreter \d+')) == 1


@need_subinterpreters
def test_a_busy_interpreter_does_not_hold_the_others(two, orthanc_factory):
    held, other, took, held_for = call_during_hold(two)
    assert held != other, 'both calls ran in interpreter %d' % held
    # (the call starts 0.4 s into the hold: waiting for it would take the rest)
    assert took < 0.3 * held_for, 'a call waited %.2f s for a GIL held %.2f s in another interpreter' % (
        took, held_for)
    # the same script with one interpreter: the call waits for the GIL
    one = orthanc_factory(orthanc_factory.script('interpreters.py'), name='one_held',
                          config={'HttpThreadsCount': 8, 'Python': {'Interpreters': 1}})
    held, other, took, held_for = call_during_hold(one)
    assert held == other == 0
    assert took > 0.5 * held_for - 0.4, 'with one GIL the call should have waited for the %.2f s hold (%.2f s)' % (
        held_for, took)
    assert one.stop() == 0


@need_subinterpreters
def test_state_is_per_interpreter_and_every_one_serves(two):
    seen = {}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        for _ in range(5):
            futures = [ex.submit(two.get, '/interp/hold' if i == 0 else '/interp/id') for i in range(8)]
            for f in futures:
                status, _, body = f.result(timeout=60)
                assert status == 200, body
                interp, n = map(float, body.split())
                seen.setdefault(int(interp), []).append(n)
    assert len(seen) == 2, seen


@need_subinterpreters
def test_the_orthanc_module_works_in_every_interpreter(two):
    answers = {}
    for status, body in both(two, 'GET', '/interp/sdk'):
        assert status == 200, body
        a = json.loads(body)
        answers[a['interp']] = a
    assert len(answers) == 2, answers
    first, second = (dict(a, interp=None) for a in answers.values())
    assert first == second, answers
    assert first['caught'] == first['enum'] and first['version'], first


@need_subinterpreters
def test_exceptions_are_reported_from_every_interpreter(two):
    seen = set()
    for status, body in both(two, 'GET', '/interp/fail'):
        assert status == 404, body
        seen.update(int(x) for x in re.findall(rb'nothing in interpreter (\d+)', body))
    assert len(seen) == 2, seen
    two.wait_log(r'OPY0010 Exception in REST callback /interp/fail', count=2)


@need_subinterpreters
def test_reset_and_stop(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('interpreters.py'), name='reset',
                          config={'HttpThreadsCount': 8, 'Python': {'Interpreters': 3}})
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert all(r[0] == 200 for r in ex.map(lambda _: srv.get('/interp/id'), range(64)))
    mark = srv.out_mark()
    status, _, body = srv.post('/tools/reset')
    assert status == 200, body
    srv.wait_out(harness.bare('changes run in interpreter 0'), since=mark)
    assert len(ids_of(srv.out_text(since=mark))) == 3
    deadline = time.monotonic() + 30
    while True:             # the HTTP server comes back after the plugins
        try:
            if srv.get('/interp/id', timeout=5)[0] == 200:
                break
        except harness.OrthancFailure:
            pass
        assert time.monotonic() < deadline, 'no answer after /tools/reset'
        time.sleep(0.2)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert all(r[0] == 200 for r in ex.map(lambda _: srv.get('/interp/id'), range(64)))
    start = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - start < 15
    assert not re.search(r'OPY00(14|22|24|27)', srv.log_text())


@need_subinterpreters
def test_a_route_only_one_interpreter_registers_is_refused(orthanc_factory):
    script = ("import orthanc, _interpreters\n"
              "def f(output, uri, **request):\n"
              "    output.AnswerBuffer('x', 'text/plain')\n"
              "orthanc.RegisterRestCallback('/both', f)\n"
              "if _interpreters.get_current()[0] != 0:\n"
              "    orthanc.RegisterRestCallback('/only-here', f)\n")
    srv, text = refuse(orthanc_factory, script=script, config={'Python': {'Interpreters': 2}})
    assert_logged(srv, text, r'RegisterRestCallback\("/only-here"\) in interpreter 2 is its REST route #2, '
                             r'but the main interpreter\'s route #2 is none')
    assert_logged(srv, text, r'OPY0007 .*interpreter 2 of 2')


@need_subinterpreters
def test_another_family_only_one_interpreter_registers_is_refused(orthanc_factory):
    script = ("import orthanc, _interpreters\n"
              "def f(*args):\n"
              "    pass\n"
              "if _interpreters.get_current()[0] == 0:\n"
              "    orthanc.RegisterOnChangeCallback(f)\n"
              "orthanc.RegisterOnStoredInstanceCallback(f)\n")
    srv, text = refuse(orthanc_factory, script=script, config={'Python': {'Interpreters': 2}})
    assert_logged(srv, text, r'OPY0052 .*interpreter 2 of 2 .*registration #1 differs: the main interpreter '
                             r'called orthanc\.RegisterOnChangeCallback, interpreter 2 called '
                             r'orthanc\.RegisterOnStoredInstanceCallback')


def build_single_phase_extension(folder):
    """A C extension module with single-phase init (PyModule_Create): it
    cannot be loaded in an interpreter with its own GIL."""
    src = folder / 'singlephase.c'
    src.write_text('#include <Python.h>\n'
                   'static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "singlephase", NULL, -1, NULL};\n'
                   'PyMODINIT_FUNC PyInit_singlephase(void) { return PyModule_Create(&def); }\n')
    out = folder / ('singlephase' + sysconfig.get_config_var('EXT_SUFFIX'))
    subprocess.run(['gcc', '-shared', '-fPIC', '-I' + sysconfig.get_paths()['include'],
                    '-o', str(out), str(src)], check=True)


@need_subinterpreters
def test_single_phase_extension_is_a_clear_error(orthanc_factory, tmp_path):
    build_single_phase_extension(tmp_path)
    script = "import singlephase\nprint('imported singlephase')\n"
    srv, text = refuse(orthanc_factory, script=script,
                       config={'Python': {'Interpreters': 2, 'PythonPath': [str(tmp_path)]}})
    assert_logged(srv, text, r'OPY0051 script \S+: the extension module singlephase cannot be imported in '
                             r'an interpreter with its own GIL \("Python.Interpreters": 2\); set '
                             r'"Python.Interpreters" to 1')
    # the same with one interpreter imports
    ok = orthanc_factory(script=script, name='singlephase_one',
                         config={'Python': {'Interpreters': 1, 'PythonPath': [str(tmp_path)]}})
    ok.wait_out(harness.bare('imported singlephase'))
    assert ok.stop() == 0


@need_subinterpreters
def test_numpy_is_a_clear_error(orthanc_factory):
    pytest.importorskip('numpy')
    srv, text = refuse(orthanc_factory, script="import numpy\n", config={'Python': {'Interpreters': 2}})
    assert_logged(srv, text, r'OPY0051 script \S+: the extension module numpy\S* cannot be imported')


@pytest.mark.skipif(sys.version_info < (3, 14), reason='concurrent.futures.InterpreterPoolExecutor: 3.14')
def test_interpreter_pool_executor_from_a_script(orthanc_factory):
    # the seed's "slave process" sample, with interpreters instead of processes
    srv = orthanc_factory(orthanc_factory.script('interp_pool.py'),
                          config={'Python': {'PythonPath': [str(harness.SCRIPTS)]}})
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        answers = list(ex.map(lambda _: srv.get('/computation'), range(2)))
    for status, _, body in answers:
        assert status == 200, body
        assert re.match(rb'computation done in \d+\.\d{3} seconds\n$', body), body
    assert srv.stop() == 0


ONCE_SCRIPT = '''
import json, threading, time, orthanc, _interpreters
ME = _interpreters.get_current()[0]
CODE = orthanc.RegisterErrorCode(42, 402, 'opy interpreters error')
orthanc.RegisterDictionaryTag(0x0098, 0x0010, orthanc.ValueRepresentation.LO, 'OpyInterpTag', 1, 1)
orthanc.ExtendOrthancExplorer('/* opy-interpreters-marker */')

class Job:
    def __init__(self):
        self.done = 0
    def step(self):
        self.done += 1
        print('job step %d in interpreter %d' % (self.done, _interpreters.get_current()[0]))
        return orthanc.JobStepStatus.SUCCESS if self.done >= 2 else orthanc.JobStepStatus.CONTINUE

def once(output, uri, **request):
    time.sleep(0.5)
    job = orthanc.CreateJob(Job(), 'OpyInterpJob') if request['method'] == 'POST' else None
    output.AnswerBuffer(json.dumps({'interp': ME, 'code': CODE,
                                    'job': job.SubmitJob(0) if job else None}), 'application/json')

def hold(output, uri, **request):
    time.sleep(1.0)
    output.AnswerBuffer('held', 'text/plain')

orthanc.RegisterRestCallback('/once', once)
orthanc.RegisterRestCallback('/hold', hold)
'''


def both(srv, method, path):
    """Two concurrent calls of a route that sleeps 0.5 s first: the second
    finds the first's interpreter busy and runs in the other one. The
    (status, body) of each."""
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        first = ex.submit(srv.request, method, path, b'' if method == 'POST' else None)
        time.sleep(0.1)
        second = ex.submit(srv.request, method, path, b'' if method == 'POST' else None)
        return [(f.result(timeout=60)[0], f.result(timeout=60)[2]) for f in (first, second)]


def answers_of_both(srv, method='GET'):
    """The answers of /once from both interpreters."""
    seen = {}
    for status, body in both(srv, method, '/once'):
        assert status == 200, body
        a = json.loads(body)
        seen[a['interp']] = a
    assert len(seen) == 2, seen
    return seen


@need_subinterpreters
def test_orthanc_wide_calls_at_import_happen_once(orthanc_factory):
    srv = orthanc_factory(script=ONCE_SCRIPT, config={'HttpThreadsCount': 8, 'Python': {'Interpreters': 2}})
    codes = {a['code'] for a in answers_of_both(srv).values()}
    assert len(codes) == 1 and None not in codes, codes
    status, _, js = srv.get('/plugins/explorer.js')
    assert status == 200 and js.count(b'opy-interpreters-marker') == 1
    assert srv.stop() == 0


@need_subinterpreters
def test_a_job_runs_in_the_interpreter_that_made_it(orthanc_factory):
    srv = orthanc_factory(script=ONCE_SCRIPT, config={'HttpThreadsCount': 8, 'Python': {'Interpreters': 2}})
    made = answers_of_both(srv, 'POST')
    for interp, a in made.items():
        deadline = time.monotonic() + 30
        while srv.get_json('/jobs/%s' % a['job'])['State'] != 'Success':
            assert time.monotonic() < deadline, srv.get_json('/jobs/%s' % a['job'])
            time.sleep(0.1)
        srv.wait_out(harness.bare('job step 2 in interpreter %d' % interp))
    assert srv.stop() == 0


@need_subinterpreters
def test_a_daemon_thread_at_import_is_a_clear_error(orthanc_factory):
    script = ("import threading, time\n"
              "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
    srv, text = refuse(orthanc_factory, script=script, config={'Python': {'Interpreters': 2}})
    assert_logged(srv, text, r'OPY0051 script \S+ starts a daemon thread while it is imported.*ORTHANC_STARTED')


def test_a_script_thread_cannot_register_while_the_script_imports(orthanc_factory):
    script = ("import threading, orthanc\n"
              "def f(output, uri, **request):\n"
              "    output.AnswerBuffer('x', 'text/plain')\n"
              "def late():\n"
              "    try:\n"
              "        orthanc.RegisterRestCallback('/from-thread', f)\n"
              "        print('thread registered')\n"
              "    except RuntimeError as e:\n"
              "        print('thread refused: %s' % e)\n"
              "t = threading.Thread(target=late)\n"
              "t.start()\n"
              "t.join()\n")
    srv = orthanc_factory(script=script)
    srv.wait_out(harness.bare(r'thread refused: orthanc.RegisterRestCallback\(\) can only be called while '
                              r'the plugin script is imported.*'))
    assert srv.stop() == 0
