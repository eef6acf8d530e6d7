# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the testing kit (python/orthanc_plugin_testing) and of the typing
stubs as cmake --install installs them: from the build folder beside the
plugin under test (build/python/: orthanc-stubs/, orthanc_plugin_testing/
and its .dist-info)."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = Path(os.environ.get('OPY_PLUGIN', REPO / 'build' / 'libOrthancPython.so'))
PACKAGES = PLUGIN.parent / 'python'
SEED_SCRIPTS = REPO / 'tests' / 'integration' / 'scripts'

assert (PACKAGES / 'orthanc_plugin_testing').is_dir(), '%s: build first' % PACKAGES
if str(PACKAGES) not in sys.path:
    sys.path.insert(0, str(PACKAGES))

# tests/kit/author/ is a plugin author's project, run by test_kit_pytest.py
# in a pytest of its own (the fixtures come from the kit's entry point there)
collect_ignore = ['author']
