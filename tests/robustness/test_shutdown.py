# SPDX-License-Identifier: GPL-3.0-or-later
"""Threads and shutdown (docs/robustness.md, "Shutdown";
scripts/shutdown.py): three Python threads, a threading.Timer loop and a
daemon thread call orthanc.* in loops, and HTTP clients keep calling Python
routes, while Orthanc stops on SIGTERM.  Orthanc exits within 10 s with
code 0, without a crash; after ORTHANC_STOPPED every SDK call raises
orthanc.OrthancException(6, 'Orthanc is stopping: the orthanc module can no
longer be used'), which the threads wrote to their own logs."""

import concurrent.futures
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import dicomgen
import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'shutdown.py'
CLOSED = ("orthanc.OrthancException (6, 'Orthanc is stopping: the orthanc module can no longer "
          "be used')")
NON_DAEMON = ['worker-0', 'worker-1', 'worker-2', 'timer']


def client_loop(srv, stop, path):
    """GET path until stop, tolerating the server going away."""
    answers = []
    while not stop.is_set():
        try:
            with urllib.request.urlopen(srv.base_url + path, timeout=10) as r:
                answers.append(r.status)
        except Exception as e:       # refused, reset, 5xx: the server is stopping
            answers.append(type(e).__name__)
            time.sleep(0.01)
    return answers


@pytest.mark.parametrize('round_', [1, 2])
def test_sigterm_while_threads_call_orthanc(orthanc_factory, round_):
    srv = orthanc_factory(SCRIPT, name='shutdown%d' % round_)
    threads_dir = srv.workdir / 'threads'
    # everything is running and calling
    srv.wait_log(harness.line('shutdown-test tick', 'I'), count=50, timeout=20)
    deadline = time.monotonic() + 20
    for name in NON_DAEMON + ['daemon']:
        # each thread creates its log when it starts, which on a busy
        # machine may come after the workers' first 50 ticks
        while not (threads_dir / (name + '.log')).is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (threads_dir / (name + '.log')).is_file(), name

    stop = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        clients = [ex.submit(client_loop, srv, stop, path)
                   for path in ('/shutdown/ping', '/shutdown/slow', '/shutdown/ping', '/system')]
        time.sleep(0.5)
        t0 = time.monotonic()
        rc = srv.stop(timeout=30)
        elapsed = time.monotonic() - t0
        stop.set()
        answers = [c.result(timeout=30) for c in clients]
    assert rc == 0, srv.describe()
    assert elapsed < 10, 'stop took %.1f s' % elapsed
    assert all(200 in a for a in answers), answers

    text = srv.log_text()
    assert 'Orthanc has stopped' in text
    for bad in ('Segmentation', 'Aborted', 'terminate called', 'OPY0014', 'OPY0022', 'OPY0024',
                'Fatal Python error', 'OPY0018'):
        assert bad not in text, bad
    # A route may fail to answer a client whose connection the stopping
    # server closed; no other failure.
    errors = re.findall(r'^(\S+): (.*)$', text, re.MULTILINE)
    errors = [e for e in errors if 'Error' in e[0] or 'Exception' in e[0]]
    assert all(e == ('orthanc.OrthancException', "(9, 'Error in the network protocol')")
               for e in errors), errors
    assert text.count('Traceback') == len(errors)
    assert (threads_dir / 'stopped').read_text() == 'ORTHANC_STOPPED\n'

    for name in NON_DAEMON:
        lines = (threads_dir / (name + '.log')).read_text().splitlines()
        assert lines[0] == 'started', (name, lines)
        assert not [l for l in lines if l.startswith('unexpected')], (name, lines)
        # its last call failed with the clear exception, then it ended
        assert lines[-2] == 'after-stopped ' + CLOSED, (name, lines[-5:])
        assert lines[-1].startswith('ended '), (name, lines[-5:])
        assert int(lines[-1].split()[1]) > 10, (name, lines[-1])
        # before ORTHANC_STOPPED, only OrthancExceptions of the stopping core
        for l in lines[1:-2]:
            assert l.startswith('before-stopped orthanc.OrthancException '), (name, l)
    # the daemon thread got the same exception (and was not waited for)
    daemon = (threads_dir / 'daemon.log').read_text().splitlines()
    assert 'after-stopped ' + CLOSED in daemon, daemon[-5:]


def test_sigterm_while_a_change_callback_never_returns(orthanc_factory):
    # The change worker is inside a callback that waits forever: the stop
    # gives it 5 s without progress, logs OPY0027, leaves Python unfinalized
    # and Orthanc exits (the join of the worker used to wait forever).
    srv = orthanc_factory(SCRIPT.parent / 'stuck_change.py', name='stuckchange')
    srv.upload(dicomgen.make_instance(patient_id='STUCK-1'))
    srv.wait_log(harness.line('stuck-change: waiting forever', 'W'), timeout=20)
    t0 = time.monotonic()
    rc = srv.stop(timeout=30)
    elapsed = time.monotonic() - t0
    assert rc == 0, srv.describe()
    assert elapsed < 15, 'stop took %.1f s' % elapsed
    text = srv.log_text()
    assert text.count('OPY0027 a change callback has not returned 5000 ms after Orthanc started '
                      'to stop') == 1, text[-3000:]
    assert 'Orthanc has stopped' in text
    for bad in ('Segmentation', 'Aborted', 'terminate called', 'Fatal Python error'):
        assert bad not in text, bad
