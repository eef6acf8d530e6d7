# SPDX-License-Identifier: GPL-3.0-or-later
"""Deep recursion in C inside a REST callback (docs/robustness.md, "Deep
stacks"; scripts/deep_stack.py).  Orthanc's HTTP threads have a 100 KB
stack: before the plugin ran Python on a stack of its own there, a
json.dumps of a list nested 1600 deep killed Orthanc 1.10 / Python 3.11
(stack overflow), and Python 3.14 raised RecursionError past 64 KB (a list
nested 400 deep) and deferred deallocations it never finished (objects
leaked half-freed, Orthanc crashed when Python was finalized at stop).
Now the depths that work in a plain Python program work in a route, deeper
ones give Python's own RecursionError, and Orthanc stops cleanly."""

from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'deep_stack.py'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(SCRIPT)


def text(srv, path):
    status, _, body = srv.get(path, timeout=60)
    assert status == 200, (path, status, body[:500])
    return body.decode()


@pytest.mark.parametrize('kind', ['json', 'repr'])
def test_depths_a_python_program_handles(srv, kind):
    # 800 is below every Python's recursion limit (1000): fine on the main
    # thread of a plain interpreter, so fine in a route
    for depth in (50, 400, 800):
        assert text(srv, '/deep/%s/%d' % (kind, depth)) == 'ok', depth


@pytest.mark.parametrize('kind', ['json', 'repr'])
def test_deeper_is_a_recursion_error_not_a_crash(srv, kind):
    for depth in (1600, 5000, 20000, 100000):
        assert text(srv, '/deep/%s/%d' % (kind, depth)) in ('ok', 'RecursionError'), depth
    assert srv.get('/system')[0] == 200


def test_python_recursion(srv):
    assert text(srv, '/deep/python/900') == 'ok'
    assert text(srv, '/deep/python/100000') == 'RecursionError'


def test_nested_callback_on_the_same_thread(srv):
    assert text(srv, '/deep/api/800') == 'ok'
    assert text(srv, '/deep/api/100000') in ('ok', 'RecursionError')


def test_deep_structures_are_freed_at_once(srv):
    # a deferred deallocation would show as 0 here (and crash at stop)
    for depth in (10, 1000, 10000, 100000):
        for _ in range(20):
            assert text(srv, '/deep/free/%d' % depth) == '1', depth


def test_stops_cleanly_afterwards(srv):
    for depth in (400, 5000, 100000):
        text(srv, '/deep/free/%d' % depth)
        text(srv, '/deep/json/%d' % depth)
    assert srv.stop() == 0, srv.describe()
