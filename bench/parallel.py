#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of "Python.Interpreters": CPU-bound Python callbacks on every core.

usage: bench/parallel.py [--rounds 5] [--quick] [--out FILE]

The seed page's CPU-bound route (its SlowComputation, scaled to about
0.2 s; bench/parallel_script.py) in these variants, started in turn for
several interleaved rounds:

  interpreters=1   our plugin, one interpreter (one GIL)
  interpreters=2   our plugin, "Python.Interpreters": 2
  pool             our plugin, one interpreter, the seed's multiprocessing
                   sample: the computation offloaded to multiprocessing.Pool(2)
                   (bench/parallel_pool.py)
  official         the distribution's official plugin on parallel_script.py

For each: throughput (requests/s) of /computation with 1 client, then with
2 concurrent clients (the machine has 2 cores), and their ratio; and the
trivial route under wrk (16 connections). Needs Python 3.12+ for
interpreters=2 (on Python 3.11 that variant is left out). Printed as a
markdown table of medians (with min and max) and ratios within each round.
"""
import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run  # noqa: E402


def throughput(port, clients, seconds):
    """Requests/s of /computation with `clients` concurrent clients, each
    sending requests one after the other for `seconds`."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def client(k):
        while time.perf_counter() < stop:
            run.get_text(port, '/computation')
            counts[k] += 1
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def measure(server, cfg):
    server.start()
    port = server.port
    for _ in range(2):
        run.get_text(port, '/computation')                     # warm-up (the pool's workers too)
    m = {'one_rps': throughput(port, 1, cfg.seconds),
         'two_rps': throughput(port, 2, cfg.seconds)}
    m['speedup'] = m['two_rps'] / m['one_rps']
    run.many_requests(port, 200)
    m['trivial_rps'] = run.wrk(server.url('/bench/trivial'), cfg.seconds, connections=16)['rps']
    server.stop()
    return m


ROWS = [
    ('one_rps', '/computation, 1 client, requests/s'),
    ('two_rps', '/computation, 2 concurrent clients, requests/s'),
    ('speedup', '2 clients / 1 client (throughput)'),
    ('trivial_rps', 'trivial route under wrk, 16 connections, requests/s'),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--quick', action='store_true', help='short runs, to check the runner')
    ap.add_argument('--plugin', default=str(run.REPO / 'build' / 'libOrthancPython.so'))
    ap.add_argument('--out', default=None, help='also write the table (markdown) to this file')
    cfg = ap.parse_args()
    cfg.seconds = 3 if cfg.quick else 8
    threads = {'HttpThreadsCount': 16}
    variants = {'interpreters=1': ([cfg.plugin], HERE / 'parallel_script.py', threads)}
    if sys.version_info >= (3, 12):
        variants['interpreters=2'] = ([cfg.plugin], HERE / 'parallel_script.py',
                                      dict(threads, Python={'Interpreters': 2}))
    variants['pool'] = ([cfg.plugin], HERE / 'parallel_pool.py', threads)
    if run.os.path.exists(run.OFFICIAL):
        variants[run.OFFICIAL_LABEL] = ([run.OFFICIAL], HERE / 'parallel_script.py', threads)
    results = {v: [] for v in variants}
    for rnd in range(cfg.rounds):
        for v, (plugins, script, config) in variants.items():
            print('round %d/%d: %s' % (rnd + 1, cfg.rounds, v), flush=True)
            results[v].append(measure(run.Server(v, plugins, script, config=config), cfg))
    table = render(results, cfg)
    print(table)
    if cfg.out:
        Path(cfg.out).write_text(table)


def cell(xs):
    fmt = '%.2f' if max(xs) < 10 else '%.0f'
    return (fmt + ' (' + fmt + '-' + fmt + ')') % (statistics.median(xs), min(xs), max(xs))


def render(results, cfg):
    cols = list(results)
    lines = ['Medians (min-max) of %d interleaved rounds, %s, %d s per measure.'
             % (cfg.rounds, time.strftime('%Y-%m-%d'), cfg.seconds), '',
             '| what | ' + ' | '.join(cols) + ' |', '|---|' + '---|' * len(cols)]
    for key, label in ROWS:
        lines.append('| %s | %s |' % (label, ' | '.join(cell([r[key] for r in results[c]]) for c in cols)))
    if 'interpreters=2' in results:
        two = results['interpreters=2']

        def ratio(other, key, target):
            rs = [a[key] / b[key] for a, b in zip(two, results[other])]
            return '| interpreters=2 / %s, %s | %s | %s |' % (other, key, cell(rs), target)
        lines += ['', 'Ratios within each round:', '', '| what | median (min-max) | target |', '|---|---|---|',
                  '| interpreters=2: 2 clients / 1 client | %s | >= 1.8 |' % cell([r['speedup'] for r in two]),
                  ratio('pool', 'two_rps', '>= 1 / 1.05 = 0.95 (no slower than the pool)'),
                  ratio('interpreters=1', 'trivial_rps', '>= 1.0')]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
