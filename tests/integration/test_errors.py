# SPDX-License-Identifier: GPL-3.0-or-later
"""Failing callbacks keep the server serving (scripts/errors.py): an HTTP
error with the exception in its details, one traceback in the log."""

import json
import time

import pytest

import dicomgen
import harness

TRACEBACK = r'Traceback \(most recent call last\)'


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('errors.py'))


def details(body):
    try:
        return json.loads(body).get('Details', '')
    except ValueError:
        return ''


def settle():
    time.sleep(0.5)  # let the log catch up before counting


def test_rest_callback_raises(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/raise')
    assert status == 500, body
    assert 'boom-rest-4242' in details(body), body
    srv.wait_log(r'OPY0010[^\n]*REST callback[^\n]*/errors/raise', since=mark)
    settle()
    assert srv.count_log(r'OPY0010', since=mark) == 1
    assert srv.count_log(TRACEBACK, since=mark) == 1
    assert srv.count_log(r'RuntimeError: boom-rest-4242', since=mark) == 1
    assert srv.count_log(r'errors\.py", line \d+, in Raise', since=mark) == 1


def test_rest_callback_raises_orthanc_exception(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/raise-orthanc')
    assert status == 404, body
    assert 'x-resource-gone' in details(body), body
    srv.wait_log(r'OPY0010[^\n]*REST callback[^\n]*/errors/raise-orthanc', since=mark)
    settle()
    assert srv.count_log(TRACEBACK, since=mark) == 1


def test_rest_callback_answers_nothing(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/silent')
    assert status == 500, body
    assert body, 'empty error body'
    assert details(body), body
    srv.wait_log(r'OPY0011[^\n]*/errors/silent', since=mark)


def test_exception_message_not_ascii(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/unicode')
    assert status == 500, body
    assert 'boom-\u00e9t\u00e9-\u2603' in details(body), body
    srv.wait_log(r'RuntimeError: boom-\u00e9t\u00e9-\u2603', since=mark)


def test_exception_that_cannot_be_printed(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/unprintable')
    assert status == 500, body
    srv.wait_log(r'OPY0010[^\n]*/errors/unprintable', since=mark)
    srv.wait_log(r'UnprintableError', since=mark)


def test_system_exit_in_callback_does_not_stop_orthanc(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/system-exit')
    assert status == 500, body
    srv.wait_log(r'OPY0010[^\n]*/errors/system-exit', since=mark)
    srv.wait_log(r'SystemExit', since=mark)
    assert srv.running
    assert srv.get('/system')[0] == 200


def test_callback_with_wrong_signature(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/errors/wrong-signature')
    assert status == 500, body
    assert 'TypeError' in details(body) or 'argument' in details(body), body
    srv.wait_log(r'OPY0010[^\n]*/errors/wrong-signature', since=mark)


def test_still_serving_after_errors(srv):
    for _ in range(3):
        assert srv.get('/errors/raise')[0] == 500
        assert srv.get('/errors/silent')[0] == 500
    assert srv.get('/errors/ok')[:3:2] == (200, b'still-ok')
    assert srv.get('/system')[0] == 200


def test_on_change_callback_raises(srv):
    mark, out_mark = srv.log_mark(), srv.out_mark()
    first = srv.upload(dicomgen.make_instance(patient_id='ERR-1'))
    srv.wait_log(r'OPY0010[^\n]*OnChange', since=mark, timeout=15)
    srv.wait_log(r'ZeroDivisionError: boom-change-%s' % first['ID'], since=mark)
    srv.wait_log(TRACEBACK, since=mark)
    # the callback keeps being called for later changes, and other events
    srv.wait_out(harness.bare(r'OnChange saw a new study %s') % first['ParentStudy'], since=out_mark, timeout=15)
    second = srv.upload(dicomgen.make_instance(patient_id='ERR-2'))
    srv.wait_log(r'ZeroDivisionError: boom-change-%s' % second['ID'], since=mark, timeout=15)
    settle()
    assert srv.count_log(r'ZeroDivisionError: boom-change-%s' % first['ID'], since=mark) == 1
    # REST callbacks keep working, the server keeps serving
    status, _, body = srv.get('/errors/changes')
    assert status == 200
    assert '3' in body.decode().split()  # NEW_INSTANCE seen (twice)
    assert srv.get('/errors/ok')[:3:2] == (200, b'still-ok')
    assert len(srv.get_json('/instances')) == 2
