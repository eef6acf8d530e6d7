# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Implementing basic paging" (scripts/paging.py)."""

import json

import pytest

import dicomgen

# (StudyDate, StudyDescription), uploaded out of order
STUDIES = [('20200301', 'D3'), ('20200101', 'D1'), ('20200401', 'D4'), ('20200201', 'D2')]


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('paging.py'))
    for i, (date, desc) in enumerate(STUDIES):
        srv.upload(dicomgen.make_instance(patient_id='PAGE-%d' % i, study_date=date,
                                          study_description=desc))
    return srv


def descriptions(srv, query=''):
    status, headers, body = srv.get('/sort-studies' + query)
    assert status == 200, body
    assert headers['content-type'].startswith('application/json')
    return [s['MainDicomTags']['StudyDescription'] for s in json.loads(body)]


def test_all_sorted_by_date(srv):
    assert descriptions(srv) == ['D1', 'D2', 'D3', 'D4']


def test_offset_and_limit(srv):
    assert descriptions(srv, '?offset=1&limit=2') == ['D2', 'D3']


def test_offset_only(srv):
    assert descriptions(srv, '?offset=3') == ['D4']


def test_post_not_allowed(srv):
    status, headers, _ = srv.post('/sort-studies', b'{}')
    assert status == 405
    assert headers.get('allow') == 'GET'
