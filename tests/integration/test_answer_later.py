# SPDX-License-Identifier: GPL-3.0-or-later
"""The answer that RestOutput.AnswerBuffer holds back (up to 64 KiB, sent
once the GIL is released anyway: src/sdk/opy_restoutput.c). What a script can
observe stays as before: a second answer or a header after the answer is
refused by Orthanc in order, an exception after answering keeps the answer,
an SDK call after the answer sends it; only pure Python work after the answer
delays it until the callback returns (documented), and a large answer goes
out at once."""

import concurrent.futures
import time

import pytest


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('answer_later.py'))


def seen(srv, name, timeout=10):
    """What the route recorded after answering (the client may have its
    answer before the route is done: wait for it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = srv.get('/later/seen/%s' % name)[2]
        if value != b'None' or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_a_second_answer_is_refused_and_the_first_sent(srv):
    status, _, body = srv.get('/later/twice')
    assert (status, body) == (200, b'first')
    assert seen(srv, 'twice') == b'OrthancException Bad sequence of calls'


def test_a_header_after_the_answer_is_refused_as_before(srv):
    status, headers, body = srv.get('/later/header-after')
    assert (status, body) == (200, b'body')
    assert 'x-late' not in headers
    assert seen(srv, 'header') == b'OrthancException Bad sequence of calls'
    status, headers, body = srv.get('/later/header-before')
    assert (status, body, headers.get('x-early')) == (200, b'body', 'yes')


def test_an_exception_after_answering_keeps_the_answer(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/later/raise-after')
    assert (status, body) == (200, b'answered')
    srv.wait_log(r'RuntimeError: raised after answering', since=mark)


def _started(path, srv):
    pool = concurrent.futures.ThreadPoolExecutor(1)
    return pool, pool.submit(srv.get, path, timeout=60)


def test_an_sdk_call_after_the_answer_sends_it(srv):
    pool, fut = _started('/later/then-call', srv)
    try:
        status, _, body = fut.result(timeout=10)      # while the callback still waits
        assert (status, body) == (200, b'sent at the next call')
    finally:
        srv.get('/later/release/then-call')
        pool.shutdown()
    assert seen(srv, 'then-call') == b'True'


def test_pure_python_after_the_answer_delays_it_to_the_return(srv):
    pool, fut = _started('/later/then-wait', srv)
    try:
        time.sleep(1.0)
        assert not fut.done()
    finally:
        srv.get('/later/release/then-wait')
    status, _, body = fut.result(timeout=10)
    pool.shutdown()
    assert (status, body) == (200, b'sent on return')


def test_a_large_answer_is_sent_at_once(srv):
    pool, fut = _started('/later/big-then-wait', srv)
    try:
        status, _, body = fut.result(timeout=10)
        assert (status, len(body)) == (200, 100000)
    finally:
        srv.get('/later/release/big-then-wait')
        pool.shutdown()


def test_answers_from_a_thread_empty_and_nested(srv):
    assert srv.get('/later/from-thread')[:3:2] == (200, b'from a thread')
    status, headers, body = srv.get('/later/empty')
    assert (status, body, headers.get('content-length')) == (200, b'', '0')
    assert srv.get('/later/nested')[2] == b'outer got 5 bytes: inner'


def test_many_concurrent_answers_are_all_complete(srv):
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda i: srv.get('/later/empty-inner'), range(400)))
    assert all(s == 200 and b == b'inner' for s, _, b in got)


@pytest.fixture(scope='module')
def held(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('answer_later.py'),
                           config={'Python': {'AllowThreads': False}}, name='allow-threads-false')


def test_with_allow_threads_false(held):
    assert held.get('/later/twice')[2] == b'first'
    assert seen(held, 'twice') == b'OrthancException Bad sequence of calls'
    assert held.get('/later/nested')[2] == b'outer got 5 bytes: inner'
