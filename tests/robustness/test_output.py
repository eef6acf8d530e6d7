# SPDX-License-Identifier: GPL-3.0-or-later
"""Output robustness (docs/robustness.md, "Output"; scripts/output.py):
10 MB written at once through print(), sys.stderr, orthanc.LogWarning and
logging; lone surrogates (undecodable bytes), NUL and control characters.
Nothing blocks, the server keeps serving while it happens, every message
arrives as one readable line (surrogates written "\\udcff", NUL "\\x00"):
print() on Orthanc's standard output, sys.stderr on its standard error, the
others in the log (a file of its own here: --logfile), and orthanc.Log*
refuse what they cannot write with a clear exception."""

import concurrent.futures
import re
import threading
import time
from pathlib import Path

import pytest

import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'output.py'
MB = 1024 * 1024


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(SCRIPT, logfile=True)


def read_bytes(path, since):
    return path.read_bytes()[since:]


LOG_LINE = rb'^%s\d{4} [^\n]*\] (?:\(plugins\) )?'

# where each kind goes: (path attribute, regex prefix of the line)
DESTINATIONS = {
    'line': ('stdout_path', rb'^'),
    'stderr': ('stderr_path', rb'^'),
    'logwarning': ('log_path', LOG_LINE % b'W'),
    'logging': ('log_path', LOG_LINE % b'W'),
}


def marks(srv):
    return {name: srv._size(getattr(srv, name)) for name in ('stdout_path', 'stderr_path', 'log_path')}


@pytest.mark.parametrize('kind,marker,size', [
    ('line', b'BIG-LINE<', 10 * MB),
    ('stderr', b'BIG-ERR<', 10 * MB),
    ('logwarning', b'BIG-WARN<', 10 * MB),
    ('logging', b'BIG-LOGGING<', 10 * MB),
])
def test_10mb_line(srv, kind, marker, size):
    mark = marks(srv)
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        big = ex.submit(srv.get_json, '/output/big/' + kind)
        # the server keeps answering meanwhile
        for _ in range(5):
            assert srv.get('/system', timeout=30)[0] == 200
        seconds = big.result(timeout=60)['seconds']
    assert seconds < 20, seconds
    where, prefix = DESTINATIONS[kind]
    data = read_bytes(getattr(srv, where), mark[where])
    m = re.search(prefix + re.escape(marker) + rb'([a-z]*)>END$', data, re.MULTILINE)
    assert m, data[:300]
    assert len(m.group(1)) == size
    # and nowhere else
    for other in ('stdout_path', 'stderr_path', 'log_path'):
        if other != where:
            assert marker not in read_bytes(getattr(srv, other), mark[other]), other
    assert srv.get('/system')[0] == 200


def test_10mb_of_lines(srv):
    mark = srv.out_mark()
    result = srv.get_json('/output/big/lines')
    assert result['seconds'] < 30
    data = read_bytes(srv.stdout_path, mark)
    lines = re.findall(rb'^BIG-LINES (\d{8}) y{81}$', data, re.MULTILINE)
    n = 10 * MB // 100
    assert len(lines) == n
    assert len(data) == n * 101                 # nothing else, nothing lost
    assert lines == [b'%08d' % i for i in range(n)]
    assert srv.get('/system')[0] == 200


def test_surrogates_nul_and_controls(srv):
    mark = marks(srv)
    result = srv.get_json('/output/strange')
    # what orthanc.Log* refuse, with which exception
    assert result.pop('logwarning_surrogates') == [
        'UnicodeEncodeError', "'utf-8' codec can't encode character '\\udcff' in position 17: "
        "surrogates not allowed"]
    for name in ('logwarning_nul', 'logerror_nul', 'loginfo_nul'):
        assert result.pop(name) == ['ValueError', 'message must not contain a NUL character'], name
    assert result.pop('logwarning_bytes') == ['TypeError', 'message must be str, not bytes']
    assert result.pop('stdout_write_bytes') == ['TypeError', 'write() argument must be str, not bytes']
    # everything else is written
    assert all(v == ['returned', ''] for v in result.values()), result

    srv.wait_log('NUL-LOGGING', since=mark['log_path'])
    raw = {name: read_bytes(getattr(srv, name), mark[name]) for name in mark}
    for name, data in raw.items():
        data.decode('utf-8')                # every output stays valid UTF-8
        assert b'\x00' not in data, name
    out = raw['stdout_path'].decode('utf-8').split('\n')
    assert out == [                         # the cases run in sorted order
        r"b'BYTES-PRINT \xff\x00'",
        'CTRL-PRINT a\x1b[31mb\x07c\rd end',
        r'NUL-PRINT a\x00b end',
        r'SURR-PRINT a\udcff\udcfeb end',
        'UNICODE-PRINT caf\u00e9 \u4e2d \U0001f600 end',
        '',
    ], out
    assert raw['stderr_path'].decode('utf-8').split('\n') == [
        r'NUL-STDERR a\x00b\x00 end',
        r'SURR-STDERR a\udcffb end',
        '',
    ]
    text = srv.log_text(mark['log_path'])
    for level, message in (('W', r'SURR-LOGGING a\\udcffb \\udcfe end'),
                           ('E', r'NUL-LOGGING a\\x00b \\x00 end')):
        assert srv.count_log(harness.line(message, level), since=mark['log_path']) == 1, message
    # refused messages wrote nothing, and no "Logging error" of the logging module
    everything = ''.join(data.decode('utf-8') for data in raw.values())
    for refused in ('SURR-LOGWARNING', 'NUL-LOGWARNING', 'NUL-LOGERROR', 'NUL-LOGINFO',
                    'BYTES-LOGWARNING', 'Logging error'):
        assert refused not in everything, refused
    assert 'PRINT' not in text and 'STDERR' not in text
    assert srv.get('/system')[0] == 200


def test_server_still_healthy(srv):
    t0 = time.monotonic()
    for _ in range(20):
        assert srv.get('/system')[0] == 200
    assert time.monotonic() - t0 < 10
    assert srv.count_log(r'OPY0010|Segmentation|Aborted') == 0


def test_10mb_print_to_a_slow_reader(orthanc_factory):
    # Orthanc's stdout is a pipe read slowly (64 KB every 20 ms, about 3 MB/s):
    # the 10 MB print from a REST callback arrives whole and in order, and
    # while its write(2) waits for the reader another Python route answers
    # (the GIL is not held for the writing).
    srv = orthanc_factory(SCRIPT, stdout_pipe=True, verbose=False)
    chunks = []
    stop = threading.Event()

    def slow_reader():
        while not stop.is_set():
            chunk = srv.proc.stdout.read1(64 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            time.sleep(0.02)

    reader = threading.Thread(target=slow_reader, daemon=True)
    reader.start()
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        big = ex.submit(srv.get_json, '/output/big/line')
        time.sleep(0.5)
        assert not big.done(), 'the print did not wait for the slow reader'
        pings = []
        while not big.done():
            t0 = time.monotonic()
            assert srv.get('/output/ping', timeout=10)[:3:2] == (200, b'pong')
            pings.append(time.monotonic() - t0)
            time.sleep(0.1)
        seconds = big.result(timeout=120)['seconds']
    assert len(pings) >= 3, pings               # the print lasted while the pings answered
    assert max(pings) < 1.0, pings
    assert seconds < 60, seconds
    assert srv.stop() == 0
    reader.join(30)
    srv.proc.stdout.close()
    data = b''.join(chunks)
    m = re.search(rb'(?m)^BIG-LINE<(x*)>END$', data)
    assert m and len(m.group(1)) == 10 * MB, len(data)
    assert data.count(b'BIG-LINE<') == 1
