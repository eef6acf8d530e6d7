# SPDX-License-Identifier: GPL-3.0-or-later
"""The "Python" configuration section: Path, DisplayMemoryUsage."""

import time

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    # The script is configured through Python.Path only (no PythonScript key).
    srv = orthanc_factory(orthanc_factory.script('memory.py'), start=False,
                          script_key=False)
    srv.overrides['Python'] = {'Path': str(srv.script_path), 'DisplayMemoryUsage': True,
                               'Verbose': False}
    return srv.start()


def test_python_path_key(srv):
    assert 'PythonScript' not in srv.config()
    srv.wait_out(harness.bare(r'memory-usage script loaded'))
    srv.wait_log(r'OPY0008[^\n]*Using Python script "memory.py" from directory: ')


def test_memory_usage_every_second(srv):
    first = srv.wait_log(r'OPY0012', timeout=10)
    assert first
    srv.wait_log(r'OPY0012', count=3, timeout=10)


def test_memory_usage_off_by_default(orthanc_factory):
    other = orthanc_factory(orthanc_factory.script('hello.py'))
    other.wait_out(r'Hello world!')
    time.sleep(2.5)
    assert other.count_log(r'OPY0012') == 0


VERBOSE_IMPORT = r"^import '[\w.]+' #"


def test_verbose_off(srv):
    assert srv.count_log(VERBOSE_IMPORT) == 0


def test_python_verbose_legacy_key(orthanc_factory):
    # The documentation's spelling: top-level "PythonVerbose" with "PythonScript".
    other = orthanc_factory(orthanc_factory.script('hello.py'), config={'PythonVerbose': True})
    other.wait_out(r'Hello world!')
    assert other.count_log(VERBOSE_IMPORT) > 0
