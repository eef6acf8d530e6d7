#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks: the Python plugin against a native C plugin, side by side.

usage: bench/run.py [--rounds 3] [--quick] [--out docs/benchmarks.md]

Starts Orthanc 1.10.1 with each variant in turn -- our plugin on
bench/bench_script.py, the native C reference (bench/native_plugin.c), no
plugin, and the official plugin on the same script when it is installed --
for several interleaved rounds, drives it with wrk and Python clients on
loopback, reads Orthanc's CPU time and resident size from /proc, and prints
(and writes) a table of medians and of ratios against the native reference
measured in the same run. Machines are noisy: only ratios are meaningful.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / 'tests' / 'integration'))
import dicomgen  # noqa: E402

ORTHANC = '/usr/sbin/Orthanc'
OFFICIAL = '/usr/share/orthanc/plugins/libOrthancPython.so'


def official_label():
    """'official 4.0' (bookworm), 'official 5.0' (trixie), 'official 7.1' (sid):
    the version of the distribution's orthanc-python package."""
    try:
        v = subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'orthanc-python'],
                           capture_output=True, text=True, timeout=30).stdout
    except OSError:
        v = ''
    m = re.match(r'(\d+\.\d+)', v)
    return 'official ' + (m.group(1) if m else '?')


OFFICIAL_LABEL = official_label()
CLK_TCK = os.sysconf('SC_CLK_TCK')
PAGE = os.sysconf('SC_PAGE_SIZE')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, variant, plugins, script, env=None, config=None):
        self.variant = variant
        self.env = env or {}
        self.dir = Path(tempfile.mkdtemp(prefix='opy-bench-'))
        self.port = free_port()
        cfg = {'StorageDirectory': str(self.dir / 'db'), 'IndexDirectory': str(self.dir / 'db'),
               'HttpPort': self.port, 'DicomPort': free_port(), 'RemoteAccessAllowed': True,
               'AuthenticationEnabled': False, 'Plugins': plugins, 'StorageCompression': False}
        if script:
            shutil.copy(script, self.dir / 'bench_script.py')
            cfg['PythonScript'] = str(self.dir / 'bench_script.py')
        cfg.update(config or {})
        (self.dir / 'orthanc.json').write_text(json.dumps(cfg))

    def start(self):
        t0 = time.perf_counter()
        self.log = open(self.dir / 'orthanc.log', 'wb')
        self.proc = subprocess.Popen([ORTHANC, str(self.dir / 'orthanc.json')], cwd=self.dir,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env=dict(os.environ, **self.env))
        while True:
            if self.proc.poll() is not None:
                raise SystemExit('%s: Orthanc exited, see %s' % (self.variant, self.dir / 'orthanc.log'))
            try:
                c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=1)
                c.request('GET', '/system')
                if c.getresponse().status == 200:
                    c.close()
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.002)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def cpu_seconds(self):
        fields = open('/proc/%d/stat' % self.proc.pid).read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK     # utime + stime

    def rss_kib(self):
        return int(open('/proc/%d/statm' % self.proc.pid).read().split()[1]) * PAGE // 1024

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)


def wrk(url, seconds, connections=4, threads=2, latency=False):
    cmd = ['wrk', '-t%d' % threads, '-c%d' % connections, '-d%ds' % seconds]
    if latency:
        cmd.append('--latency')
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    res = {'rps': float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)),
           'requests': int(re.search(r'(\d+) requests in', out).group(1)),
           'errors': 'Non-2xx' in out or 'Socket errors' in out}
    m = re.search(r'^\s+50%\s+([\d.]+)(us|ms|s)\s*$', out, re.M)
    if m:
        res['p50_ms'] = float(m.group(1)) * {'us': 1e-3, 'ms': 1.0, 's': 1e3}[m.group(2)]
    return res


def many_requests(port, n, method='GET', path='/bench/trivial', body=None):
    c = http.client.HTTPConnection('127.0.0.1', port)
    for _ in range(n):
        c.request(method, path, body=body)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit('%s %s answered %d' % (method, path, r.status))
    c.close()


def upload_many(port, blobs, clients=2):
    def worker(part):
        c = http.client.HTTPConnection('127.0.0.1', port)
        for b in part:
            c.request('POST', '/instances', body=b, headers={'Content-Type': 'application/dicom'})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit('upload answered %d' % r.status)
        c.close()
    parts = [blobs[i::clients] for i in range(clients)]
    threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def get_text(port, path):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    c.request('GET', path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise SystemExit('GET %s answered %d: %r' % (path, r.status, body[:200]))
    return body.decode()


def measure(variant, server, cfg, big):
    m = {'startup_s': server.start()}
    port = server.port
    routes = variant != 'none'
    trivial = '/bench/trivial' if routes else '/system'
    if routes:
        # the 8 MB reads first, in a server that did nothing else yet, and
        # again after the load phases below (malloc's heaps then differ)
        iid = json.loads(upload(port, big))['ID']
        m['file_ms'] = file_ms(port, iid, cfg)
        many_requests(port, 200)                                   # warm-up
        cpu0 = server.cpu_seconds()
        r = wrk(server.url(trivial), cfg.seconds)
        m['trivial_rps'] = r['rps']
        m['cpu_us_per_req'] = (server.cpu_seconds() - cpu0) / r['requests'] * 1e6
        m['system_rps'] = wrk(server.url('/bench/system'), cfg.seconds)['rps']
        m['sdk_ns'] = statistics.median(float(get_text(port, '/bench/sdk?n=%d' % cfg.sdk_calls))
                                        for _ in range(3))
        m['file_ms_loaded'] = file_ms(port, iid, cfg)
        # p50 of the trivial route while 2 clients hammer a route calling the core
        bg = subprocess.Popen(['wrk', '-t1', '-c2', '-d%ds' % (cfg.seconds + 2), server.url('/bench/system')],
                              stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        m['p50_ms_loaded'] = wrk(server.url(trivial), cfg.seconds, connections=1, threads=1,
                                 latency=True)['p50_ms']
        bg.wait()
    # memory: RSS growth over many small GETs and POSTs with 1 KB bodies
    rss0 = server.rss_kib()
    many_requests(port, cfg.gets, 'GET', trivial)
    many_requests(port, cfg.posts, 'POST', '/bench/trivial' if routes else '/tools/lookup', b'x' * 1024)
    m['rss_growth_kib'] = server.rss_kib() - rss0
    server.stop()
    return m


def measure_uploads(server, blobs, routes):
    """Seconds to upload `blobs` into a fresh server with 2 clients, until
    the plugin's change callback has counted every new instance (the Python
    callbacks run on a queue: their time counts too)."""
    server.start()
    port = server.port
    t0 = time.perf_counter()
    upload_many(port, blobs)
    if routes:
        deadline = time.time() + 60
        while int(get_text(port, '/bench/changes')) < len(blobs):
            if time.time() > deadline:
                raise SystemExit('%s: the change callback missed instances' % server.variant)
            time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    server.stop()
    return elapsed


def file_ms(port, iid, cfg):
    """Median time of one GET of the route reading the 8 MB file, in steady
    state: after 5 warm-up calls (Orthanc's storage cache, malloc's heap)."""
    for _ in range(5):
        get_text(port, '/bench/file/%s' % iid)
    times = []
    for _ in range(cfg.file_calls):
        t0 = time.perf_counter()
        get_text(port, '/bench/file/%s' % iid)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def measure_paired(server, cfg):
    """The cheap-call row measured in one Orthanc running a plugin and the
    native reference side by side (native routes under /native): calls
    alternate between the two, so that both see the same machine at the same
    moment (frequency, neighbours). Returns the median ns per call of each
    side and the ratio of each pair of consecutive calls (a burst of noise
    from a neighbour hits both calls of a pair). (Not the 8 MB row: there
    the two sides would share malloc's heaps, and what one leaves there
    changes what the other costs.)"""
    server.start()
    port = server.port
    # the plugin, the native route, and the plugin's loop calling a no-op
    # builtin instead (the interpreter's own cost of a call: the floor)
    sides = {'/bench/sdk?n=%d': [], '/native/bench/sdk?n=%d': [], '/bench/sdk?floor=1&n=%d': []}
    for uri in sides:                                              # warm-up
        get_text(port, uri % cfg.sdk_calls)
    for _ in range(cfg.paired_sdk):
        for uri, m in sides.items():
            m.append(float(get_text(port, uri % cfg.sdk_calls)))
    server.stop()
    mine, native, floor = sides.values()
    return {'plugin': {'sdk_ns': statistics.median(mine)},
            'native': {'sdk_ns': statistics.median(native)},
            'floor': {'sdk_ns': statistics.median(floor)},
            'pair_ratios': [a / b for a, b in zip(mine, native)],
            'above_floor_ratios': [(a - f) / b for a, b, f in zip(mine, native, floor)]}


def upload(port, blob):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    c.request('POST', '/instances', body=blob, headers={'Content-Type': 'application/dicom'})
    r = c.getresponse()
    body = r.read()
    c.close()
    return body


METRICS = [
    # key, label, better, target (ratio against native; None: informational), official column
    ('trivial_rps', 'trivial Python route, requests/s', 'higher', '>= 0.75 x native'),
    ('cpu_us_per_req', 'Orthanc CPU per trivial request (us)', 'lower', '<= 1.4 x native'),
    ('system_rps', "route calling RestApiGet('/system') once, requests/s", 'higher', '>= 0.70 x native'),
    ('sdk_ns', 'cheap SDK call (GetErrorDescription), ns per call', 'lower', '<= 1.25 x native'),
    ('file_ms', 'RestApiGet of an 8 MB instance file, ms per call (fresh server)', 'lower',
     '<= 1.3 x native'),
    ('file_ms_loaded', 'same, after the wrk phases', 'lower', '<= 1.3 x native'),
    ('rss_growth_kib', 'RSS growth over the GETs and 1 KB POSTs (KiB)', 'lower', '<= no plugin + 1024 KiB'),
    ('p50_ms_loaded', 'p50 of the trivial route, 2 clients on a core-calling route (ms)', 'lower', '<= 2 ms'),
    ('uploads_s', 'uploads with an OnChange callback, until all counted (s; fresh servers, 3 x the '
     'rounds; ratio: median of the ratios within a round)', 'lower', '<= 1.05 x no plugin'),
    ('startup_s', 'start-up to first answer (s)', 'lower', '<= no plugin + 0.040 s'),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--quick', action='store_true', help='short runs, to check the runner')
    ap.add_argument('--plugin', default=str(REPO / 'build' / 'libOrthancPython.so'))
    ap.add_argument('--native', default=str(REPO / 'build' / 'libOpyBenchNative.so'))
    ap.add_argument('--out', default=None, help='also write the table (markdown) to this file')
    ap.add_argument('--paired-only', action='store_true',
                    help='only the cheap-call row measured side by side (and its floor)')
    ap.add_argument('--variants', default=None,
                    help='comma-separated subset of: python,native,none,official')
    cfg = ap.parse_args()
    cfg.seconds = 2 if cfg.quick else 5
    cfg.sdk_calls = 20000 if cfg.quick else 200000
    cfg.file_calls = 5 if cfg.quick else 40
    cfg.paired_sdk = 3 if cfg.quick else 15
    cfg.gets = 2000 if cfg.quick else 50000
    cfg.posts = 1000 if cfg.quick else 20000
    n_uploads = 100 if cfg.quick else 3000
    for tool in ('wrk', ORTHANC, cfg.plugin, cfg.native):
        if not shutil.which(tool) and not os.path.exists(tool):
            raise SystemExit('missing: %s (build first: cmake --build build)' % tool)

    script = HERE / 'bench_script.py'
    variants = {'python': ([cfg.plugin], script), 'native': ([cfg.native], None), 'none': ([], None)}
    if os.path.exists(OFFICIAL):
        variants[OFFICIAL_LABEL] = ([OFFICIAL], script)
    if cfg.variants:
        variants = {k: v for k, v in variants.items() if k.split()[0] in cfg.variants.split(',')}
    print('generating test data...', flush=True)
    big = dicomgen.make_instance(rows=2048, columns=2048, bits=16, patient_id='BENCH-BIG')
    small = [dicomgen.make_instance(patient_id='BENCH-%d' % (i % 20), rows=16, columns=16)
             for i in range(n_uploads)]
    results = {v: [] for v in variants}
    for rnd in range(0 if cfg.paired_only else cfg.rounds):
        for v, (plugins, scr) in variants.items():
            print('round %d/%d: %s' % (rnd + 1, cfg.rounds, v), flush=True)
            results[v].append(measure(v, Server(v, plugins, scr), cfg, big))
    med = {v: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for v, rs in results.items() if rs}
    # uploads: fresh servers, 3 x as many rounds, the order of the variants
    # rotated from one round to the next. This row is the noisiest (the disk,
    # and the machine drifts: the same server takes 50 % longer ten runs
    # later), so its ratio is the median of the ratios within each round.
    names = list(variants)
    uploads = {v: [] for v in names}
    for rep in range(0 if cfg.paired_only else 3 * cfg.rounds):
        k = rep % len(names)
        for v in names[k:] + names[:k]:
            print('uploads %d/%d: %s' % (rep + 1, 3 * cfg.rounds, v), flush=True)
            uploads[v].append(measure_uploads(Server(v, *variants[v]), small, v != 'none'))
    for v in names if not cfg.paired_only else []:
        med[v]['uploads_s'] = statistics.median(uploads[v])
        if 'none' in uploads:
            med[v]['uploads_ratio'] = statistics.median(a / b for a, b in zip(uploads[v], uploads['none']))
    # the cheap-call row again, each plugin side by side with the native
    # reference in one Orthanc (median of the ratios of consecutive pairs)
    paired = {}
    for v in ('python', OFFICIAL_LABEL):
        if v not in variants or 'native' not in variants:
            continue
        runs = []
        for rnd in range(cfg.rounds):
            print('round %d/%d: %s + native in one Orthanc' % (rnd + 1, cfg.rounds, v), flush=True)
            runs.append(measure_paired(Server(v, variants[v][0] + [cfg.native], variants[v][1],
                                              env={'OPY_BENCH_NATIVE_PREFIX': '/native'}), cfg))
        paired[v] = runs
    table = ('' if cfg.paired_only else render(med, variants, cfg, n_uploads)) + render_paired(paired, cfg)
    print(table)
    if cfg.out:
        Path(cfg.out).write_text(table)


def render(med, variants, cfg, n_uploads):
    cols = list(variants)
    lines = ['Medians of %d interleaved rounds (%s); %d GETs + %d POSTs for RSS, %d uploads.'
             % (cfg.rounds, time.strftime('%Y-%m-%d'), cfg.gets, cfg.posts, n_uploads), '',
             '| what | ' + ' | '.join(cols) + ' | python / reference | target | official / reference |',
             '|---|' + '---|' * len(cols) + '---|---|---|']
    for key, label, _better, target in METRICS:
        vals = []
        for c in cols:
            x = med[c].get(key)
            vals.append('-' if x is None else ('%.3f' % x if x < 10 else '%.0f' % x))
        base = 'none' if key in ('rss_growth_kib', 'uploads_s', 'startup_s') else 'native'
        how = 'diff' if key in ('rss_growth_kib', 'startup_s') else 'ratio'
        ref = med.get(base, {}).get(key)

        def rel(c):
            x = med.get(c, {}).get(key)
            if x is None or ref is None:
                return '-'
            if key == 'uploads_s' and 'uploads_ratio' in med.get(c, {}):
                return '%.2f x' % med[c]['uploads_ratio']
            return ('%+.3f' % (x - ref)) if how == 'diff' else ('%.2f x' % (x / ref if ref else float('inf')))
        lines.append('| %s | %s | %s | %s | %s |' % (label, ' | '.join(vals), rel('python'), target,
                                                     rel(OFFICIAL_LABEL) if OFFICIAL_LABEL in cols else '-'))
    return '\n'.join(lines) + '\n'


def spread(values, spec=None):
    """'median (min-max)' of the per-round values."""
    def f(x):
        return (spec or ('%.0f' if abs(x) >= 100 else '%.3g')) % x
    return '%s (%s-%s)' % (f(statistics.median(values)), f(min(values)), f(max(values)))


def render_paired(paired, cfg):
    """Each cell: the median over the rounds of the round's value, with
    the smallest and largest round; a round's ratio is the median of its
    pairs' ratios."""
    if not paired:
        return ''
    lines = ['', 'The cheap-call row measured side by side: each plugin and the native reference in',
             'one Orthanc, calls alternating between them (%d x %d GetErrorDescription calls per side'
             % (cfg.paired_sdk, cfg.sdk_calls),
             'and round, %d rounds): medians (min-max) over the rounds; a round\'s ratio is the median'
             % cfg.rounds,
             'of the ratios of its pairs of consecutive calls.', '',
             '| what | ' + ' | '.join('%s | native (same Orthanc) | ratio' % v for v in paired)
             + ' | target |',
             '|---|' + '---|---|---|' * len(paired) + '---|']
    cells, floors, above = [], [], []
    for runs in paired.values():
        cells.append('%s | %s | %s x' % (
            spread([r['plugin']['sdk_ns'] for r in runs]), spread([r['native']['sdk_ns'] for r in runs]),
            spread([statistics.median(r['pair_ratios']) for r in runs], '%.2f')))
        floors.append('%s | - | -' % spread([r['floor']['sdk_ns'] for r in runs]))
        above.append('%s | %s | %s x' % (
            spread([r['plugin']['sdk_ns'] - r['floor']['sdk_ns'] for r in runs]),
            spread([r['native']['sdk_ns'] for r in runs]),
            spread([statistics.median(r['above_floor_ratios']) for r in runs], '%.2f')))
    lines.append('| cheap SDK call, ns per call | %s | <= 1.25 x native |' % ' | '.join(cells))
    lines.append("| the floor: the same Python loop calling the no-op builtin callable(), ns | %s | - |"
                 % ' | '.join(floors))
    lines.append('| cheap SDK call less the floor (the plugin and Orthanc), ns | %s | - |' % ' | '.join(above))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
