# SPDX-License-Identifier: GPL-3.0-or-later
# A non-daemon script thread that never ends and keeps calling Orthanc:
# stopping Orthanc must not hang on it.
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
        except Exception as e:
            if n % 10 == 1:
                print('forever-thread call failed: %r' % (e,))
        time.sleep(0.1)


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.ORTHANC_STARTED:
        threading.Thread(target=Forever, name='forever-thread').start()


orthanc.RegisterOnChangeCallback(OnChange)
