# SPDX-License-Identifier: GPL-3.0-or-later
# Threads and shutdown (tests/robustness/test_shutdown.py): Python threads, a
# threading.Timer loop and a daemon thread keep calling orthanc.* while
# Orthanc stops on SIGTERM.  Each writes what happens to its own file in
# threads/ (the Orthanc log is closed at the end of the stop): every
# exception it got, and the first one after ORTHANC_STOPPED, after which it
# ends (the daemon thread never ends on its own).
import os
import threading
import time

import orthanc

DIR = os.path.join('@WORKDIR@', 'threads')
os.makedirs(DIR, exist_ok=True)
STOPPED = threading.Event()
DEADLINE = time.monotonic() + 300       # bounded, whatever happens


class ThreadLog:
    def __init__(self, name):
        self.f = open(os.path.join(DIR, name + '.log'), 'a', buffering=1)
        self.calls = 0

    def write(self, *words):
        self.f.write(' '.join(str(w) for w in words) + '\n')


def calls():
    """One round of SDK calls of several kinds."""
    orthanc.RestApiGet('/system')
    orthanc.GenerateUuid()
    orthanc.GetGlobalProperty(1025, 'none')
    orthanc.LogInfo('shutdown-test tick')
    orthanc.RestApiGetAfterPlugins('/shutdown/ping')


def one_round(log):
    """True to keep going."""
    try:
        calls()
        log.calls += 1
        return True
    except orthanc.OrthancException as e:
        if STOPPED.is_set():
            log.write('after-stopped', type(e).__module__ + '.' + type(e).__name__, repr(e.args))
            return False
        log.write('before-stopped', type(e).__module__ + '.' + type(e).__name__, repr(e.args))
        time.sleep(0.01)
        return True
    except BaseException as e:
        log.write('unexpected', type(e).__module__ + '.' + type(e).__name__, repr(e.args))
        return False


def worker(name):
    log = ThreadLog(name)
    log.write('started')
    while time.monotonic() < DEADLINE and one_round(log):
        pass
    log.write('ended', log.calls)


def timer_tick(log):
    if one_round(log) and time.monotonic() < DEADLINE:
        t = threading.Timer(0.005, timer_tick, args=(log,))
        t.name = 'timer-loop'
        t.start()
    else:
        log.write('ended', log.calls)


def daemon():
    log = ThreadLog('daemon')
    log.write('started')
    while time.monotonic() < DEADLINE:
        try:
            calls()
            log.calls += 1
        except BaseException as e:
            if STOPPED.is_set() and log.calls >= 0:
                log.write('after-stopped', type(e).__module__ + '.' + type(e).__name__, repr(e.args))
                log.calls = -1          # write it once, keep calling
        time.sleep(0.001)


def Ping(output, uri, **request):
    output.AnswerBuffer(b'pong', 'text/plain')


orthanc.RegisterRestCallback('/shutdown/ping', Ping)


def Slow(output, uri, **request):
    # a route still running when SIGTERM comes
    time.sleep(0.2)
    orthanc.RestApiGet('/system')
    output.AnswerBuffer(b'slow', 'text/plain')


orthanc.RegisterRestCallback('/shutdown/slow', Slow)


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.ORTHANC_STARTED:
        # the timer's log first: the workers may keep the GIL busy for a while
        log = ThreadLog('timer')
        log.write('started')
        for i in range(3):
            threading.Thread(target=worker, args=('worker-%d' % i,), name='worker-%d' % i).start()
        threading.Timer(0.005, timer_tick, args=(log,)).start()
        threading.Thread(target=daemon, name='calling-daemon', daemon=True).start()
    elif changeType == orthanc.ChangeType.ORTHANC_STOPPED:
        STOPPED.set()
        with open(os.path.join(DIR, 'stopped'), 'w') as f:
            f.write('ORTHANC_STOPPED\n')


orthanc.RegisterOnChangeCallback(OnChange)
