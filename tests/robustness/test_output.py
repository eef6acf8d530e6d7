# SPDX-License-Identifier: GPL-3.0-or-later
"""Output robustness (docs/robustness.md, "Output"; scripts/output.py):
10 MB written at once through print(), sys.stderr, orthanc.LogWarning and
logging; lone surrogates (undecodable bytes), NUL and control characters.
Nothing blocks, the server keeps serving while it happens, every message
reaches the log as one readable line (surrogates written "\\udcff", NUL
"\\x00"), and orthanc.Log* refuse what they cannot write with a clear
exception."""

import concurrent.futures
import re
import time
from pathlib import Path

import pytest

import harness

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'output.py'
MB = 1024 * 1024


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(SCRIPT)


def log_bytes(srv, since):
    return srv.log_path.read_bytes()[since:]


@pytest.mark.parametrize('kind,marker,size,level', [
    ('line', b'BIG-LINE<', 10 * MB, b'I'),
    ('stderr', b'BIG-ERR<', 10 * MB, b'E'),
    ('logwarning', b'BIG-WARN<', 10 * MB, b'W'),
    ('logging', b'BIG-LOGGING<', 10 * MB, b'W'),
])
def test_10mb_line(srv, kind, marker, size, level):
    mark = srv.log_mark()
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        big = ex.submit(srv.get_json, '/output/big/' + kind)
        # the server keeps answering meanwhile
        for _ in range(5):
            assert srv.get('/system', timeout=30)[0] == 200
        seconds = big.result(timeout=60)['seconds']
    assert seconds < 20, seconds
    data = log_bytes(srv, mark)
    m = re.search(rb'^' + level + rb'\d{4} [^\n]*\] (?:\(plugins\) )?' + re.escape(marker)
                  + rb'([a-z]*)>END$', data, re.MULTILINE)
    assert m, data[:300]
    assert len(m.group(1)) == size
    assert srv.get('/system')[0] == 200


def test_10mb_of_lines(srv):
    mark = srv.log_mark()
    result = srv.get_json('/output/big/lines')
    assert result['seconds'] < 30
    lines = re.findall(rb'^I\d{4} [^\n]*\] \(plugins\) BIG-LINES (\d{8}) y{81}$',
                       log_bytes(srv, mark), re.MULTILINE)
    n = 10 * MB // 100
    assert len(lines) == n
    assert lines[0] == b'00000000' and lines[-1] == b'%08d' % (n - 1)
    assert srv.get('/system')[0] == 200


def test_surrogates_nul_and_controls(srv):
    mark = srv.log_mark()
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

    srv.wait_log('UNICODE-PRINT', since=mark)
    text = srv.log_text(mark)
    raw = log_bytes(srv, mark)
    raw.decode('utf-8')                     # the log stays valid UTF-8
    assert b'\x00' not in raw
    expected = [
        ('I', r'SURR-PRINT a\\udcff\\udcfeb end'),
        ('E', r'SURR-STDERR a\\udcffb end'),
        ('W', r'SURR-LOGGING a\\udcffb \\udcfe end'),
        ('I', r'NUL-PRINT a\\x00b end'),
        ('E', r'NUL-STDERR a\\x00b\\x00 end'),
        ('E', r'NUL-LOGGING a\\x00b \\x00 end'),
        ('I', r'CTRL-PRINT a\x1b\[31mb\x07c\rd end'),
        ('I', 'UNICODE-PRINT caf\u00e9 \u4e2d \U0001f600 end'),
        ('I', r"b'BYTES-PRINT \\xff\\x00'"),
    ]
    for level, message in expected:
        assert srv.count_log(harness.line(message, level), since=mark) == 1, message
    # refused messages wrote nothing, and no "Logging error" of the logging module
    for refused in ('SURR-LOGWARNING', 'NUL-LOGWARNING', 'NUL-LOGERROR', 'NUL-LOGINFO',
                    'BYTES-LOGWARNING', 'Logging error'):
        assert refused not in text, refused
    assert srv.get('/system')[0] == 200


def test_server_still_healthy(srv):
    t0 = time.monotonic()
    for _ in range(20):
        assert srv.get('/system')[0] == 200
    assert time.monotonic() - t0 < 10
    assert srv.count_log(r'OPY0010|Segmentation|Aborted') == 0
