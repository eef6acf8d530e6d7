# SPDX-License-Identifier: GPL-3.0-or-later
"""RegisterRefreshMetricsCallback (docs/callbacks/metrics.md): values set by
the refresh callbacks reach GET /tools/metrics-prometheus; an exception is
logged once and the other callbacks still run; the return value is ignored."""

import re

import pytest

import dicomgen
import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_metrics.py'))


def metrics(srv):
    status, _, body = srv.get('/tools/metrics-prometheus')
    assert status == 200, body
    values = {}
    for line in body.decode().splitlines():
        m = re.match(r'^(\w+) (\S+)', line)
        if m:
            values[m.group(1)] = float(m.group(2))
    return values


def set_mode(srv, mode):
    assert srv.post('/metrics-mode', mode)[0] == 200


def test_values_visible_in_prometheus(srv):
    set_mode(srv, 'ok')
    srv.upload(dicomgen.make_instance(patient_id='METRICS-1'))
    values = metrics(srv)
    assert values['py_constant'] == 42.5
    assert values['py_instances'] == 1
    before = values['py_refreshes']
    assert metrics(srv)['py_refreshes'] == before + 1


def test_exception_logged_once_others_still_run(srv):
    set_mode(srv, 'raise')
    before = metrics(srv)['py_refreshes']
    mark = srv.log_mark()
    values = metrics(srv)
    assert values['py_refreshes'] == before + 1          # the second callback ran
    srv.wait_log(r'OPY0010 Exception in RefreshMetrics callback', since=mark)
    srv.wait_log(r'RuntimeError: storage statistics unavailable', since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 1
    assert srv.count_log(r'Traceback \(most recent call last\)', since=mark) == 1
    set_mode(srv, 'ok')
    assert srv.get('/system')[0] == 200


def test_return_value_ignored(srv):
    set_mode(srv, 'return')
    mark = srv.log_mark()
    assert metrics(srv)['py_constant'] == 42.5
    assert srv.count_log(r'OPY0010', since=mark) == 0
    set_mode(srv, 'ok')


def test_register_after_start_refused(orthanc_factory):
    srv = orthanc_factory(
        'import orthanc, threading\n'
        'def late():\n'
        '    try:\n'
        '        orthanc.RegisterRefreshMetricsCallback(print)\n'
        '    except RuntimeError as e:\n'
        '        print("late: %s" % e)\n'
        'threading.Timer(0.5, late).start()\n')
    srv.wait_out(harness.bare(r'late: orthanc\.RegisterRefreshMetricsCallback\(\) can only be called '
                              r'while the plugin script is imported.*'))
    assert srv.stop() == 0
