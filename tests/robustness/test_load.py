# SPDX-License-Identifier: GPL-3.0-or-later
"""Load: 200 keep-alive connections on a Python route for 20 s (wrk), while
instances are uploaded in parallel (scripts/load.py).

- no failed request: wrk reports no socket error (connect, read, write,
  timeout) and no answer other than 2xx/3xx;
- no lost instance: every upload answered 200, every uploaded instance is in
  GET /instances at the end, and the script's OnStoredInstance and OnChange
  (NEW_INSTANCE) counters equal the number of uploads;
- bounded memory: the resident size of Orthanc after the run is at most
  RSS_MARGIN_MB above the one measured after a 2 s warm-up with the same
  connections (the warm-up creates the HTTP threads and fills the caches).
  The margin covers what the stored instances legitimately add (the index,
  SQLite's page cache, the storage cache of Orthanc); a leak of a few
  hundred bytes per request would exceed it (about 300k requests are served).

Orthanc gets HttpThreadsCount 256: CivetWeb keeps a thread per keep-alive
connection, so with its default of 50 threads most of the 200 connections
would wait for a free one and time out in wrk.

Duration: about 25 s (2 s warm-up, 20 s run, start and checks).
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import dicomgen

WRK = shutil.which('wrk')
CONNECTIONS = 200
DURATION = int(os.environ.get('OPY_LOAD_SECONDS', '20'))
RSS_MARGIN_MB = 64
UPLOADERS = 2


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    if WRK is None:
        pytest.skip('wrk is not installed (apt-get install wrk; scripts/deps.sh does)')
    return orthanc_factory(Path(__file__).resolve().parent / 'scripts' / 'load.py',
                           config={'HttpThreadsCount': 256})


def _rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for %d' % pid)


def _wrk(srv, seconds):
    out = subprocess.run([WRK, '-t', '2', '-c', str(CONNECTIONS), '-d', '%ds' % seconds,
                          '--timeout', '10s', srv.base_url + '/load'],
                         capture_output=True, text=True, timeout=seconds + 60)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    m = re.search(r'(\d+) requests in', text)
    assert m, text
    socket_errors = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', text)
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', text)
    return {'requests': int(m.group(1)),
            'socket_errors': sum(map(int, socket_errors.groups())) if socket_errors else 0,
            'non2xx': int(non2xx.group(1)) if non2xx else 0,
            'text': text}


class _Uploader(threading.Thread):
    """Uploads distinct instances over one keep-alive connection until told
    to stop; records every answer."""

    def __init__(self, srv, index, stop):
        super().__init__(daemon=True)
        self.srv, self.index, self.stop = srv, index, stop
        self.ids, self.failures = [], []
        self.study = dicomgen.new_uid()
        self.series = dicomgen.new_uid()

    def run(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.http_port, timeout=60)
        n = 0
        while not self.stop.is_set():
            n += 1
            data = dicomgen.make_instance(patient_id='LOAD-%d' % self.index, study_uid=self.study,
                                          series_uid=self.series, instance_number=n)
            try:
                conn.request('POST', '/instances', body=data,
                             headers={'Content-Type': 'application/dicom'})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as e:
                self.failures.append('upload %d: %r' % (n, e))
                conn.close()
                conn = http.client.HTTPConnection('127.0.0.1', self.srv.http_port, timeout=60)
                continue
            if response.status != 200:
                self.failures.append('upload %d: HTTP %d %r' % (n, response.status, body[:300]))
                continue
            self.ids.append(json.loads(body)['ID'])
        conn.close()


def test_load(srv):
    pid = srv.proc.pid
    warm = _wrk(srv, 2)
    assert warm['socket_errors'] == 0 and warm['non2xx'] == 0, warm['text']
    rss_before = _rss_kb(pid)

    stop = threading.Event()
    uploaders = [_Uploader(srv, i, stop) for i in range(UPLOADERS)]
    for u in uploaders:
        u.start()
    try:
        run = _wrk(srv, DURATION)
    finally:
        stop.set()
        for u in uploaders:
            u.join(60)
    assert srv.running, 'Orthanc died under load'
    rss_after = _rss_kb(pid)

    ids = [i for u in uploaders for i in u.ids]
    failures = [f for u in uploaders for f in u.failures]
    print('\nload: %d requests in %d s (%d/s) on %d connections, %d uploads; RSS %d -> %d MB'
          % (run['requests'], DURATION, run['requests'] // DURATION, CONNECTIONS, len(ids),
             rss_before // 1024, rss_after // 1024))

    assert run['socket_errors'] == 0 and run['non2xx'] == 0, run['text']
    assert run['requests'] > 1000, run['text']
    assert not failures, '\n'.join(failures[:20])
    assert len(ids) >= 10, 'only %d uploads in %d s' % (len(ids), DURATION)
    assert len(set(ids)) == len(ids), 'two uploads gave the same instance'

    present = set(srv.get_json('/instances'))
    missing = set(ids) - present
    assert not missing, '%d uploaded instances missing from /instances' % len(missing)

    # the change callbacks run on Orthanc's change thread: wait for them
    deadline = time.monotonic() + 30
    while True:
        counters = srv.get_json('/load-counters')
        if counters['new_instance'] >= len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counters['stored'] == len(ids), counters
    assert counters['new_instance'] == len(ids), counters
    assert counters['route'] >= warm['requests'] + run['requests'], counters

    assert rss_after <= rss_before + RSS_MARGIN_MB * 1024, (
        'RSS grew from %d to %d kB under load (margin %d MB)' % (rss_before, rss_after, RSS_MARGIN_MB))
