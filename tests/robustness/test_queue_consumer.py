# SPDX-License-Identifier: GPL-3.0-or-later
"""A queue consumer thread running when Orthanc stops
(scripts/queue_consumer.py, SDK 1.12.8): values are consumed while clients
add more, and on SIGTERM the thread's next call raises
orthanc.OrthancException, it ends, and Orthanc exits with code 0 within its
usual time (no OPY0014: no thread left behind)."""

import time
from pathlib import Path

import pytest

import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'queue_consumer.py'

pytestmark = pytest.mark.skipif(harness.orthanc_version() < (1, 12, 8),
                                reason='queues need Orthanc 1.12.8 (this is %s)' % harness.orthanc_version_text())


def test_consumer_thread_at_stop(orthanc_factory):
    srv = orthanc_factory(SCRIPT)
    assert srv.get('/queue/put?n=200&prefix=a')[0] == 200
    deadline = time.monotonic() + 30
    while srv.get('/queue/done')[2] != b'200' and time.monotonic() < deadline:
        time.sleep(0.1)
    assert srv.get('/queue/done')[2] == b'200'
    assert srv.get('/queue/put?n=500&prefix=b')[0] == 200       # still busy when it stops
    t0 = time.monotonic()
    assert srv.stop() == 0
    assert time.monotonic() - t0 < 10
    srv.wait_out(harness.bare(r"consumer ends: \(6, 'Orthanc is stopping: the orthanc module can no "
                              r"longer be used'\)"))
    assert srv.count_log(r'OPY0014') == 0
