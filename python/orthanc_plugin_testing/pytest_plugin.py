# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest plugin of the testing kit (loaded by pytest through the package's
pytest11 entry point, or with ``-p orthanc_plugin_testing.pytest_plugin``).

Fixtures:
  orthanc_server  a factory: orthanc_server('plugin.py', config={...}) starts
                  a real Orthanc with the Python plugin and the script(s) and
                  returns an OrthancServer; every server is stopped at the
                  end of the test, and a server that does not stop fails it
  fake_orthanc    a fresh fake `orthanc` module in sys.modules (the
                  controller of orthanc_plugin_testing.fake), removed after
                  the test

Options: --orthanc PATH (the Orthanc executable, default /usr/sbin/Orthanc),
--orthanc-plugin PATH (the plugin library, default the installed one or
$ORTHANC_PYTHON_PLUGIN).
"""

import pytest

from .server import DEFAULT_ORTHANC, OrthancServer


def pytest_addoption(parser):
    group = parser.getgroup('orthanc', 'Orthanc Python plugin testing kit')
    group.addoption('--orthanc', default=DEFAULT_ORTHANC, metavar='PATH',
                    help='the Orthanc executable the orthanc_server fixture starts (default %(default)s)')
    group.addoption('--orthanc-plugin', default=None, metavar='PATH',
                    help='the Python plugin library (default $ORTHANC_PYTHON_PLUGIN, else the installed one)')


@pytest.fixture
def orthanc_server(request, tmp_path):
    """Factory of started OrthancServer objects: orthanc_server(*scripts,
    config=None, name='orthanc')."""
    servers = []

    def start(*scripts, config=None, name=None):
        server = OrthancServer(scripts, tmp_path, config=config,
                               orthanc=request.config.getoption('--orthanc'),
                               plugin=request.config.getoption('--orthanc-plugin'),
                               name=name or 'orthanc-%d' % (len(servers) + 1))
        servers.append(server)
        return server.start()

    yield start
    failures = []
    for server in servers:
        try:
            server.stop()
        except AssertionError as e:
            failures.append(str(e))
    if failures:
        pytest.fail('\n\n'.join(failures), pytrace=False)


@pytest.fixture
def fake_orthanc():
    """The controller of a fresh fake orthanc module (see
    orthanc_plugin_testing.fake); sys.modules is restored after the test."""
    from . import fake
    controller = fake.install()
    yield controller
    fake.uninstall()
