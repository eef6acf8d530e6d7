# SPDX-License-Identifier: GPL-3.0-or-later
"""A slow growth, measured against the native C reference (docs/robustness.md,
"Memory"; scripts/memory_loop.py, bench/native_plugin.c).

orthanc.RestApiPost('/tools/lookup', 100 KB body), 1000 calls per round, 8
rounds after a warm-up round, in the HTTP thread and in a thread of the
script; the same loop in C by the native reference plugin, in its own
Orthanc, in the same run. The resident size of Orthanc grows in both (the
growth is Orthanc's and glibc's: the native plugin makes no allocation that
it does not free); the Python plugin must not grow more than the native one
plus a margin."""

from pathlib import Path

import pytest

import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'memory_loop.py'

ROUNDS = 8
# calls per round: the 1000 in the HTTP thread; fewer in a thread
# (a call takes about 7 ms on 2 cores: 8 x 1000 calls on each side is 2 min)
CALLS = {'lookup-loop': 1000, 'lookup-thread': 250}
MARGIN_KB = 1024        # on top of 1.5 x the native growth (the growth is noisy)


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS')


def measure(srv, route):
    """RSS growth (kB) over ROUNDS rounds after a warm-up round; and the
    growth of the last two rounds."""
    def one_round():
        status, _h, body = srv.get('/bench/%s/%d' % (route, CALLS[route]), timeout=300)
        assert status == 200 and body == str(CALLS[route]).encode(), (status, body)

    one_round()
    before = rss_kb(srv.proc.pid)
    sizes = []
    for _ in range(ROUNDS):
        one_round()
        sizes.append(rss_kb(srv.proc.pid))
    return sizes[-1] - before, sizes[-1] - sizes[-3], sizes


@pytest.fixture(scope='module')
def servers(orthanc_factory):
    native = harness.plugin_path().parent / 'libOpyBenchNative.so'
    if not native.is_file():
        pytest.skip('%s not built' % native)
    python = orthanc_factory(SCRIPT, verbose=False)
    reference = orthanc_factory(script=None, plugins=[str(native)], verbose=False)
    return python, reference


@pytest.mark.parametrize('route', ['lookup-loop', 'lookup-thread'])
def test_lookup_loop_grows_no_more_than_native(servers, route):
    """A leak grows with every call; glibc's growth does not: a thread's new
    arena is touched up to its high-water mark and then stays (seen on
    trixie: +1.7 MB over the 8 rounds of 250 calls, each in a new thread;
    native -0.4 MB).
    So a first measurement over the bound is measured again over as many
    calls: a leak is over it again, a settling arena is not."""
    python, native = servers
    n = ROUNDS * CALLS[route]
    tries = []
    for attempt in (1, 2):
        py_growth, py_tail, py_sizes = measure(python, route)
        c_growth, c_tail, c_sizes = measure(native, route)
        bound = 1.5 * max(c_growth, 0) + MARGIN_KB
        print('\nmemory %s (measure %d): python +%d kB (%.0f bytes/call, last 2 rounds +%d kB), '
              'native +%d kB (%.0f bytes/call, last 2 rounds +%d kB); python %s, native %s'
              % (route, attempt, py_growth, py_growth * 1024.0 / n, py_tail, c_growth,
                 c_growth * 1024.0 / n, c_tail, py_sizes, c_sizes))
        tries.append('python +%d kB, native %+d kB' % (py_growth, c_growth))
        if py_growth <= bound:
            return
    raise AssertionError('python grew more than 1.5 x native + %d kB over %d calls, twice in a row: %s'
                         % (MARGIN_KB, n, '; then '.join(tries)))
