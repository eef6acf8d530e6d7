# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Usage": print('Hello world!') gives a bare line on Orthanc's
standard output (tests/integration/test_print_output.py: at the default
verbosity)."""

import os

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('hello.py'))


def test_hello_world_printed(srv):
    srv.wait_out(harness.bare(r'Hello world!'))
    assert srv.count_out(r'Hello') == 1
    assert 'Hello world!' not in srv.log_text()


def test_using_script_line(srv):
    m = srv.wait_log(r'OPY0008[^\n]*')
    line = m.group(0)
    assert any('Using Python script "hello.py" from directory: %s' % d in line
               for d in (srv.workdir, os.path.realpath(srv.workdir))), line


def test_server_serves(srv):
    status, _, body = srv.get('/system')
    assert status == 200
    assert b'"Version" : "%s"' % harness.orthanc_version_text().encode() in body


def test_plugin_listed(srv):
    plugins = srv.get_json('/plugins')
    assert 'python' in plugins


def test_no_plugin_error_lines(srv):
    # None of the plugin's own messages is an error here.
    errors = [m for m in harness.log_messages(srv.log_text(), 'E') if 'OPY' in m]
    assert errors == []
