# SPDX-License-Identifier: GPL-3.0-or-later
# Python jobs: a counting job submitted over REST (POST /pyjobs), visible and
# controllable through /jobs, saved by Orthanc and reloaded at restart.
import json
import time

import orthanc

JOB_TYPE = 'PyCount'


class CountJob:
    def __init__(self, target, mode='ok', done=0, delay=0.0):
        self.target = target
        self.mode = mode
        self.done = done
        self.delay = delay

    def step(self):
        if self.delay:
            time.sleep(self.delay)
        if self.mode == 'raise' and self.done == 2:
            raise RuntimeError('disk full at step %d' % self.done)
        if self.mode == 'bad-return' and self.done == 1:
            return 'maybe'
        self.done += 1
        if self.done >= self.target:
            return orthanc.JobStepStatus.SUCCESS
        return orthanc.JobStepStatus.CONTINUE

    def stop(self, reason):
        print('job stopped: reason %d after %d steps' % (reason, self.done))

    def reset(self):
        print('job reset after %d steps' % self.done)
        self.done = 0

    def get_progress(self):
        if self.mode == 'bad-progress':
            return 'half'
        return self.done / self.target

    def get_content(self):
        if self.mode == 'bad-content':
            return ['not', 'an', 'object']
        return {'done': self.done, 'target': self.target, 'mode': self.mode}

    def get_serialized(self):
        return json.dumps({'target': self.target, 'mode': self.mode, 'done': self.done,
                           'delay': self.delay})


def submit(output, uri, **request):
    params = json.loads(request['body'])
    job = orthanc.CreateJob(CountJob(params['target'], params.get('mode', 'ok'),
                                     delay=params.get('delay', 0.0)), JOB_TYPE)
    job_id = job.SubmitJob(params.get('priority', 0))
    try:
        job.SubmitJob(0)
    except ValueError as e:
        print('second submit refused: %s' % e)
    output.AnswerBuffer(json.dumps({'ID': job_id}), 'application/json')


def unserialize(job_type, serialized):
    print('unserialize %s %s' % (job_type, serialized))
    if job_type != JOB_TYPE:
        return None
    saved = json.loads(serialized)
    if saved['mode'] == 'unserialize-raise':
        raise ValueError('cannot reload this one')
    return CountJob(saved['target'], saved['mode'], saved['done'], saved['delay'])


class NoStep:
    pass


def misuse(output, uri, **request):
    results = []
    for args in ((NoStep(), 'X'), (CountJob(1), 3)):
        try:
            orthanc.CreateJob(*args)
        except TypeError as e:
            results.append('TypeError: %s' % e)
    job = orthanc.CreateJob(CountJob(1), 'NeverSubmitted')
    results.append(repr(job))
    del job
    output.AnswerBuffer(json.dumps(results), 'application/json')


orthanc.RegisterJobsUnserializer(unserialize)
orthanc.RegisterRestCallback('/pyjobs', submit)
orthanc.RegisterRestCallback('/pyjobs-misuse', misuse)
