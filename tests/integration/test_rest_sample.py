# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Extending the REST API" (scripts/rest.py); its print() and
pprint.pprint() lines are read on Orthanc's standard output."""

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('rest.py'))


def test_toto(srv):
    mark = srv.out_mark()
    status, headers, body = srv.get('/toto')
    assert (status, body) == (200, b'ok\n')
    assert headers['content-type'].startswith('text/plain')
    # pprint.pprint(request) shows the groups of the route's regex
    srv.wait_out(r"'groups': \('to', 't'\)", since=mark)
    srv.wait_out(r"'method': 'GET'", since=mark)
    srv.wait_out(harness.bare(r'Accessing uri: /toto'), since=mark)


def test_tata(srv):
    mark = srv.out_mark()
    status, _, body = srv.get('/tata')
    assert (status, body) == (200, b'ok\n')
    srv.wait_out(r"'groups': \(\)", since=mark)
    srv.wait_out(harness.bare(r'Accessing uri: /tata'), since=mark)


def test_post_toto_with_body(srv):
    mark = srv.out_mark()
    status, _, body = srv.post('/toto', b'payload-123', headers={'Content-Type': 'text/plain'})
    assert (status, body) == (200, b'ok\n')
    srv.wait_out(r"'body': b'payload-123'", since=mark)
    srv.wait_out(r"'method': 'POST'", since=mark)


def test_unregistered_route_is_404(srv):
    status, _, _ = srv.get('/titi')
    assert status == 404
