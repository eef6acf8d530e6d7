# SPDX-License-Identifier: GPL-3.0-or-later
"""The same route registered twice: Orthanc 1.10.1 tries the routes in
registration order, so the first registration answers (docs/callbacks.md)."""


def test_first_registration_wins(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('duplicate_route.py'))
    assert [srv.get('/dup')[2] for _ in range(5)] == [b'first'] * 5
    assert srv.stop() == 0
