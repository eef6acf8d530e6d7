# SPDX-License-Identifier: GPL-3.0-or-later
"""Start and drive a real Orthanc 1.10.1 with our Python plugin, on loopback.

Every server gets its own directory (configuration, storage, index, log,
standard output, plugin script) and free TCP ports on 127.0.0.1, so that independent servers
can run side by side (pytest-xdist).  Nothing here is mocked: the process is
/usr/sbin/Orthanc and the plugin is the library we built.

Failures raised by this module always carry the tail of the Orthanc log.
"""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ORTHANC = os.environ.get('OPY_ORTHANC', '/usr/sbin/Orthanc')
REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / 'scripts'
OFFICIAL_PLUGIN = '/usr/share/orthanc/plugins/libOrthancPython.so'

# Every server created in this process, in creation order; conftest uses it
# to attach the log tail of the servers a failing test touched.
REGISTRY = []

LOG_TAIL_LINES = 80


def plugin_path():
    """The plugin under test: $OPY_PLUGIN or <repo>/build/libOrthancPython.so."""
    return Path(os.environ.get('OPY_PLUGIN', REPO / 'build' / 'libOrthancPython.so'))


def sdk_header():
    """The SDK header the plugin under test was built with (its CMakeCache),
    else the installed one."""
    cache = plugin_path().parent / 'CMakeCache.txt'
    if cache.is_file():
        m = re.search(r'^ORTHANC_SDK_HEADER:FILEPATH=(.*)$', cache.read_text(), re.M)
        if m and Path(m.group(1)).is_file():
            return Path(m.group(1))
    return Path('/usr/include/orthanc/OrthancCPlugin.h')


def version_tuple(text):
    """'1.12.7' -> (1, 12, 7); 'mainline' -> above every release."""
    try:
        return tuple(int(x) for x in text.split('.'))
    except ValueError:
        return (999, 999, 999)


_ORTHANC_VERSION = []


def orthanc_version():
    """The version of the Orthanc under test, as a tuple (Orthanc --version)."""
    if not _ORTHANC_VERSION:
        out = subprocess.run([ORTHANC, '--version'], capture_output=True, text=True, timeout=30).stdout
        _ORTHANC_VERSION.append(version_tuple(out.split()[1]))
    return _ORTHANC_VERSION[0]


def sdk_header_version():
    """The version of the SDK header the plugin was built with, as a tuple."""
    text = sdk_header().read_text(errors='replace')
    parts = [re.search(r'#define\s+ORTHANC_PLUGINS_MINIMAL_%s_NUMBER\s+(\d+)' % p, text).group(1)
             for p in ('MAJOR', 'MINOR', 'REVISION')]
    return tuple(int(p) for p in parts)


def orthanc_version_text():
    """'1.10.1': the version of the Orthanc under test, as /system says it."""
    return '.'.join(map(str, orthanc_version()))


def python_version_text():
    """'3.11': the Python the plugin embeds (the distribution's python3)."""
    import sys
    return '%d.%d' % sys.version_info[:2]


def sdk_versions():
    """{Python name: SDK version tuple} of every name of the module newer
    than Orthanc 1.10.0 (generated and hand-written wrappers, callback
    registrations), from build/gen/sdk_names.json (what the generator says)."""
    if _SDK_VERSIONS:
        return _SDK_VERSIONS[0]
    names = json.loads((plugin_path().parent / 'gen' / 'sdk_names.json').read_text())
    _SDK_VERSIONS.append({n: version_tuple(v) for n, v in names.items()})
    return _SDK_VERSIONS[0]


_SDK_VERSIONS = []


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def script_text(name):
    """The text of tests/integration/scripts/<name>."""
    return (SCRIPTS / name).read_text()


def substitute(text, values):
    """Replace each @KEY@ of text by str(values[KEY]).

    Plugin scripts are kept verbatim from the documentation, except the ports
    and paths a test must choose; those are written as @KEY@ placeholders
    (str.format would trip over the braces of dicts and JSON in the scripts).
    """
    for key, value in values.items():
        text = text.replace('@%s@' % key, str(value))
    left = re.findall(r'@[A-Z][A-Z0-9_]*@', text)
    if left:
        raise ValueError('unsubstituted placeholders in plugin script: %s' % sorted(set(left)))
    return text


class _NoRaise(urllib.request.HTTPErrorProcessor):
    """Hand back 4xx/5xx answers like any other instead of raising."""

    def http_response(self, request, response):
        return response

    https_response = http_response


# No proxy, ever: every request of the tests goes to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRaise())


class OrthancFailure(AssertionError):
    pass


class Orthanc:
    """One Orthanc process with the plugin, a script and a configuration.

    workdir      fresh directory owned by this server
    plugin       path of the plugin library (default: plugin_path())
    script       plugin script: text (str) or a Path to read; written into
                 workdir as script_name and configured as "PythonScript",
                 unless config overrides the keys.  None: no script at all.
    script_name  file name of the script in workdir (default: the Path's
                 name, or 'plugin.py')
    config       dict merged over the base configuration (wins)
    subst        extra @KEY@ values for the script; HTTP_PORT, DICOM_PORT and
                 WORKDIR are always available
    plugins      the "Plugins" list (default: [plugin])
    script_key   False: write the script but configure no "PythonScript"
                 (the test configures the "Python" section itself)
    count_calls  False: the plugin's call counts (OPY_CALL_COUNTS) of this
                 server do not count for the "exercised" check (modules that
                 call every callable on purpose, see exercised.py)
    verbose      False: Orthanc at its default verbosity (no --verbose: no
                 info lines in the log)
    logfile      True: Orthanc logs to a file (--logfile=orthanc.log) and its
                 standard error goes to stderr.txt of its own.  By default the
                 log is Orthanc's standard error (orthanc.log holds both).
    stdout_pipe  True: Orthanc's standard output is a pipe that the test
                 reads itself (self.proc.stdout); nothing goes to stdout.txt
    env          extra environment variables of Orthanc's process (set after
                 the runner's PYTHONHOME, PYTHONPATH and VIRTUAL_ENV are
                 removed)

    Orthanc's standard output always goes to stdout.txt (out_text,
    wait_out, ...: print() of the script); err_text, wait_err, ... read its
    standard error (the log's file too unless logfile=True).
    """

    def __init__(self, workdir, plugin=None, script=None, script_name=None,
                 config=None, subst=None, plugins=None, script_key=True,
                 count_calls=True, verbose=True, logfile=False, stdout_pipe=False, env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.plugin = str(plugin or plugin_path())
        self._script = script
        if script_name is None:
            script_name = script.name if isinstance(script, Path) else 'plugin.py'
        self.script_name = script_name
        self.script_path = self.workdir / script_name
        self.overrides = dict(config or {})
        self.extra_subst = dict(subst or {})
        self.plugins = list(plugins) if plugins is not None else [self.plugin]
        self.script_key = script_key
        self.count_calls = count_calls
        self.verbose = verbose
        self.logfile = logfile
        self.stdout_pipe = stdout_pipe
        self.extra_env = dict(env or {})
        self.log_path = self.workdir / 'orthanc.log'
        self.stdout_path = self.workdir / 'stdout.txt'
        self.stderr_path = self.workdir / ('stderr.txt' if logfile else 'orthanc.log')
        self._files = []
        self.config_path = self.workdir / 'orthanc.json'
        self.proc = None
        self.returncode = None
        self.leftovers = []
        self.http_port = None
        self.dicom_port = None
        self._choose_ports()
        REGISTRY.append(self)

    # ------------------------------------------------------------ set-up

    def _choose_ports(self):
        self.http_port = free_port()
        self.dicom_port = free_port()
        while self.dicom_port == self.http_port:
            self.dicom_port = free_port()

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.http_port

    def substitutions(self):
        values = {'HTTP_PORT': self.http_port, 'DICOM_PORT': self.dicom_port,
                  'WORKDIR': str(self.workdir)}
        values.update(self.extra_subst)
        return values

    def write_file(self, name, data):
        """Write a file into the server's directory; returns its path."""
        path = self.workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data)
        else:
            path.write_bytes(data)
        return path

    def config(self):
        storage = self.workdir / 'storage'
        cfg = {
            'Name': 'opy-test',
            'StorageDirectory': str(storage),
            'IndexDirectory': str(storage),
            'HttpPort': self.http_port,
            'DicomPort': self.dicom_port,
            'DicomAet': 'OPYTEST',
            'RemoteAccessAllowed': True,
            'AuthenticationEnabled': False,
            'Plugins': self.plugins,
        }
        if self._script is not None and self.script_key:
            cfg['PythonScript'] = str(self.script_path)
        # $OPY_EXTRA_CONFIG: JSON object merged over the base configuration of
        # every server, before the test's own keys (scripts/sanitize.sh; the
        # matrix's run with "Python": {"Interpreters": 2}); a "Python" object
        # of both is merged key by key, the test's keys winning
        extra = json.loads(os.environ.get('OPY_EXTRA_CONFIG') or '{}')
        cfg.update(extra)
        for key, value in self.overrides.items():
            if (key == 'Python' and isinstance(value, dict) and isinstance(extra.get('Python'), dict)):
                value = dict(extra['Python'], **value)
            cfg[key] = value
        return cfg

    def _prepare(self):
        if self._script is not None:
            text = self._script.read_text() if isinstance(self._script, Path) else self._script
            self.script_path.write_text(substitute(text, self.substitutions()))
        self.config_path.write_text(json.dumps(self.config(), indent=2))

    def _launch(self):
        self._prepare()
        env = dict(os.environ)
        # Python settings of the test runner must not leak into the embedded
        # interpreter.
        # (VIRTUAL_ENV: the plugin runs in that venv when the configuration
        # names none)
        for key in ('PYTHONHOME', 'PYTHONPATH', 'VIRTUAL_ENV'):
            env.pop(key, None)
        env.update(self.extra_env)
        env.pop('OPY_CALL_COUNTS', None)
        counts = self.counts_path()
        if counts is not None:
            env['OPY_CALL_COUNTS'] = str(counts)
        out = subprocess.PIPE if self.stdout_pipe else open(self.stdout_path, 'ab')
        err = open(self.stderr_path, 'ab')
        self._files = [err] if self.stdout_pipe else [out, err]
        args = [ORTHANC]
        if self.verbose:
            args.append('--verbose')
        if self.logfile:
            args.append('--logfile=%s' % self.log_path)
        args.append(str(self.config_path))
        self.proc = subprocess.Popen(
            args, cwd=str(self.workdir), stdin=subprocess.DEVNULL,
            stdout=out, stderr=err, env=env, start_new_session=True)
        self.returncode = None

    def counts_path(self):
        """The file the plugin appends its call counts to at stop (one per
        server, in the session-wide $OPY_COUNTS_DIR), or None."""
        directory = os.environ.get('OPY_COUNTS_DIR')
        if not directory:
            return None
        suffix = '.counts' if self.count_calls else '.counts-ignored'
        name = '%s-%d-%s%s' % (self.workdir.parent.name, os.getpid(), self.workdir.name, suffix)
        return Path(directory) / name

    # ------------------------------------------------------------ life cycle

    def start(self, timeout=60):
        """Start Orthanc and wait until GET /system answers.

        If the process exits first, that is a refusal: fail with its log.
        A clash on a port (another server took it meanwhile) is retried.
        """
        for attempt in range(3):
            self._launch()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                rc = self.proc.poll()
                if rc is not None:
                    self._closed(rc)
                    if attempt < 2 and re.search(r'already in use', self.log_text()):
                        self._choose_ports()
                        break
                    self.fail('Orthanc exited with code %d during start-up' % rc)
                if self._ping():
                    return self
                time.sleep(0.05)
            else:
                self._kill()
                self.fail('Orthanc did not answer GET /system within %d s' % timeout)
        self.fail('could not start Orthanc (ports kept clashing)')

    def start_expect_failure(self, timeout=30):
        """Start Orthanc, expecting it to refuse: it must exit non-zero within
        timeout without ever serving.  Returns the log text."""
        self._launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self._closed(rc)
                if rc == 0:
                    self.fail('Orthanc exited with code 0; a refusal must exit non-zero')
                return self.log_text()
            if self._ping():
                self.stop()
                self.fail('Orthanc started and served although a refusal was expected')
            time.sleep(0.05)
        self._kill()
        self.fail('Orthanc neither exited nor served within %d s (refusal expected)' % timeout)

    @property
    def running(self):
        return self.proc is not None and self.returncode is None and self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM; Orthanc must exit within timeout.  Returns the exit code.
        On a hang: SIGKILL and fail.  Idempotent."""
        if self.proc is None:
            return None
        if self.returncode is not None:
            return self.returncode
        rc = self.proc.poll()
        if rc is None:
            self._wait_started()
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
                self.fail('Orthanc did not exit within %d s of SIGTERM (killed)' % timeout)
        self._closed(rc)
        return rc

    def _wait_started(self, timeout=5):
        """GET /system answers a moment before Orthanc installs its SIGTERM
        handler (right after its "Orthanc has started" line): a SIGTERM sent
        in between kills it (exit -15). Wait until the process catches
        SIGTERM (SigCgt of /proc/PID/status), or, where that cannot be read,
        for that line and a little more (not failing: a server may log
        elsewhere)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            caught = _catches_sigterm(self.proc.pid)
            if caught is None:
                break
            if caught:
                return
            time.sleep(0.02)
        started = r'\] Orthanc has started'
        if re.search(started, self.log_text()):
            return
        while time.monotonic() < deadline and self.proc.poll() is None:
            if re.search(started, self.log_text()):
                time.sleep(0.1)
                return
            time.sleep(0.02)

    def _kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc = self.proc.wait(10)
        self._closed(rc)

    def _group_members(self):
        """PIDs of the processes still in the server's process group."""
        members = []
        for entry in Path('/proc').iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / 'stat').read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(')') + 2:].split()
            if len(fields) > 2 and int(fields[2]) == self.proc.pid and fields[0] != 'Z':
                members.append(int(entry.name))
        return members

    def _closed(self, rc):
        self.returncode = rc
        # Whatever the server left in its own process group (for instance the
        # children of a multiprocessing pool of the plugin script) is noted
        # in self.leftovers, then killed.
        self.leftovers = self._group_members()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for f in self._files:
            if not f.closed:
                f.close()

    def _ping(self):
        try:
            with _OPENER.open(self.base_url + '/system', timeout=2) as r:
                # 401/403: up, behind an authentication callback of the script
                return r.status in (200, 401, 403)
        except (OSError, urllib.error.URLError):
            return False

    # ------------------------------------------------------------ log

    @staticmethod
    def _read(path, since=0):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return ''
        return data[since:].decode('utf-8', 'replace')

    @staticmethod
    def _size(path):
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    def _wait(self, what, read, regex, timeout, count, since):
        deadline = time.monotonic() + timeout
        while True:
            matches = list(re.finditer(regex, read(since), re.MULTILINE))
            if len(matches) >= count:
                return matches[count - 1]
            if time.monotonic() >= deadline:
                self.fail('%s never matched %r (%d times) within %s s; %d found'
                          % (what, regex, count, timeout, len(matches)))
            time.sleep(0.05)

    def log_text(self, since=0):
        return self._read(self.log_path, since)

    def log_mark(self):
        """A position in the log; pass it as since= to look only after it."""
        return self._size(self.log_path)

    def log_tail(self, lines=LOG_TAIL_LINES):
        text = self.log_text().splitlines()
        return '\n'.join(text[-lines:])

    def count_log(self, regex, since=0):
        return len(re.findall(regex, self.log_text(since), re.MULTILINE))

    def wait_log(self, regex, timeout=10, count=1, since=0):
        """Wait until regex (re.MULTILINE) matches count times; returns the
        last match."""
        return self._wait('log', self.log_text, regex, timeout, count, since)

    # ------------------------------------------------------------ stdout, stderr

    def out_text(self, since=0):
        """Orthanc's standard output (print() of the script), from since."""
        return self._read(self.stdout_path, since)

    def out_mark(self):
        return self._size(self.stdout_path)

    def out_lines(self, since=0):
        return self.out_text(since).splitlines()

    def count_out(self, regex, since=0):
        return len(re.findall(regex, self.out_text(since), re.MULTILINE))

    def wait_out(self, regex, timeout=10, count=1, since=0):
        """wait_log for the standard output."""
        return self._wait('stdout', self.out_text, regex, timeout, count, since)

    def err_text(self, since=0):
        """Orthanc's standard error (the log too unless logfile=True)."""
        return self._read(self.stderr_path, since)

    def err_mark(self):
        return self._size(self.stderr_path)

    def wait_err(self, regex, timeout=10, count=1, since=0):
        return self._wait('stderr', self.err_text, regex, timeout, count, since)

    def fail(self, message):
        raise OrthancFailure('%s\n%s' % (message, self.describe()))

    def describe(self):
        state = ('running' if self.running else 'exit code %s' % self.returncode)
        text = ('--- Orthanc in %s (%s, http %s); last %d log lines ---\n%s\n--- end of log ---'
                % (self.workdir, state, self.http_port, LOG_TAIL_LINES, self.log_tail()))
        for name, path in (('stdout', self.stdout_path), ('stderr', self.stderr_path)):
            if path == self.log_path:
                continue
            tail = [l[:300] for l in self._read(path).splitlines()[-20:]]
            if tail:
                text += '\n--- last %d lines of %s ---\n%s' % (len(tail), name, '\n'.join(tail))
        return text

    # ------------------------------------------------------------ HTTP

    def request(self, method, path, body=None, headers=None, timeout=60):
        """Returns (status, headers with lower-case names, body bytes).
        4xx/5xx are returned, not raised; a failed connection fails the test."""
        if isinstance(body, str):
            body = body.encode('utf-8')
        if body is None and method in ('POST', 'PUT'):
            body = b''
        req = urllib.request.Request(self.base_url + path, data=body, method=method,
                                     headers=dict(headers or {}))
        try:
            with _OPENER.open(req, timeout=timeout) as r:
                data = r.read()
                return r.status, {k.lower(): v for k, v in r.headers.items()}, data
        except (OSError, urllib.error.URLError) as e:
            self.fail('%s %s failed: %r' % (method, path, e))

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=b'', **kw):
        return self.request('POST', path, body=body, **kw)

    def put(self, path, body=b'', **kw):
        return self.request('PUT', path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def get_json(self, path):
        status, _, body = self.get(path)
        if status != 200:
            self.fail('GET %s answered %d: %r' % (path, status, body[:500]))
        return json.loads(body)

    def upload(self, dicom):
        """POST /instances; returns Orthanc's JSON answer (ID, ParentStudy...)."""
        status, _, body = self.post('/instances', dicom,
                                    headers={'Content-Type': 'application/dicom'})
        if status != 200:
            self.fail('upload answered %d: %r' % (status, body[:500]))
        return json.loads(body)


# Orthanc 1.10.1 log lines: "I1125 21:11:16.993768 PluginsManager.cpp:161] msg";
# info lines of plugins carry a category: "] (plugins) msg"; Orthanc 1.13
# puts the job of a job worker's lines first: "] | job <id> | (plugins) msg".
_PREFIX = r'^%s\d{4} [0-9:.]+ +[^\]\n]*\] (?:\| job [^|\n]* \| )?(?:\([a-z]+\) )?'


def _catches_sigterm(pid):
    """Whether process pid has a SIGTERM handler (its SigCgt mask), None
    when /proc does not say."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('SigCgt:'):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except (OSError, ValueError):
        return None
    return None


def raw_exchange(port, request, timeout=60):
    """Send request bytes to 127.0.0.1:port on a new connection and read
    until the server closes it: (head, body) of what came back, as bytes."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b''.join(chunks).partition(b'\r\n\r\n')
    return head, body


def line(message, level='[IWE]'):
    """Regex (for wait_log/count_log) of a whole log line at level ('I',
    'W', 'E'; default any) whose message is the regex message."""
    return (_PREFIX % level) + message + r'\s*$'


def bare(message):
    """Regex (for wait_out/count_out) of a whole line of the standard output
    whose text is the regex message."""
    return r'^' + message + r'$'


def log_messages(text, level):
    """Messages of the Orthanc log lines at level 'I', 'W' or 'E'."""
    return re.findall((_PREFIX % level) + r'(.*)$', text, re.MULTILINE)
