# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Filtering and returning metadata" (scripts/find_metadata.py):
/tools/find overridden to filter on metadata with regular expressions."""

import json

import pytest

import dicomgen


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('find_metadata.py'))
    srv.studies = sorted(
        srv.upload(dicomgen.make_instance(patient_id='FIND-%d' % i))['ParentStudy']
        for i in range(2))
    return srv


def find(srv, query):
    status, _, body = srv.post('/tools/find', json.dumps(query))
    assert status == 200, body
    return json.loads(body)


def test_metadata_regex_matches(srv):
    answers = find(srv, {'Level': 'Study', 'Query': {}, 'Expand': True,
                         'Metadata': {'LastUpdate': r'^\d{8}T\d{6}$'}})
    assert sorted(a['ID'] for a in answers) == srv.studies
    for a in answers:
        assert 'LastUpdate' in a['Metadata']


def test_metadata_regex_does_not_match(srv):
    assert find(srv, {'Level': 'Study', 'Query': {}, 'Expand': True,
                      'Metadata': {'LastUpdate': '^1999.*$'}}) == []


def test_without_expand_returns_ids(srv):
    answers = find(srv, {'Level': 'Study', 'Query': {}, 'Metadata': {'LastUpdate': '^2.*$'}})
    assert sorted(answers) == srv.studies


def test_dicom_query_still_applies(srv):
    answers = find(srv, {'Level': 'Patient', 'Query': {'PatientID': 'FIND-1'}})
    assert len(answers) == 1
    assert srv.get_json('/patients/%s' % answers[0])['MainDicomTags']['PatientID'] == 'FIND-1'


def test_get_is_method_not_allowed(srv):
    status, headers, _ = srv.get('/tools/find')
    assert status == 405
    assert headers.get('allow') == 'POST'
