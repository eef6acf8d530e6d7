# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Orthanc with the Python plugin and a plugin author's script(s), on
free loopback ports, for a test.

    server = OrthancServer(['my_plugin.py'], workdir=tmp_path)
    server.start()
    assert server.get('/hello').text == 'ok'
    server.stop()

Each server has its own directory (configuration, storage, log) and its own
process group; stop() ends it by its PID and fails clearly when it does not
end.  Every failure carries the tail of Orthanc's log.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_ORTHANC = '/usr/sbin/Orthanc'
# where the Debian package and cmake --install --prefix /usr put the plugin
INSTALLED_PLUGINS = ['/usr/share/orthanc/plugins/libOrthancPython.so',
                     '/usr/local/share/orthanc/plugins/libOrthancPython.so']
LOG_TAIL = 60


class ServerFailure(AssertionError):
    """The server did not start, answer, or stop as it should; the message
    ends with the tail of its log."""


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def find_plugin(plugin=None):
    """The plugin library: `plugin`, else $ORTHANC_PYTHON_PLUGIN, else the
    installed one."""
    tried = [str(c) for c in [plugin, os.environ.get('ORTHANC_PYTHON_PLUGIN')] + INSTALLED_PLUGINS if c]
    for candidate in tried:
        if Path(candidate).is_file():
            return Path(candidate)
    raise ServerFailure('the Orthanc Python plugin was not found (looked for %s); give its path with '
                        '--orthanc-plugin or ORTHANC_PYTHON_PLUGIN' % ', '.join(tried))


class Response:
    """An HTTP answer: status, headers (lower-case names), body (bytes)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return '<Response %d, %d bytes>' % (self.status, len(self.body))


class _KeepErrors(urllib.request.HTTPErrorProcessor):
    """Hands 4xx/5xx answers back as answers instead of raising."""

    def http_response(self, request, response):
        return response

    https_response = http_response


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _KeepErrors())


class OrthancServer:
    """One Orthanc process.  `scripts`: the plugin script paths (the first is
    PythonScript, the others Python.Scripts); `config`: keys merged into the
    generated configuration (a "Python" section is merged key by key)."""

    def __init__(self, scripts, workdir, config=None, orthanc=None, plugin=None, name='orthanc'):
        self.scripts = [Path(s).resolve() for s in scripts]
        self.dir = Path(workdir) / name
        self.extra_config = config or {}
        self.orthanc = str(orthanc or DEFAULT_ORTHANC)
        self.plugin = find_plugin(plugin)
        self.name = name
        self.http_port = self.dicom_port = None
        self.proc = None
        # standard output and error in one file, as a terminal shows them:
        # the script's print() lines and Orthanc's log lines
        self.log_path = self.dir / 'orthanc.log'

    # ------------------------------------------------------------ process

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.http_port

    def config(self):
        """The configuration the server runs with (a dict)."""
        storage = str(self.dir / 'db')
        cfg = {'Name': self.name, 'HttpPort': self.http_port, 'DicomPort': self.dicom_port,
               'DicomAet': 'ORTHANC', 'StorageDirectory': storage, 'IndexDirectory': storage,
               'RemoteAccessAllowed': False, 'AuthenticationEnabled': False,
               'Plugins': [str(self.plugin)], 'DicomModalities': {},
               'DicomAlwaysAllowFind': True, 'DicomAlwaysAllowStore': True}
        if self.scripts:
            cfg['PythonScript'] = str(self.scripts[0])
        if len(self.scripts) > 1:
            cfg['Python'] = {'Scripts': [str(s) for s in self.scripts[1:]]}
        for key, value in self.extra_config.items():
            if key == 'Python' and isinstance(value, dict):
                cfg.setdefault('Python', {}).update(value)
            else:
                cfg[key] = value
        return cfg

    def start(self, timeout=60):
        """Starts Orthanc and waits until its REST API answers."""
        if self.proc is not None:
            raise ServerFailure('%s is already started' % self.name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.http_port, self.dicom_port = free_port(), free_port()
        config_path = self.dir / 'config.json'
        config_path.write_text(json.dumps(self.config(), indent=1))
        # the test runner's Python settings must not reach the embedded one
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONHOME', 'PYTHONPATH', 'VIRTUAL_ENV')}
        try:
            with open(self.log_path, 'ab') as out:
                self.proc = subprocess.Popen([self.orthanc, str(config_path)],
                                             cwd=str(self.dir), stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        except OSError as e:
            raise ServerFailure('cannot run Orthanc %s (give its path with --orthanc): %s'
                                % (self.orthanc, e)) from None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                raise self._failure('Orthanc exited with status %d while starting' % rc)
            if self._answers():
                return self
            if time.monotonic() > deadline:
                self._kill()
                raise self._failure('Orthanc did not answer within %d s of its start' % timeout)
            time.sleep(0.1)

    def stop(self, timeout=30):
        """Stops Orthanc (SIGTERM to its PID) and waits for its end; a server
        that does not end in `timeout` seconds is killed and ServerFailure
        raised.  Returns Orthanc's exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise self._failure('Orthanc did not stop within %d s of SIGTERM (killed): a callback '
                                'or a thread of the script kept it running' % timeout) from None
        self._kill()        # what it started, if anything is left of its group
        self.proc = None
        return rc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _answers(self):
        try:
            with _OPENER.open(self.url + '/system', timeout=2) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def _kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def _failure(self, message):
        return ServerFailure('%s: %s\n--- last lines of %s ---\n%s' % (
            self.name, message, self.log_path, self.log_tail()))

    # ------------------------------------------------------------ HTTP

    def request(self, method, uri, body=None, headers=None, timeout=60):
        """One HTTP request; returns a Response (errors are answers too)."""
        if isinstance(body, str):
            body = body.encode()
        elif body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        req = urllib.request.Request(self.url + uri, data=body, method=method, headers=headers or {})
        try:
            with _OPENER.open(req, timeout=timeout) as r:
                return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except (OSError, urllib.error.URLError) as e:
            raise self._failure('%s %s failed: %s' % (method, uri, e)) from None

    def get(self, uri, **kw):
        return self.request('GET', uri, **kw)

    def post(self, uri, body=b'', **kw):
        return self.request('POST', uri, body=body, **kw)

    def put(self, uri, body=b'', **kw):
        return self.request('PUT', uri, body=body, **kw)

    def delete(self, uri, **kw):
        return self.request('DELETE', uri, **kw)

    def upload(self, dicom):
        """POST /instances of a DICOM file (bytes, a path, or a pydicom
        dataset); returns Orthanc's JSON answer (ID, ParentStudy, ...)."""
        if isinstance(dicom, (str, Path)):
            dicom = Path(dicom).read_bytes()
        elif not isinstance(dicom, (bytes, bytearray)):
            from .dicom import to_bytes
            dicom = to_bytes(dicom)
        r = self.post('/instances', bytes(dicom), headers={'Content-Type': 'application/dicom'})
        if r.status != 200:
            raise self._failure('POST /instances answered %d: %s' % (r.status, r.text))
        return r.json()

    # ------------------------------------------------------------ log and events

    def log_text(self, since=0):
        """The log (the script's print() lines and Orthanc's log lines),
        from the byte offset `since` (see log_mark())."""
        try:
            with open(self.log_path, 'rb') as f:
                f.seek(since)
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_mark(self):
        """The log's current size, for wait_log(since=...)."""
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_tail(self, lines=LOG_TAIL):
        return '\n'.join(self.log_text().splitlines()[-lines:])

    def wait_log(self, regex, timeout=10, since=0):
        """Waits for a log line matching `regex`; returns the match."""
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.log_text(since))
            if m:
                return m
            if time.monotonic() > deadline:
                raise self._failure('no log line matching %r within %g s' % (regex, timeout))
            time.sleep(0.05)

    def last_change(self):
        """The sequence number of the latest change (for wait_change(since=...))."""
        return self.get('/changes?last').json()['Last']

    def wait_change(self, change_type, timeout=10, since=0, resource=None):
        """Waits for a change of Orthanc's /changes (e.g. 'NewInstance',
        'StableStudy'), after sequence number `since`, optionally of one
        resource ID; returns the change (a dict)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.get('/changes?since=%d&limit=100' % since).json()
            for change in answer['Changes']:
                if change['ChangeType'] == change_type and resource in (None, change['ID']):
                    return change
            since = answer['Last']
            if not answer['Done']:
                continue
            if time.monotonic() > deadline:
                raise self._failure('no %s change within %g s' % (change_type, timeout))
            time.sleep(0.1)
