# SPDX-License-Identifier: GPL-3.0-or-later
"""GIL and thread states (design §3): the GIL is released while an SDK call
runs, and an Orthanc thread keeps its Python thread state between calls."""

import concurrent.futures
import socket
import time

import pytest


@pytest.fixture(scope='module')
def silent_peer():
    """A TCP port on loopback that accepts connections and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    s.listen(8)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope='module')
def srv(orthanc_factory, silent_peer):
    # Two HTTP threads, so the counter test sees each thread several times.
    return orthanc_factory(orthanc_factory.script('gil.py'),
                           config={'HttpThreadsCount': 2,
                                   'DicomModalities': {'silent': ['SILENT', '127.0.0.1', silent_peer]}})


def fast_during_slow(srv):
    """Time of /gil/fast while /gil/slow is inside a 2 s core call."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        slow = ex.submit(srv.get, '/gil/slow')
        time.sleep(0.5)             # /gil/slow is now inside RestApiPost
        start = time.monotonic()
        status, _, body = srv.get('/gil/fast')
        fast_time = time.monotonic() - start
        slow_status, _, slow_body = slow.result(timeout=30)
    assert slow_status == 200, slow_body
    assert float(slow_body) >= 1.5, 'the C-ECHO did not wait: %r' % slow_body
    assert (status, body) == (200, b'fast')
    return fast_time


def test_gil_released_during_sdk_call(srv):
    fast_time = fast_during_slow(srv)
    # Had the GIL been held during RestApiPost, /gil/fast would wait ~1.5 s.
    assert fast_time < 0.5, 'a Python route waited %.2f s for a core call of another request' % fast_time


def test_allow_threads_false_keeps_the_gil(orthanc_factory, silent_peer):
    # The compatibility switch of the official plugin: the GIL stays held.
    srv = orthanc_factory(orthanc_factory.script('gil.py'), name='gil_held',
                          config={'HttpThreadsCount': 2, 'Python': {'AllowThreads': False},
                                  'DicomModalities': {'silent': ['SILENT', '127.0.0.1', silent_peer]}})
    assert fast_during_slow(srv) > 1.0


def test_thread_state_kept_per_orthanc_thread(srv):
    # threading.local lives in the Python thread state: with one state per
    # Orthanc thread, a thread's counter keeps growing across requests.
    counts = {}
    for _ in range(20):
        status, _, body = srv.get('/gil/counter')
        assert status == 200, body
        n, ident = map(int, body.split())
        assert n == counts.get(ident, 0) + 1, 'thread state was not kept: %r' % body
        counts[ident] = n
    assert max(counts.values()) > 1
