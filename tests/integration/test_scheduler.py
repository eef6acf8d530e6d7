# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Scheduling a task for periodic execution"
(scripts/scheduler.py): a threading.Timer re-armed every second, cancelled
when Orthanc stops; stopping must stay prompt."""

import time

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('scheduler.py'))


def test_hello_runs_periodically(srv):
    srv.wait_log(harness.line(r'Starting the scheduler', 'W'), timeout=10)
    srv.wait_log(harness.line(r'In Hello\(\)', 'W'), count=3, timeout=10)
    # the server keeps answering meanwhile
    assert srv.get('/system')[0] == 200


def test_stop_is_prompt(srv):
    t0 = time.monotonic()
    rc = srv.stop(timeout=15)
    elapsed = time.monotonic() - t0
    assert rc == 0
    assert elapsed < 15
    assert srv.count_log(harness.line(r'Stopping the scheduler', 'W')) == 1
