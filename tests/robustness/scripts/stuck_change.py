# SPDX-License-Identifier: GPL-3.0-or-later
# A change callback that never returns (tests/robustness/test_shutdown.py):
# at the first new instance it waits forever (GIL released), as a callback
# stuck on a network call without a timeout would. Orthanc must still stop.
import threading

import orthanc

FOREVER = threading.Event()


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.NEW_INSTANCE:
        orthanc.LogWarning('stuck-change: waiting forever')
        FOREVER.wait()


orthanc.RegisterOnChangeCallback(OnChange)
