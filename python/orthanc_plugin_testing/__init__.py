# SPDX-License-Identifier: GPL-3.0-or-later
"""Test Orthanc Python plugin scripts.

Two ways, both installed with the plugin:

- against a real Orthanc: the pytest fixture ``orthanc_server`` (loaded by
  pytest through this package's entry point) starts /usr/sbin/Orthanc with
  the plugin and your script(s) on free loopback ports and hands the test an
  :class:`OrthancServer` (HTTP client, log, DICOM upload, C-STORE/C-FIND,
  waiting for a log line or a change);
- without Orthanc: :mod:`orthanc_plugin_testing.fake` builds a fake
  ``orthanc`` module from the installed typing stubs (fixture
  ``fake_orthanc``).

docs/testing-your-plugin.md (in /usr/share/doc/orthanc-python-c/ when
installed from the Debian package) has a complete example.
"""

import importlib

__all__ = ['OrthancServer', 'Response', 'ServerFailure', 'make_instance', 'make_dataset', 'c_store',
           'c_find']

_WHERE = {'OrthancServer': 'server', 'Response': 'server', 'ServerFailure': 'server',
          'make_instance': 'dicom', 'make_dataset': 'dicom', 'c_store': 'dimse', 'c_find': 'dimse'}


def __getattr__(name):
    # lazy: importing the package (e.g. for .dicom alone) pulls in nothing else
    if name in _WHERE:
        return getattr(importlib.import_module('.' + _WHERE[name], __name__), name)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
