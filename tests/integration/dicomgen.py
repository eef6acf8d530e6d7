# SPDX-License-Identifier: GPL-3.0-or-later
"""The suite's DICOM generator is the testing kit's (python/orthanc_plugin_testing/dicom.py):
the suite and plugin authors' tests make their instances alike.  The kit is
taken from the build folder beside the plugin under test (build/python/, what
cmake --install installs), else from the source tree."""

import os
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_BUILT = Path(os.environ.get('OPY_PLUGIN', _REPO / 'build' / 'libOrthancPython.so')).parent / 'python'
_KIT = _BUILT if (_BUILT / 'orthanc_plugin_testing').is_dir() else _REPO / 'python'
if str(_KIT) not in sys.path:
    sys.path.insert(0, str(_KIT))

from orthanc_plugin_testing.dicom import *  # noqa: E402,F401,F403
from orthanc_plugin_testing.dicom import SECONDARY_CAPTURE, IMPLEMENTATION_UID  # noqa: E402,F401
