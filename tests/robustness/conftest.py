# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the robustness tests: those of tests/integration/conftest.py
(orthanc_factory, plugin_library, the log tail on failures), reused.

The integration conftest is loaded here a second time under its own module
name; its fixtures and its per-test report hook apply to this folder.  Its
session hooks (the call-count directory and the "exercised" check) must run
once per session: when pytest already loaded tests/integration/conftest.py
itself (both folders on the command line), that copy does the work and the
hooks below do nothing; when only tests/robustness runs, they delegate.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).resolve().parents[1] / 'integration'
sys.path.insert(0, str(INTEGRATION))

_spec = importlib.util.spec_from_file_location('opy_integration_conftest',
                                               INTEGRATION / 'conftest.py')
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)

# Fixtures (directory-scoped: they serve the tests of this folder).
orthanc_factory = _integration.orthanc_factory
plugin_library = _integration.plugin_library
_registry_mark = _integration._registry_mark
# Per-test hook: pytest calls it only for the items of this folder.
pytest_runtest_makereport = _integration.pytest_runtest_makereport


def _integration_loaded(config):
    """True when pytest itself loaded tests/integration/conftest.py."""
    target = str(INTEGRATION / 'conftest.py')
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, '__file__', None) == target and plugin is not _integration:
            return True
    return False


def pytest_configure(config):
    if not _integration_loaded(config):
        _integration.pytest_configure(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    if not _integration_loaded(node.config):
        _integration.pytest_configure_node(node)


def pytest_sessionfinish(session, exitstatus):
    if not _integration_loaded(session.config):
        _integration.pytest_sessionfinish(session, exitstatus)

