# SPDX-License-Identifier: GPL-3.0-or-later
"""Stopping never hangs (design §4): script threads that never end and keep
calling Orthanc do not block SIGTERM; a non-daemon one is named in the log
(scripts/stop_threads.py)."""

import time

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('stop_threads.py'))


def test_stop_with_a_never_ending_thread(srv):
    srv.wait_log(harness.line(r'forever-thread still calling \(\d+\)', 'W'), count=2, timeout=10)
    t0 = time.monotonic()
    rc = srv.stop(timeout=30)
    elapsed = time.monotonic() - t0
    assert rc == 0
    assert elapsed < 20, 'stop took %.1f s' % elapsed
    # the plugin names the thread it did not wait for (docs/messages.md)
    m = srv.wait_log(r'OPY0014[^\n]*', timeout=0)
    assert 'forever-thread' in m.group(0)
    assert 'forever-daemon' not in m.group(0)  # daemon threads are not waited for
    assert srv.count_log(r'OPY0014') == 1
