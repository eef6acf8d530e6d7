# SPDX-License-Identifier: GPL-3.0-or-later
"""Re-entrancy: a Python route calling itself through RestApiGetAfterPlugins
is stopped after 10 nested levels with a clear error (OPY0025), instead of
overflowing the stack of Orthanc's HTTP thread (which crashed Orthanc at
about 21 levels); registering a route from a callback raises."""

import pytest


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('reentrancy.py'))


def test_self_calling_route_is_bounded(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/recurse/0')
    assert status == 200, body
    assert body == b'stopped at 9: 6 Bad sequence of calls', body     # ErrorCode 6
    srv.wait_log(r'OPY0025 Python REST callbacks nested more than 10 deep', since=mark)
    assert srv.get('/system')[0] == 200
    # and again: the depth counter went back to zero
    assert srv.get('/recurse/100')[2] == b'stopped at 109: 6 Bad sequence of calls'


def test_register_from_a_callback_raises(srv):
    status, _, body = srv.get('/register-late')
    assert status == 200
    assert body.startswith(b'RuntimeError: orthanc.RegisterRestCallback() can only be called while '
                           b'the plugin script is imported')
