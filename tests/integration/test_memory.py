# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory (not timed): 20k requests with a 1 KB body to a Python route; the
resident size of Orthanc must settle, so that a leak of even 100 bytes per
request (2 MB) fails the suite."""

import http.client

import pytest


def rss_kib(pid):
    with open('/proc/%d/statm' % pid) as f:
        return int(f.read().split()[1]) * 4


def post_many(port, n, body):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    for i in range(n):
        c.request('POST', '/memory/echo', body=body, headers={'X-Tag': 'r%d' % (i % 7)})
        r = c.getresponse()
        data = r.read()
        assert r.status == 200 and data.startswith(body[:16]), (r.status, data)
    c.close()


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('memory_route.py'))


def test_rss_settles_over_20k_posts(srv):
    body = bytes(range(256)) * 4                         # 1 KB
    post_many(srv.http_port, 5000, body)                 # warm-up: caches, arenas, thread states
    before = rss_kib(srv.proc.pid)
    post_many(srv.http_port, 20000, body)
    growth = rss_kib(srv.proc.pid) - before
    assert growth < 2048, 'RSS grew by %d KiB over 20k requests' % growth
