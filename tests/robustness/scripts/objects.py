# SPDX-License-Identifier: GPL-3.0-or-later
# Forged and stale objects (tests/robustness/test_objects.py): every object
# type of the module refuses to be made from Python; the borrowed objects of
# the callbacks (RestOutput, DicomInstance, FindQuery/FindAnswers,
# WorklistQuery/WorklistAnswers) kept after their callback raise ValueError,
# from the thread of a later callback and from threads started later.
import copy
import json
import pickle
import threading
import time

import orthanc

# {type name: {method name: [annotation of each required parameter]}}, from
# the typing stubs of the build (filled in by the test).
METHODS = @METHODS@

KEPT = {}
RACES = {}          # type name -> outcomes of a thread that used the object while its callback returned


def object_types():
    return sorted(name for name in dir(orthanc)
                  if isinstance(getattr(orthanc, name), type)
                  and getattr(orthanc, name).__mro__ == (getattr(orthanc, name), object)
                  and not getattr(orthanc, name).__flags__ & (1 << 10))   # Py_TPFLAGS_BASETYPE


def outcome(call):
    try:
        result = call()
        return ['returned', repr(result)[:80]]
    except BaseException as e:      # noqa: B902 -- the test wants to see everything
        return [type(e).__name__, str(e)]


# ------------------------------------------------------------ forging

def forge_attempts(tp, sample):
    attempts = {
        'call': lambda: tp(),
        'call_args': lambda: tp(0, 'x', b'x'),
        'dunder_new': lambda: tp.__new__(tp),
        'object_new': lambda: object.__new__(tp),
        'subclass': lambda: type('Forged', (tp,), {}),
        'set_class_attr': lambda: setattr(tp, 'forged', 1),
    }
    if sample is not None:
        attempts.update({
            'type_of_instance': lambda: type(sample)(),
            'copy': lambda: copy.copy(sample),
            'deepcopy': lambda: copy.deepcopy(sample),
            'pickle': lambda: pickle.dumps(sample),
            'reduce_ex': lambda: sample.__reduce_ex__(2),
            'class_assignment': lambda: setattr(orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 1, 1),
                                                '__class__', tp),
        })
    return attempts


def Forge(output, uri, **request):
    samples = {name: obj for name, obj in KEPT.items()}
    samples['Image'] = orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 2, 2)
    result = {}
    for name in object_types():
        tp = getattr(orthanc, name)
        result[name] = {k: outcome(f) for k, f in forge_attempts(tp, samples.get(name)).items()}
    output.AnswerBuffer(json.dumps(result), 'application/json')


orthanc.RegisterRestCallback('/objects/forge', Forge)


# ------------------------------------------------------------ keeping borrowed objects

def race(name, obj, stop):
    """Use obj in a loop from another thread while its callback returns."""
    seen = []
    method = {'RestOutput': lambda: obj.SetHttpErrorDetails('race', 0),
              'DicomInstance': obj.GetInstanceSize if name == 'DicomInstance' else None,
              }.get(name)
    if method is None:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kind = outcome(method)[0]
        if not seen or seen[-1][0] != kind:
            seen.append([kind, 0])
        seen[-1][1] += 1
        if kind == 'ValueError' and stop.is_set() and seen[-1][1] >= 100:
            break
    RACES[name] = seen      # runs of outcomes: [[kind, count], ...]


def keep(name, obj):
    KEPT[name] = obj


def start_race(name, obj):
    stop = threading.Event()
    t = threading.Thread(target=race, args=(name, obj, stop), name='race-' + name)
    t.start()
    return t, stop


def KeepOutput(output, uri, **request):
    keep('RestOutput', output)
    t, stop = start_race('RestOutput', output)
    output.AnswerBuffer(b'kept', 'text/plain')
    stop.set()
    RACERS.append(t)


RACERS = []
orthanc.RegisterRestCallback('/objects/keep-output', KeepOutput)


def OnStored(instance, instanceId):
    keep('DicomInstance', instance)
    t, stop = start_race('DicomInstance', instance)
    instance.GetInstanceSize()
    stop.set()
    RACERS.append(t)


orthanc.RegisterOnStoredInstanceCallback(OnStored)


def OnFind(answers, query, issuerAet, calledAet):
    keep('FindQuery', query)
    keep('FindAnswers', answers)
    query.GetFindQuerySize()


orthanc.RegisterFindCallback(OnFind)


def OnWorklist(answers, query, issuerAet, calledAet):
    keep('WorklistQuery', query)
    keep('WorklistAnswers', answers)
    query.WorklistGetDicomQuery()


orthanc.RegisterWorklistCallback(OnWorklist)


# ------------------------------------------------------------ using them later

def argument(annotation):
    if annotation.startswith('Optional['):
        return None
    if annotation in KEPT:
        return KEPT[annotation]
    return {'Buffer': b'\x00', 'str': 'x', 'int': 0, 'Dict[str, str]': {}}[annotation]


def use_all():
    """Every method of every kept object, with arguments of the right types."""
    result = {}
    for name in sorted(KEPT):
        obj = KEPT[name]
        for method, annotations in sorted(METHODS[name].items()):
            args = [argument(a) for a in annotations]
            result['%s.%s' % (name, method)] = outcome(lambda: getattr(obj, method)(*args))
    return result


def Stale(output, uri, **request):
    for t in RACERS:
        t.join(30)
    where = request['groups'][0]
    if where == 'same-thread':
        result = use_all()
    else:
        box = {}
        t = threading.Thread(target=lambda: box.update(use_all()), name='stale-user')
        t.start()
        t.join(30)
        result = box
    output.AnswerBuffer(json.dumps({'kept': sorted(KEPT), 'calls': result,
                                    'reprs': {k: repr(v) for k, v in KEPT.items()},
                                    'races': RACES}), 'application/json')


orthanc.RegisterRestCallback('/objects/stale/(same-thread|other-thread)', Stale)


# ------------------------------------------------ an argument that waits

SLOW = {'release': threading.Event(), 'outcome': None, 'index_calls': 0}


class SlowIndex:
    """An int-like argument whose conversion would let the callback end
    meanwhile, if the module ran Python code to convert arguments."""

    def __index__(self):
        SLOW['index_calls'] += 1
        SLOW['release'].wait(20)        # releases the GIL while it waits
        return 200


def SlowArgument(output, uri, **request):
    def use():
        SLOW['outcome'] = outcome(lambda: output.SendHttpStatusCode(SlowIndex()))

    SLOW['thread'] = threading.Thread(target=use, name='slow-argument')
    SLOW['thread'].start()
    time.sleep(0.2)                     # the thread is in __index__ now, if anywhere
    output.AnswerBuffer(b'answered', 'text/plain')


def SlowArgumentRelease(output, uri, **request):
    SLOW['release'].set()
    SLOW['thread'].join(20)
    output.AnswerBuffer(json.dumps({'outcome': SLOW['outcome'], 'index_calls': SLOW['index_calls']}),
                        'application/json')


orthanc.RegisterRestCallback('/objects/slow-argument', SlowArgument)
orthanc.RegisterRestCallback('/objects/slow-argument/release', SlowArgumentRelease)
