# SPDX-License-Identifier: GPL-3.0-or-later
# Python.Interpreters (test_interpreters.py): which interpreter runs what.
import json
import time

import orthanc

try:
    import _interpreters as _interp         # Python 3.13+
except ImportError:                         # pragma: no cover (3.12)
    import _xxsubinterpreters as _interp


def interp_id():
    cur = _interp.get_current()
    return int(cur[0] if isinstance(cur, tuple) else cur)


ME = interp_id()
print('imported in interpreter %d' % ME)


# sum() over a range runs in C from start to end: it never lets another
# thread of its interpreter run. Sized for HOLD_SECONDS on this machine.
HOLD_SECONDS = 2.0


def _rate():
    t = time.perf_counter()
    sum(range(2000000))
    return 2000000 / (time.perf_counter() - t)


N = int(_rate() * HOLD_SECONDS)
COUNT = 0


def hold(output, uri, **request):
    start = time.monotonic()
    sum(range(N))
    output.AnswerBuffer('%d %.3f' % (ME, time.monotonic() - start), 'text/plain')


def ident(output, uri, **request):
    global COUNT
    COUNT += 1
    output.AnswerBuffer('%d %d' % (ME, COUNT), 'text/plain')


def sdk(output, uri, **request):
    # the whole orthanc module, in whichever interpreter runs this
    time.sleep(0.5)         # (the test's second call finds this one busy)
    system = json.loads(orthanc.RestApiGet('/system'))
    try:
        orthanc.RestApiGet('/instances/nowhere')
        caught = None
    except orthanc.OrthancException as e:
        caught = e.args[0]
    output.AnswerBuffer(json.dumps({'interp': ME, 'version': system['Version'],
                                    'caught': int(caught) if caught is not None else None,
                                    'enum': int(orthanc.ErrorCode.UNKNOWN_RESOURCE),
                                    'level': int(orthanc.ChangeType.STABLE_STUDY)}),
                        'application/json')


def fail(output, uri, **request):
    time.sleep(0.5)
    raise orthanc.OrthancException(orthanc.ErrorCode.UNKNOWN_RESOURCE, 'nothing in interpreter %d' % ME)


def on_change(change_type, level, resource):
    if change_type == orthanc.ChangeType.ORTHANC_STARTED:
        print('changes run in interpreter %d' % interp_id())


orthanc.RegisterRestCallback('/interp/hold', hold)
orthanc.RegisterRestCallback('/interp/id', ident)
orthanc.RegisterRestCallback('/interp/sdk', sdk)
orthanc.RegisterRestCallback('/interp/fail', fail)
orthanc.RegisterOnChangeCallback(on_change)
