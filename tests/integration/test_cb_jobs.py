# SPDX-License-Identifier: GPL-3.0-or-later
"""Python jobs (docs/callbacks/jobs.md): orthanc.CreateJob + Job.SubmitJob,
visible and controllable through /jobs, failures logged once, reloaded by
the unserializer after a restart."""

import json
import time

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('cb_jobs.py'),
                           config={'JobsHistorySize': 100, 'ConcurrentJobs': 2})


def submit(srv, **params):
    status, _, body = srv.post('/pyjobs', json.dumps(params))
    assert status == 200, body
    return json.loads(body)['ID']


def wait_state(srv, job_id, states, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        info = srv.get_json('/jobs/' + job_id)
        if info['State'] in states:
            return info
        if time.monotonic() > deadline:
            srv.fail('job %s stayed %s (expected %s)' % (job_id, info['State'], states))
        time.sleep(0.05)


def test_job_runs_to_success(srv):
    mark, out_mark = srv.log_mark(), srv.out_mark()
    job_id = submit(srv, target=5, priority=3)
    info = wait_state(srv, job_id, ('Success',))
    assert info['Type'] == 'PyCount'
    assert info['Progress'] == 100
    assert info['Priority'] == 3
    assert info['Content'] == {'done': 5, 'target': 5, 'mode': 'ok'}
    assert job_id in srv.get_json('/jobs')
    srv.wait_out(r'second submit refused: .*', since=out_mark)
    assert srv.count_log(r'OPY0010', since=mark) == 0


def test_pause_resume_cancel_resubmit(srv):
    job_id = submit(srv, target=100000, delay=0.02)
    wait_state(srv, job_id, ('Running',))
    mark = srv.out_mark()
    assert srv.post('/jobs/%s/pause' % job_id, b'')[0] == 200
    wait_state(srv, job_id, ('Paused',))
    srv.wait_out(r'job stopped: reason 2 after \d+ steps', since=mark)      # PAUSED
    paused = srv.get_json('/jobs/' + job_id)['Content']['done']
    time.sleep(0.3)
    assert srv.get_json('/jobs/' + job_id)['Content']['done'] == paused
    assert srv.post('/jobs/%s/resume' % job_id, b'')[0] == 200
    wait_state(srv, job_id, ('Running',))
    deadline = time.monotonic() + 10
    while srv.get_json('/jobs/' + job_id)['Content']['done'] == paused:
        assert time.monotonic() < deadline, 'no step after resume'
        time.sleep(0.05)
    mark = srv.out_mark()
    assert srv.post('/jobs/%s/cancel' % job_id, b'')[0] == 200
    info = wait_state(srv, job_id, ('Failure',))
    assert info['ErrorCode'] == 37                                         # CANCELED_JOB
    srv.wait_out(r'job stopped: reason 4 after \d+ steps', since=mark)      # CANCELED
    mark = srv.out_mark()
    assert srv.post('/jobs/%s/resubmit' % job_id, b'')[0] == 200
    srv.wait_out(r'job reset after \d+ steps', since=mark)
    wait_state(srv, job_id, ('Running', 'Pending'))
    assert srv.post('/jobs/%s/cancel' % job_id, b'')[0] == 200
    wait_state(srv, job_id, ('Failure',))
    assert srv.count_log(r'OPY0010', since=mark) == 0


def test_step_raises_job_fails(srv):
    mark = srv.log_mark()
    job_id = submit(srv, target=10, mode='raise')
    info = wait_state(srv, job_id, ('Failure',))
    assert info['Content']['done'] == 2
    srv.wait_log(r'OPY0010 Exception in job PyCount step\(\)', since=mark)
    srv.wait_log(r'RuntimeError: disk full at step 2', since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 1
    assert srv.count_log(r'Traceback \(most recent call last\)', since=mark) == 1
    assert srv.get('/system')[0] == 200


def test_step_bad_return_job_fails(srv):
    mark = srv.log_mark()
    job_id = submit(srv, target=10, mode='bad-return')
    wait_state(srv, job_id, ('Failure',))
    srv.wait_log(r"TypeError: step\(\) must return orthanc\.JobStepStatus\.SUCCESS, FAILURE or "
                 r"CONTINUE, not 'maybe'", since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 1


def test_bad_content_and_progress(srv):
    mark = srv.log_mark()
    job_id = submit(srv, target=3, mode='bad-content')
    info = wait_state(srv, job_id, ('Success',))
    assert info['Content'] == {}
    srv.wait_log(r'OPY0010 Exception in job PyCount get_content\(\)', since=mark)
    srv.wait_log(r'TypeError: get_content\(\) must return a dict or a str holding a JSON object, '
                 r'not list', since=mark)
    mark = srv.log_mark()
    job_id = submit(srv, target=3, mode='bad-progress')
    info = wait_state(srv, job_id, ('Success',))
    srv.wait_log(r'OPY0010 Exception in job PyCount get_progress\(\)', since=mark)
    assert srv.get('/system')[0] == 200


def test_create_job_misuse(srv):
    mark = srv.log_mark()
    status, _, body = srv.get('/pyjobs-misuse')
    assert status == 200, body
    results = json.loads(body)
    assert results[0] == 'TypeError: a job must have a callable step() method (NoStep has none)'
    assert results[1].startswith('TypeError: ') and 'type' in results[1]
    assert results[2] == '<orthanc.Job (owned)>'
    assert srv.count_log(r'OPY0010', since=mark) == 0


def test_register_twice_refused(orthanc_factory):
    srv = orthanc_factory(
        'import orthanc\n'
        'orthanc.RegisterJobsUnserializer(lambda t, s: None)\n'
        'try:\n'
        '    orthanc.RegisterJobsUnserializer(lambda t, s: None)\n'
        'except RuntimeError as e:\n'
        '    print("refused: %s" % e)\n')
    srv.wait_out(r'refused: orthanc\.RegisterJobsUnserializer\(\): a jobs unserializer is already registered')
    assert srv.stop() == 0


def test_unserializer_after_restart(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('cb_jobs.py'))
    keep = submit(srv, target=100000, delay=0.02)
    broken = submit(srv, target=100000, delay=0.02, mode='unserialize-raise')
    wait_state(srv, keep, ('Running',))
    wait_state(srv, broken, ('Running',))
    assert srv.post('/jobs/%s/pause' % keep, b'')[0] == 200
    wait_state(srv, keep, ('Paused',))
    done = srv.get_json('/jobs/' + keep)['Content']['done']
    assert srv.stop() == 0
    mark, out_mark = srv.log_mark(), srv.out_mark()
    srv.start()
    # Orthanc hands the saved JSON (pretty-printed: several lines)
    srv.wait_out(r'^unserialize PyCount \{$', since=out_mark, count=2)
    srv.wait_out(r'"mode" : "ok"', since=out_mark)
    srv.wait_log(r'OPY0010 Exception in jobs unserializer \(job type PyCount\)', since=mark)
    assert srv.count_log(r'OPY0010', since=mark) == 1
    info = srv.get_json('/jobs/' + keep)
    assert info['Type'] == 'PyCount'
    assert info['State'] == 'Paused'
    assert info['Content']['done'] == done
    assert srv.get('/jobs/' + broken)[0] == 404
    assert srv.post('/jobs/%s/cancel' % keep, b'')[0] == 200
    wait_state(srv, keep, ('Failure',))
    assert srv.stop() == 0
