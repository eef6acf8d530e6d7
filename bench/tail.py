#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tail latency of Python REST routes against the native C routes.

usage: bench/tail.py [--rounds 5] [--quick] [--out FILE] [--baseline OTHER.so] [--no-official]

Variants, started in turn for several interleaved rounds: the native C
reference (bench/native_plugin.c), this plugin on bench/bench_script.py
(one interpreter, and "Python.Interpreters": 2 on Python 3.12+) and the
official plugin when installed. For each: wrk with 16 connections and
--latency on the trivial route and on the route calling
RestApiGet('/system') once: requests/s, p50 and p99, and Orthanc's context
switches per request (all its threads, from /proc). Printed as medians
(min-max) over the rounds, and the ratios against native within each
round (median, min-max).
"""
import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run  # noqa: E402

UNIT = {'us': 1e-3, 'ms': 1.0, 's': 1e3}


def context_switches(pid):
    """Context switches of every thread of the process so far (voluntary
    and not), from /proc."""
    n = 0
    for status in Path('/proc/%d/task' % pid).glob('*/status'):
        try:
            text = status.read_text()
        except OSError:
            continue            # a thread that ended meanwhile
        n += sum(int(m) for m in re.findall(r'^(?:non)?voluntary_ctxt_switches:\s+(\d+)', text, re.M))
    return n


def wrk_latency(url, seconds, connections=16, threads=2, pid=None):
    before = context_switches(pid) if pid else 0
    out = subprocess.run(['wrk', '-t%d' % threads, '-c%d' % connections, '-d%ds' % seconds, '--latency', url],
                         capture_output=True, text=True, check=True).stdout
    res = {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))}
    if pid:
        requests = int(re.search(r'^\s*(\d+) requests in', out, re.M).group(1))
        res['cs'] = (context_switches(pid) - before) / max(requests, 1)
    for pct in ('50', '99'):
        m = re.search(r'^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$' % pct, out, re.M)
        res['p%s' % pct] = float(m.group(1)) * UNIT[m.group(2)]
    if 'Non-2xx' in out or 'Socket errors' in out:
        raise SystemExit('wrk saw errors on %s:\n%s' % (url, out))
    return res


def measure(server, cfg):
    server.start()
    m = {}
    for route in ('trivial', 'system'):
        url = server.url('/bench/%s' % route)
        run.many_requests(server.port, 500, path='/bench/%s' % route)      # warm-up
        wrk_latency(url, 1)
        r = wrk_latency(url, cfg.seconds, pid=server.proc.pid)
        for k, v in r.items():
            m['%s_%s' % (route, k)] = v
    server.stop()
    return m


ROWS = [('trivial_rps', 'trivial route, requests/s', 'higher', '>= 0.9 x native'),
        ('trivial_p50', 'trivial route, p50 (ms)', 'lower', None),
        ('trivial_p99', 'trivial route, p99 (ms)', 'lower', '<= 1.5 x native'),
        ('trivial_cs', "trivial route, Orthanc's context switches per request", 'lower', None),
        ('system_rps', "route calling RestApiGet('/system'), requests/s", 'higher', None),
        ('system_p50', "route calling RestApiGet('/system'), p50 (ms)", 'lower', None),
        ('system_p99', "route calling RestApiGet('/system'), p99 (ms)", 'lower', '<= 1.5 x native'),
        ('system_cs', "route calling RestApiGet('/system'), Orthanc's context switches per request", 'lower',
         None)]


def cell(xs):
    fmt = '%.3f' if max(xs) < 10 else '%.0f'
    return (fmt + ' (' + fmt + '-' + fmt + ')') % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--plugin', default=str(run.REPO / 'build' / 'libOrthancPython.so'))
    ap.add_argument('--native', default=str(run.REPO / 'build' / 'libOpyBenchNative.so'))
    ap.add_argument('--out', default=None)
    ap.add_argument('--baseline', default=None,
                    help='another build of the plugin, measured as one more variant (A/B of a change)')
    ap.add_argument('--no-official', action='store_true')
    cfg = ap.parse_args()
    cfg.seconds = 2 if cfg.quick else 6
    script = HERE / 'bench_script.py'
    variants = {'native': ([cfg.native], None, {}), 'python': ([cfg.plugin], script, {})}
    if sys.version_info >= (3, 12):
        variants['python, 2 interpreters'] = ([cfg.plugin], script, {'Python': {'Interpreters': 2}})
    if cfg.baseline:
        variants['python, baseline'] = ([cfg.baseline], script, {})
    if run.os.path.exists(run.OFFICIAL) and not cfg.no_official:
        variants[run.OFFICIAL_LABEL] = ([run.OFFICIAL], script, {})
    results = {v: [] for v in variants}
    for rnd in range(cfg.rounds):
        for v, (plugins, scr, config) in variants.items():
            print('round %d/%d: %s' % (rnd + 1, cfg.rounds, v), flush=True)
            results[v].append(measure(run.Server(v, plugins, scr, config=config), cfg))
    cols = list(results)
    others = [c for c in cols if c != 'native']
    lines = ['wrk, 16 connections, %d s per route; medians (min-max) of %d interleaved rounds, %s.'
             % (cfg.seconds, cfg.rounds, time.strftime('%Y-%m-%d')), '',
             '| what | ' + ' | '.join(cols) + ' | ' + ' | '.join('%s / native' % c for c in others)
             + ' | target |',
             '|---|' + '---|' * (len(cols) + len(others) + 1)]
    for key, label, _better, target in ROWS:
        vals = [cell([r[key] for r in results[c]]) for c in cols]
        ratios = [cell([a[key] / b[key] for a, b in zip(results[c], results['native'])]) for c in others]
        lines.append('| %s | %s | %s | %s |' % (label, ' | '.join(vals), ' | '.join(ratios), target or ''))
    table = '\n'.join(lines) + '\n'
    print(table)
    if cfg.out:
        Path(cfg.out).write_text(table)


if __name__ == '__main__':
    main()
