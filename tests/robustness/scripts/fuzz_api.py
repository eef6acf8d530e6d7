# SPDX-License-Identifier: GPL-3.0-or-later
# Fuzzing of the whole orthanc module from inside REST callbacks
# (tests/robustness/test_fuzz_api.py).
#
# POST /fuzz {"seed", "calls", "budget", "instance"}: draws `calls` random
#   calls (seeded) of every callable of the module and every method of every
#   object the script can get, with hostile arguments; answers the counts.
# POST /fuzz-output {"seed", "calls"}: the same on the route's own RestOutput
#   (whose answering methods may answer anything: the results are kept for
#   /fuzz-report, the HTTP answer itself does not matter).
# GET /fuzz-report: the results of the last /fuzz-output.
#
# Every call must return or raise; SystemError (a C function that failed
# without setting an exception, or the reverse) and exceptions that are not
# Exception subclasses are listed as "suspicious".
#
# Excluded (EXCLUDED below, each with its reason: deletions, file and
# database writes, import-time registrations, jobs) or neutralised, because
# a valid-looking call could do harm (DATABASE below: the key-value stores and
# queues of SDK 1.12.8+, kept to the fuzzer's own store and queue):
#   CallRestApi with method DELETE            (method replaced by GET)
#   HttpClient, HttpGet/Post/Put/Delete, Peers.CallPeerApi: every string
#     argument replaced by http://127.0.0.1:1/opy-fuzz (loopback, closed
#     port); no request leaves the machine
#   the answering methods of the live RestOutput: only in /fuzz-output
# No shared object (a module...) is among the values: LogHandler's unbound
# logging.Handler methods would set a lock on it (createLock) and take it
# (acquire) from one HTTP thread, and the next callback would wait forever.
import inspect
import json
import random
import time

import orthanc

BIG = 'x' * 10 ** 6
SAFE_URL = 'http://127.0.0.1:1/opy-fuzz'
# Left out, with the reason (the test checks that every other public callable
# of the build is a target, SDK 1.11 to 1.13 functions included: on an older
# Orthanc they raise NotImplementedError, on sid they run).
EXCLUDED = {
    'RestApiDelete': 'could delete resources',
    'RestApiDeleteAfterPlugins': 'could delete resources',
    'WriteFile': 'writes files',
    'SetGlobalProperty': 'writes the database',
    'RegisterErrorCode': 'meant for import time only',
    'RegisterDictionaryTag': 'meant for import time only',
    'RegisterPrivateDictionaryTag': 'meant for import time only',
    'Job.SubmitJob': 'would start jobs',
    'CreateJob': 'would start jobs',
}
NETWORK = {'HttpClient', 'HttpGet', 'HttpPost', 'HttpPut', 'HttpDelete', 'Peers.CallPeerApi'}
# SDK 1.12.8 and later: the plugins' key-value stores and queues are rows of
# the database: a str store or queue id becomes 'opy-fuzz' (only the fuzzer's
# own store and queue are written, deleted from, acknowledged in), and long
# strings and buffers are cut to 4 KiB (the database does not fill up).
# SetAttachmentCustomData needs the UUID of an attachment, which no value of
# the pool is: it is fuzzed as it is, with the same cut.
DATABASE = {'StoreKeyValue', 'DeleteKeyValue', 'EnqueueValue', 'AcknowledgeQueueValue',
            'SetAttachmentCustomData'}
DATABASE_IDS = ('storeId', 'queueId')
SHORT = 4096

STALE_OUTPUTS = []      # RestOutput of earlier callbacks (invalid now)
STALE_INSTANCES = []    # DicomInstance of earlier OnStoredInstance callbacks
STORED = [0]
LAST_OUTPUT_REPORT = [None]
DICOM = [b'']           # a valid DICOM file (one of the 'plausible' values)


class Wrong:
    pass


def OnStored(instance, instanceId):
    STORED[0] += 1
    if len(STALE_INSTANCES) < 4:
        STALE_INSTANCES.append(instance)


orthanc.RegisterOnStoredInstanceCallback(OnStored)


def Live(instance_id):
    """Objects the script can make, valid during the whole batch."""
    dicom = orthanc.GetDicomForInstance(instance_id)
    DICOM[0] = dicom
    return {
        'Image': orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 4, 4),
        'DicomInstance': orthanc.CreateDicomInstance(dicom),
        'Peers': orthanc.GetPeers(),
        'FindMatcher': orthanc.CreateFindMatcher(dicom),
    }


def Values(rng, live):
    """One hostile value."""
    simple = [None, 0, -1, 2 ** 70, '', b'\x00\xff', 'x', 1.5, True]
    plausible = [1, 2, 16, '/system', '{}', DICOM[0], orthanc.PixelFormat.RGB24]
    k = rng.random()
    if k < 0.02:
        return BIG
    if k < 0.45:
        return rng.choice(simple)
    if k < 0.6:
        return rng.choice(plausible)
    if k < 0.7:
        return rng.choice([[], {}, {'': None}, {1: 2}, [None]])
    if k < 0.8:
        return rng.choice([object(), Wrong(), Exception('x')])
    if k < 0.9 and (STALE_OUTPUTS or STALE_INSTANCES):
        return rng.choice(STALE_OUTPUTS + STALE_INSTANCES)
    return rng.choice(list(live.values()))


def Arity(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return 3, []
    names = [p.name for p in sig.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return len(sig.parameters), names


def Public(obj):
    return [n for n in dir(obj) if not n.startswith('_')]


def Targets(live, output=None):
    """(label, callable) pairs: module functions and classes, unbound methods
    of every class, bound methods of the live and stale objects."""
    out = []
    for name in Public(orthanc):
        value = getattr(orthanc, name)
        if not callable(value) or name in EXCLUDED:
            continue
        out.append((name, value))
        if isinstance(value, type) and value.__module__ == 'orthanc':
            for m in Public(value):
                label = '%s.%s' % (name, m)
                attr = getattr(value, m)
                if callable(attr) and label not in EXCLUDED:
                    out.append(('unbound ' + label, attr))
    for tname, obj in live.items():
        for m in Public(obj):
            label = '%s.%s' % (tname, m)
            if label not in EXCLUDED:
                out.append((label, getattr(obj, m)))
    for obj in STALE_OUTPUTS[-3:] + STALE_INSTANCES[-2:]:
        tname = type(obj).__name__
        for m in Public(obj):
            out.append(('stale %s.%s' % (tname, m), getattr(obj, m)))
    return out


def Neutralise(label, args, kwargs):
    base = label.replace('unbound ', '')
    if base in NETWORK:
        args = [SAFE_URL if isinstance(a, str) else a for a in args]
        kwargs = {k: (SAFE_URL if isinstance(v, str) else v) for k, v in kwargs.items()}
    if base in DATABASE:
        def cut(v):
            return v[:SHORT] if isinstance(v, (str, bytes)) and len(v) > SHORT else v
        args = [cut(a) for a in args]
        kwargs = {k: cut(v) for k, v in kwargs.items()}
        if base != 'SetAttachmentCustomData':
            if args and isinstance(args[0], str):
                args[0] = 'opy-fuzz'
            kwargs = {k: ('opy-fuzz' if k in DATABASE_IDS and isinstance(v, str) else v)
                      for k, v in kwargs.items()}
    if base == 'CallRestApi':
        delete = int(orthanc.HttpMethod.DELETE)
        args = [orthanc.HttpMethod.GET if (i == 0 and type(a) is int and a == delete) else a
                for i, a in enumerate(args)]
        if type(kwargs.get('method')) is int and kwargs['method'] == delete:
            kwargs['method'] = orthanc.HttpMethod.GET
    return args, kwargs


def Draw(rng, fn, live):
    n, names = Arity(fn)
    count = n if rng.random() < 0.6 else rng.randint(0, n + 1)
    args = [Values(rng, live) for _ in range(count)]
    kwargs = {}
    r = rng.random()
    if r < 0.2 and names:
        for name in rng.sample(names, rng.randint(1, len(names))):
            kwargs[name] = Values(rng, live)
        args = args[:max(0, n - len(kwargs))] if rng.random() < 0.5 else args
    elif r < 0.3:
        kwargs[rng.choice(['opyNoSuchKeyword', '', 'self', 'é\udcff'])] = Values(rng, live)
    return args, kwargs


TRACE = [None]


def Call(results, label, fn, args, kwargs):
    if TRACE[0] is not None:   # debugging: the call about to be made
        TRACE[0].write('%s %r %r\n' % (label, tuple(map(Short, args)), {k: Short(v) for k, v in kwargs.items()}))
        TRACE[0].flush()
    try:
        fn(*args, **kwargs)
        kind = 'returned'
    except orthanc.OrthancException:
        kind = 'OrthancException'
    except SystemError as e:
        kind = 'SystemError'
        results['suspicious'].append('%s%r %r: SystemError %s' % (label, tuple(map(Short, args)),
                                                                  {k: Short(v) for k, v in kwargs.items()}, e))
    except Exception as e:
        kind = type(e).__name__
    except BaseException as e:   # noqa: B902 - exits and interrupts must not escape a callback
        kind = type(e).__name__
        results['suspicious'].append('%s: %s raised' % (label, kind))
    results['calls'] += 1
    results['by_type'][kind] = results['by_type'].get(kind, 0) + 1
    per = results['by_callable'].setdefault(label, {})
    per[kind] = per.get(kind, 0) + 1


def Short(v):
    text = repr(v)
    return text if len(text) < 60 else text[:40] + '...(%d chars)' % len(text)


def NewResults():
    return {'calls': 0, 'by_type': {}, 'by_callable': {}, 'suspicious': [], 'targets': 0,
            'excluded': sorted(EXCLUDED), 'neutralised': sorted(NETWORK | DATABASE) + ['CallRestApi']}


def Fuzz(output, uri, **request):
    query = json.loads(request['body'])
    rng = random.Random(query['seed'])
    live = Live(query['instance'])
    targets = Targets(live)
    if query.get('trace'):
        TRACE[0] = open(query['trace'], 'a')
    results = NewResults()
    results['targets'] = len(targets)
    results['target_names'] = sorted(set(label.split(' ', 1)[-1] for label, _fn in targets))
    start = time.monotonic()
    # Every target once with no argument, then random draws.
    for label, fn in targets:
        Call(results, label, fn, [], {})
    while results['calls'] < query['calls'] and time.monotonic() - start < query['budget']:
        label, fn = rng.choice(targets)
        args, kwargs = Draw(rng, fn, live)
        args, kwargs = Neutralise(label, args, kwargs)
        Call(results, label, fn, args, kwargs)
    results['elapsed'] = time.monotonic() - start
    results['stored'] = STORED[0]
    results['stale'] = [len(STALE_OUTPUTS), len(STALE_INSTANCES)]
    STALE_OUTPUTS.append(output)
    del STALE_OUTPUTS[:-8]
    output.AnswerBuffer(json.dumps(results), 'application/json')


def FuzzOutput(output, uri, **request):
    query = json.loads(request['body'])
    rng = random.Random(query['seed'])
    live = Live(query['instance'])
    results = NewResults()
    # Published before the first call: a fuzzed method may already have
    # written a (malformed) answer, so the client can ask for the report while
    # this callback still runs; 'done' tells it when the report is whole.
    results['seed'], results['done'] = query['seed'], False
    LAST_OUTPUT_REPORT[0] = results
    methods = [('RestOutput.%s' % m, getattr(output, m)) for m in Public(output)]
    results['targets'] = len(methods)
    for _ in range(query['calls']):
        label, fn = rng.choice(methods)
        args, kwargs = Draw(rng, fn, live)
        Call(results, label, fn, args, kwargs)
    STALE_OUTPUTS.append(output)
    results['done'] = True


def FuzzReport(output, uri, **request):
    output.AnswerBuffer(json.dumps(LAST_OUTPUT_REPORT[0]), 'application/json')


def Edges(output, uri, **request):
    """Calls the fuzzing found harmful, one by one: {call: outcome}."""
    count = orthanc.GetCommandLineArgumentsCount()
    cases = {
        # Orthanc 1.10.1 reads argv[argc] for index == count (a C++
        # exception through the plugin), before argv for index >= 2**31
        'GetCommandLineArgument(count)': lambda: orthanc.GetCommandLineArgument(count),
        'GetCommandLineArgument(2**31)': lambda: orthanc.GetCommandLineArgument(2 ** 31),
        'GetCommandLineArgument(2**32-1)': lambda: orthanc.GetCommandLineArgument(2 ** 32 - 1),
        'GetCommandLineArgument(count-1)': lambda: orthanc.GetCommandLineArgument(count - 1),
    }
    results = {}
    for name, fn in cases.items():
        try:
            value = fn()
            results[name] = 'returned %s' % type(value).__name__
        except orthanc.OrthancException as e:
            results[name] = 'OrthancException %s' % e.args[0]
        except Exception as e:
            results[name] = type(e).__name__
    output.AnswerBuffer(json.dumps(results), 'application/json')


orthanc.RegisterRestCallback('/fuzz-edges', Edges)
orthanc.RegisterRestCallback('/fuzz', Fuzz)
orthanc.RegisterRestCallback('/fuzz-output', FuzzOutput)
orthanc.RegisterRestCallback('/fuzz-report', FuzzReport)
