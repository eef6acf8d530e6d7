# SPDX-License-Identifier: GPL-3.0-or-later
"""Development mode (README "Development mode"): "Python.DevelopmentMode":
true

- logs a warning at start (OPY0046); off by default;
- the HTTP error of a failing REST callback carries the whole Python
  traceback in the Details of Orthanc's error JSON;
- a change of a script (or of a module it imported from its folder) on
  disk restarts the plugins as POST /tools/reset does (OPY0047 names the
  file): the next request answers the new text within 3 s;
- a script that no longer imports leaves the server up, answering every
  request with HTTP 500 and the import traceback (OPY0048), until it is
  fixed.
"""

import json
import os
import time
import urllib.error
import urllib.request

import pytest

SCRIPT = '''
import orthanc
import devhelper

def answer(output, uri, **request):
    output.AnswerBuffer("%s %s" % ("@TEXT@", devhelper.VALUE), "text/plain")

def fails(output, uri, **request):
    inner()

def inner():
    raise ValueError("broken on purpose")

orthanc.RegisterRestCallback("/dev/answer", answer)
orthanc.RegisterRestCallback("/dev/fails", fails)
'''

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(srv, path):
    """(status, body) or None while the server restarts."""
    try:
        with OPENER.open(srv.base_url + path, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None


def wait_for(srv, path, predicate, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fetch(srv, path)
        if last is not None and predicate(*last):
            return last
        time.sleep(0.05)
    srv.fail('%s: no expected answer within %s s (last %r)' % (path, timeout, last))


def write(path, text):
    path.write_text(text)
    # a different modification time even on a coarse file system
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000000))


@pytest.fixture(scope='module')
def dev(orthanc_factory):
    srv = orthanc_factory(SCRIPT.replace('@TEXT@', 'first'), start=False,
                          config={'Python': {'Path': 'plugin.py', 'DevelopmentMode': True}},
                          script_key=False)
    srv.write_file('devhelper.py', 'VALUE = 1\n')
    srv.start()
    return srv


def test_warning_at_start(dev):
    dev.wait_log(r'OPY0046 development mode is on')


def test_traceback_in_details(dev):
    status, _, body = dev.get('/dev/fails')
    assert status == 500
    details = json.loads(body)['Details']
    assert details.startswith('Traceback (most recent call last):')
    assert 'in inner' in details and 'plugin.py", line 12' in details
    assert details.rstrip().endswith('ValueError: broken on purpose')


def test_reload_on_change_then_broken_then_fixed(dev):
    assert dev.get('/dev/answer')[2] == b'first 1'
    script = dev.workdir / 'plugin.py'

    # edit the route's answer: the next request answers it within 3 s
    mark = dev.log_mark()
    t0 = time.monotonic()
    write(script, SCRIPT.replace('@TEXT@', 'second'))
    wait_for(dev, '/dev/answer', lambda st, b: st == 200 and b == b'second 1', 3)
    assert time.monotonic() - t0 < 3
    dev.wait_log(r'OPY0047 development mode: %s was modified' % script, since=mark)

    # a module imported from the script's folder is watched too
    mark = dev.log_mark()
    write(dev.workdir / 'devhelper.py', 'VALUE = 2\n')
    wait_for(dev, '/dev/answer', lambda st, b: st == 200 and b == b'second 2', 3)
    dev.wait_log(r'OPY0047 development mode: .*devhelper\.py was modified', since=mark)

    # broken: the server stays up and answers with the import traceback
    mark = dev.log_mark()
    write(script, SCRIPT.replace('@TEXT@', 'third') + '\ndef not_python(:\n')
    # (while the plugin restarts, the old routes answer 500 without details)
    status, body = wait_for(dev, '/dev/answer', lambda st, b: st == 500 and b'SyntaxError' in b, 3)
    details = json.loads(body)['Details']
    assert 'SyntaxError: invalid syntax' in details and 'def not_python(:' in details
    assert 'plugin.py", line %d' % (SCRIPT.count('\n') + 2) in details
    assert fetch(dev, '/system')[0] == 500         # every route, until fixed
    dev.wait_log(r'OPY0048 development mode: the scripts do not import', since=mark)
    assert dev.running

    # fixed again
    write(script, SCRIPT.replace('@TEXT@', 'fourth'))
    wait_for(dev, '/dev/answer', lambda st, b: st == 200 and b == b'fourth 2', 3)
    assert fetch(dev, '/system')[0] == 200
    assert dev.stop() == 0


def test_off_by_default(orthanc_factory):
    srv = orthanc_factory(SCRIPT.replace('@TEXT@', 'x'), start=False)
    srv.write_file('devhelper.py', 'VALUE = 1\n')
    srv.start()
    details = json.loads(srv.get('/dev/fails')[2])['Details']
    assert details == 'ValueError: broken on purpose'
    assert srv.count_log('OPY0046') == 0
    assert srv.stop() == 0
