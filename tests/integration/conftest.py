# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the integration tests.

orthanc_factory (module scope) makes servers in fresh directories and stops
them when the module is done; a server that does not exit cleanly (code 0,
within the timeout) makes the teardown fail.  Modules share one server per
plugin script through their own module-scoped fixtures built on it.

On any failure, the tail of the log of every Orthanc the test used is added
to the report.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import exercised  # noqa: E402


# ------------------------------------------------------------ call counts
#
# Every server writes its call counts into one session-wide directory
# ($OPY_COUNTS_DIR): made here by the controller (or the only process without
# xdist), handed to the xdist workers in their workerinput (and through the
# environment they inherit).

def _is_worker(config):
    return hasattr(config, 'workerinput')


def pytest_configure(config):
    if _is_worker(config):
        directory = config.workerinput.get('opy_counts_dir')
        if directory:
            os.environ[exercised.COUNTS_ENV] = directory
        return
    if not os.environ.get(exercised.COUNTS_ENV):
        os.environ[exercised.COUNTS_ENV] = tempfile.mkdtemp(prefix='opy-call-counts-')
        config._opy_counts_created = True
    config._opy_counts_dir = os.environ[exercised.COUNTS_ENV]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    node.workerinput['opy_counts_dir'] = node.config._opy_counts_dir


def pytest_sessionfinish(session, exitstatus):
    """On the controller, after a whole-suite run (OPY_CHECK_EXERCISED=1, set
    by scripts/test.sh): fail the session if a public callable of the orthanc
    module (build/gen/names.txt) was never called by any server of the
    suite, apart from exercised.UNREACHABLE."""
    config = session.config
    if _is_worker(config):
        return
    directory = getattr(config, '_opy_counts_dir', None)
    try:
        if os.environ.get('OPY_CHECK_EXERCISED') != '1' or directory is None:
            return
        reporter = config.pluginmanager.get_plugin('terminalreporter')

        def say(text):
            if reporter is not None:
                reporter.write_line(text)
            else:
                sys.stderr.write(text + '\n')

        counts, files = exercised.aggregate(directory)
        callables = exercised.public_callables()
        missing = exercised.never_called(callables, counts)
        say('exercised check: %d callables, %d count files, %d never called, %d unreachable (exempt)'
            % (len(callables), len(files), len(missing),
               sum(1 for n in callables if exercised.unreachable_reason(n))))
        if not files or missing:
            say('exercised check FAILED: public callables never called by the suite '
                '(add a test, or list them with a reason in exercised.UNREACHABLE):')
            for name in missing:
                say('  ' + name)
            if not files:
                say('  (no call-count file at all in %s)' % directory)
            session.exitstatus = 1
    finally:
        if getattr(config, '_opy_counts_created', False) and directory:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope='session')
def plugin_library():
    path = harness.plugin_path()
    if not path.is_file():
        pytest.fail('plugin library %s not found: build it first '
                    '(cmake -S . -B build && cmake --build build) or set OPY_PLUGIN' % path,
                    pytrace=False)
    return path


class _Factory:
    def __init__(self, tmp_path_factory, plugin, basename):
        self.tmp_path_factory = tmp_path_factory
        self.plugin = plugin
        self.basename = basename
        self.servers = []

    def __call__(self, script=None, start=True, name=None, **kw):
        """Make an Orthanc (see harness.Orthanc); started unless start=False."""
        workdir = self.tmp_path_factory.mktemp(name or self.basename)
        kw.setdefault('plugin', self.plugin)
        srv = harness.Orthanc(workdir, script=script, **kw)
        self.servers.append(srv)
        if start:
            srv.start()
        return srv

    def script(self, name):
        """Path of tests/integration/scripts/<name>."""
        return harness.SCRIPTS / name


@pytest.fixture(scope='module')
def orthanc_factory(tmp_path_factory, plugin_library, request):
    factory = _Factory(tmp_path_factory, plugin_library,
                       request.module.__name__.rsplit('.', 1)[-1])
    yield factory
    problems = []
    for srv in factory.servers:
        if srv.proc is None or not srv.running:
            continue
        try:
            rc = srv.stop()
        except AssertionError as e:
            problems.append(str(e))
            continue
        if rc != 0:
            problems.append('Orthanc exited with code %s at the end of the module\n%s'
                            % (rc, srv.describe()))
    if problems:
        pytest.fail('\n\n'.join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def _registry_mark(request):
    request.node._opy_registry_start = len(harness.REGISTRY)
    yield


def _servers_of(item):
    seen = []
    for value in getattr(item, 'funcargs', {}).values():
        candidates = [value]
        if isinstance(value, (tuple, list)):
            candidates = list(value)
        elif isinstance(value, dict):
            candidates = list(value.values())
        for c in candidates:
            srv = c if isinstance(c, harness.Orthanc) else getattr(c, 'orthanc', None)
            if isinstance(srv, harness.Orthanc) and srv not in seen:
                seen.append(srv)
    start = getattr(item, '_opy_registry_start', len(harness.REGISTRY))
    for srv in harness.REGISTRY[start:]:
        if srv not in seen:
            seen.append(srv)
    return seen


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.excinfo is None:
        return
    if isinstance(call.excinfo.value, harness.OrthancFailure):
        return  # its message already carries the log tail
    for srv in _servers_of(item):
        if srv.proc is None:
            continue
        text = srv.describe()
        longrepr = report.longrepr
        if hasattr(longrepr, 'addsection'):
            longrepr.addsection('Orthanc log (%s)' % srv.workdir.name, text)
        else:
            report.sections.append(('Orthanc log (%s)' % srv.workdir.name, text))
