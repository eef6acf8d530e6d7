# SPDX-License-Identifier: GPL-3.0-or-later
"""The plugin refuses to start, with its message id in the log, and Orthanc
exits non-zero; without a script, Orthanc starts and the plugin says so."""

import os
import re

import pytest

import harness


def refuse(orthanc_factory, timeout=30, **kw):
    srv = orthanc_factory(start=False, **kw)
    return srv, srv.start_expect_failure(timeout=timeout)


def assert_logged(srv, text, regex):
    if not re.search(regex, text, re.MULTILINE):
        srv.fail('log does not match %r' % regex)


def test_script_missing(orthanc_factory, tmp_path):
    missing = tmp_path / 'nowhere' / 'missing.py'
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(missing)})
    assert_logged(srv, text, r'OPY0002[^\n]*missing\.py')


def test_script_is_a_directory(orthanc_factory, tmp_path):
    directory = tmp_path / 'adirectory.py'
    directory.mkdir()
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(directory)})
    assert_logged(srv, text, r'OPY0003')


def test_script_not_dot_py(orthanc_factory):
    srv, text = refuse(orthanc_factory, script="print('not a .py name')\n",
                       script_name='script.txt')
    assert_logged(srv, text, r'OPY0004')
    assert 'not a .py name' not in text


def test_script_named_orthanc_py_runs(orthanc_factory):
    # no longer refused (OPY0005 retired): imported as _orthanc_script
    # (tests/robustness/test_startup.py::test_named_orthanc_py)
    srv = orthanc_factory(script="print('runs as', __name__)\n", script_name='orthanc.py')
    srv.wait_out(harness.bare('runs as _orthanc_script'))
    assert srv.stop() == 0


def test_syntax_error_at_import(orthanc_factory):
    srv, text = refuse(orthanc_factory, script=harness.SCRIPTS / 'syntax_error.py')
    assert_logged(srv, text, r'OPY0007')
    assert_logged(srv, text, r'SyntaxError')
    assert_logged(srv, text, r'syntax_error\.py')


def test_exception_at_import(orthanc_factory):
    srv, text = refuse(orthanc_factory, script=harness.SCRIPTS / 'import_exception.py')
    assert_logged(srv, text, r'OPY0007')
    assert_logged(srv, text, r'Traceback \(most recent call last\)')
    assert_logged(srv, text, r'ZeroDivisionError')
    assert_logged(srv, text, r'import_exception\.py", line 6, in compute')


def test_sys_exit_at_import(orthanc_factory):
    # SystemExit raised by the script is an import failure like any other: it
    # must not end (or let continue) Orthanc on its own terms.
    srv, text = refuse(orthanc_factory, script='import sys\nsys.exit(0)\n',
                       script_name='exits.py')
    assert_logged(srv, text, r'OPY0007')
    assert_logged(srv, text, r'SystemExit')


def test_python_already_initialised(orthanc_factory, plugin_library):
    # Another plugin (here a test-only one, built with the project) started
    # Python before ours: ours refuses, and Orthanc does not start.
    owner = plugin_library.parent / 'libOpyTestPythonOwner.so'
    assert owner.is_file(), 'build the test plugin: cmake --build build'
    srv, text = refuse(orthanc_factory, script="print('must not run')\n",
                       plugins=[str(owner), str(plugin_library)])
    assert_logged(srv, text, r'python-owner test plugin: Python initialised')
    assert_logged(srv, text, r'OPY0006 Python is already initialised')
    assert 'must not run' not in text


def test_official_plugin_loaded_too(orthanc_factory, plugin_library):
    if not os.path.isfile(harness.OFFICIAL_PLUGIN):
        pytest.skip('official plugin %s not installed (Debian package orthanc-python)'
                    % harness.OFFICIAL_PLUGIN)
    # The official plugin first (it starts Python and imports the script: both
    # plugins read the same PythonScript key), then ours.
    srv, text = refuse(orthanc_factory, script="print('official plugin ran the script')\n",
                       script_name='both.py',
                       plugins=[harness.OFFICIAL_PLUGIN, str(plugin_library)])
    # the official plugin's print() goes to Orthanc's standard output too
    assert srv.out_lines() == ['official plugin ran the script'], srv.out_text()
    # Orthanc 1.10.1 itself refuses a second plugin named "python" before
    # calling its OrthancPluginInitialize; either refusal keeps Orthanc down.
    assert re.search(r"OPY0006|Plugin 'python' already registered", text), text


def test_no_script_configured(orthanc_factory):
    srv = orthanc_factory()
    assert 'PythonScript' not in srv.config() and 'Python' not in srv.config()
    srv.wait_log(r'^W.*OPY0001')
    assert srv.get('/system')[0] == 200
    assert srv.stop() == 0
