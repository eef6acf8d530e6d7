# SPDX-License-Identifier: GPL-3.0-or-later
# Script threads (one non-daemon, one daemon) that never end and keep
# calling Orthanc: stopping Orthanc must not hang on them.
import threading
import time

import orthanc

STARTED = threading.Event()


def Forever():
    STARTED.set()
    n = 0
    while True:
        n += 1
        try:
            orthanc.RestApiGet('/system')
            if n % 10 == 1:
                orthanc.LogWarning('forever-thread still calling (%d)' % n)
        except BaseException:
            pass  # once Orthanc stops, calls raise: keep going regardless
        time.sleep(0.1)


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.ORTHANC_STARTED:
        # daemon=False: a thread started from a callback (a thread Python did not
        # start) would otherwise be a daemon, which nobody waits for anyway.
        threading.Thread(target=Forever, name='forever-thread', daemon=False).start()
        threading.Thread(target=Forever, name='forever-daemon', daemon=True).start()


orthanc.RegisterOnChangeCallback(OnChange)
