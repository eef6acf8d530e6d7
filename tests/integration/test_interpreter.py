# SPDX-License-Identifier: GPL-3.0-or-later
"""The interpreter (design §4): a script whose file name has dots and hyphens
is imported as a module named after it, its folder comes first on sys.path,
sys.executable is a real Python so that every multiprocessing start method
works, and Python installs no signal handler of its own."""

import json
import os
import signal

import pytest

import harness

HELPER = '''
import os

def square_and_pid(x):
    return x * x, os.getpid()
'''


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(harness.SCRIPTS / 'interpreter.py', script_name='my-plugin-2.0.py',
                          start=False)
    srv.write_file('mp_helper.py', HELPER)
    return srv.start()


def test_module_named_after_the_file(srv):
    facts = srv.get_json('/interp/facts')
    assert facts['name'] == 'my-plugin-2.0'
    assert os.path.realpath(facts['path0']) == os.path.realpath(str(srv.workdir))
    srv.wait_log(r'OPY0008 Using Python script "my-plugin-2\.0\.py"')


def test_executable_is_python(srv):
    facts = srv.get_json('/interp/facts')
    assert os.path.basename(facts['executable']).startswith('python3'), facts
    assert os.access(facts['executable'], os.X_OK)


def test_signals_stay_orthancs(orthanc_factory):
    # Python installs no handler of its own (the script even imports
    # signal): SIGINT still stops Orthanc cleanly, as without the plugin.
    srv = orthanc_factory(harness.SCRIPTS / 'interpreter.py', script_name='my-plugin-2.0.py',
                          start=False, name='signals')
    srv.write_file('mp_helper.py', HELPER)
    srv.start()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(30) == 0
    assert 'Orthanc has stopped' in srv.log_text()


@pytest.mark.parametrize('method', ['fork', 'spawn', 'forkserver'])
def test_multiprocessing_start_methods(srv, method):
    status, _, body = srv.get('/interp/pool/%s' % method, timeout=120)
    assert status == 200, body
    answer = json.loads(body)
    assert answer == {'squares': [1, 4, 9], 'other_process': True}
