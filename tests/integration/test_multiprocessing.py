# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed samples of "Performance and concurrency": a multiprocessing pool
offloads CPU-bound work from the plugin's interpreter (scripts/
multiprocessing_pool.py, with a shorter computation), and pool workers call
the REST API with GenerateRestApiAuthorizationToken()
(scripts/multiprocessing_token.py)."""

import concurrent.futures
import json
import re
import time

import pytest

import dicomgen

# 700 x 30000 square roots: about one second here (the documentation uses
# 1000, about four seconds).
OUTER_LOOPS = 700


@pytest.fixture(scope='module')
def pool_srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('multiprocessing_pool.py'),
                           subst={'OUTER_LOOPS': OUTER_LOOPS})


def computation(srv):
    t0 = time.monotonic()
    status, _, body = srv.get('/computation', timeout=120)
    elapsed = time.monotonic() - t0
    assert status == 200, body
    assert re.fullmatch(rb'computation done in \d+\.\d{3} seconds\n', body), body
    return elapsed


def test_pool_runs_concurrent_calls_in_parallel(pool_srv):
    # Run serially, three calls would take 3x one call.  The machine has two
    # cores and another test module may run beside this one, so the
    # measurement is tried up to three times.
    computation(pool_srv)  # warm-up: the pool processes are ready
    tries = []
    for _ in range(3):
        single = min(computation(pool_srv) for _ in range(2))
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            t0 = time.monotonic()
            durations = list(ex.map(lambda _: computation(pool_srv), range(3)))
            total = time.monotonic() - t0
        tries.append('3 concurrent calls %.2f s, one call %.2f s (ratio %.2f; %s)'
                     % (total, single, total / single, ' '.join('%.2f' % d for d in durations)))
        if total < 2.4 * single:
            return
    raise AssertionError('no parallelism: ' + '; '.join(tries))


@pytest.fixture(scope='module')
def token_srv(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('multiprocessing_token.py'))
    srv.instance = srv.upload(dicomgen.make_instance(patient_id='TOKEN-1'))['ID']
    return srv


def test_pool_worker_calls_rest_api_with_token(token_srv):
    status, _, body = token_srv.get('/computation', timeout=120)
    assert status == 200, body
    assert json.loads(body) == token_srv.get_json('/instances') == [token_srv.instance]


@pytest.mark.parametrize('which', ['pool_srv', 'token_srv'])
def test_stop_leaves_no_pool_process(request, which):
    srv = request.getfixturevalue(which)
    assert srv.stop(timeout=20) == 0
    assert srv.leftovers == [], 'processes left running after Orthanc exited: %s' % srv.leftovers
