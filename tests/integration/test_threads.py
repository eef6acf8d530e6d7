# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent clients on a Python route that calls back into Orthanc
(orthanc.RestApiGet) are all answered (scripts/threads.py)."""

import concurrent.futures
import json

import pytest

CLIENTS = 8
REQUESTS = 50


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('threads.py'))


def test_concurrent_clients(srv):
    def client(n):
        statuses = []
        for _ in range(REQUESTS):
            status, _, body = srv.get('/mt/system', timeout=60)
            if status == 200:
                json.loads(body)
            statuses.append(status)
        return statuses

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as ex:
        results = list(ex.map(client, range(CLIENTS)))
    flat = [s for r in results for s in r]
    assert len(flat) == CLIENTS * REQUESTS
    bad = [s for s in flat if s != 200]
    assert bad == [], '%d of %d requests failed: %s' % (len(bad), len(flat), sorted(set(bad)))
    # and the server is still healthy
    assert srv.get('/system')[0] == 200
