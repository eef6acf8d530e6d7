# SPDX-License-Identifier: GPL-3.0-or-later
# Key-value stores and queues of the Orthanc database (SDK 1.12.8/1.12.10)
# and SetStableStatus (1.12.9), for tests/integration/test_kv_queues.py:
# each route runs one scenario and answers what the script saw.
import json
import threading

import orthanc

CHANGES = []            # (change type, resource id) of STABLE_* changes
CHANGES_LOCK = threading.Lock()


def answer(output, value):
    output.AnswerBuffer(json.dumps(value), 'application/json')


def text(value):
    return value.decode('utf-8') if isinstance(value, bytes) else value


def KeyValues(output, uri, **request):
    store = request['get']['store']
    orthanc.StoreKeyValue(store, 'b', b'second')
    orthanc.StoreKeyValue(store, 'a', 'premi\u00e8re')            # str: stored as UTF-8
    orthanc.StoreKeyValue(store, 'c', b'\x00\xff binary')
    orthanc.StoreKeyValue(store, 'b', b'second, replaced')
    seen = {
        'a': orthanc.GetKeyValue(store, 'a').hex(),
        'b': text(orthanc.GetKeyValue(store, 'b')),
        'c': orthanc.GetKeyValue(store, 'c').hex(),
        'absent': orthanc.GetKeyValue(store, 'nothing here'),
        'other_store': orthanc.GetKeyValue(store + '-other', 'a'),
        'types': sorted({type(orthanc.GetKeyValue(store, k)).__name__ for k in 'abc'}),
    }
    # The official sample's loop (True while there is an element)...
    it = orthanc.CreateKeysValuesIterator(store)
    loop = []
    while it.Next():
        loop.append([it.GetKey(), it.GetValue().hex(), it.KeysValuesIteratorGetKey()])
    seen['loop'] = loop
    seen['next_at_end'] = [it.Next(), it.Next()]                # Orthanc refuses a Next() past the end
    seen['next_after_for'] = list(it)
    # ... and the Python iteration protocol.
    seen['for'] = [[k, v.hex()] for k, v in orthanc.CreateKeysValuesIterator(store)]
    seen['iter_is_self'] = iter(it) is it
    seen['empty_store'] = list(orthanc.CreateKeysValuesIterator(store + '-empty'))
    orthanc.DeleteKeyValue(store, 'b')
    orthanc.DeleteKeyValue(store, 'never stored')                # no error
    seen['after_delete'] = [k for k, _ in orthanc.CreateKeysValuesIterator(store)]
    seen['b_after_delete'] = orthanc.GetKeyValue(store, 'b')
    answer(output, seen)


def Queue(output, uri, **request):
    queue = request['get']['queue']
    for v in (b'one', 'two', b'three', b'four'):
        orthanc.EnqueueValue(queue, v)
    seen = {'size': orthanc.GetQueueSize(queue)}
    seen['front'] = text(orthanc.DequeueValue(queue, orthanc.QueueOrigin.FRONT))
    seen['back'] = text(orthanc.DequeueValue(queue, orthanc.QueueOrigin.BACK))
    seen['size_after'] = orthanc.GetQueueSize(queue)
    seen['rest'] = [text(orthanc.DequeueValue(queue, orthanc.QueueOrigin.FRONT)) for _ in range(3)]
    seen['size_empty'] = orthanc.GetQueueSize(queue)
    seen['other_queue'] = orthanc.GetQueueSize(queue + '-other')
    answer(output, seen)


def Reserve(output, uri, **request):
    # step=put: enqueue; step=reserve: reserve one (timeout in the query);
    # step=ack: acknowledge the id given
    get = request['get']
    queue = get['queue']
    step = get['step']
    if step == 'put':
        orthanc.EnqueueValue(queue, get['value'])
        answer(output, orthanc.GetQueueSize(queue))
    elif step == 'reserve':
        value, value_id = orthanc.ReserveQueueValue(queue, orthanc.QueueOrigin.FRONT, int(get['timeout']))
        answer(output, [text(value), value_id, orthanc.GetQueueSize(queue)])
    elif step == 'ack':
        answer(output, [orthanc.AcknowledgeQueueValue(queue, int(get['id'])), orthanc.GetQueueSize(queue)])


def Errors(output, uri, **request):
    cases = {
        'store_int': lambda: orthanc.StoreKeyValue(1, 'k', b'v'),
        'get_int_key': lambda: orthanc.GetKeyValue('s', 2),
        'get_missing_arg': lambda: orthanc.GetKeyValue('s'),
        'get_nul': lambda: orthanc.GetKeyValue('s', 'a\x00b'),
        'store_none': lambda: orthanc.StoreKeyValue('s', 'k', None),
        'dequeue_bad_origin': lambda: orthanc.DequeueValue('q', 7),
        'dequeue_str_origin': lambda: orthanc.DequeueValue('q', 'front'),
        'reserve_zero': lambda: orthanc.ReserveQueueValue('q', orthanc.QueueOrigin.FRONT, 0),
        'reserve_negative': lambda: orthanc.ReserveQueueValue('q', orthanc.QueueOrigin.FRONT, -1),
        'size_list': lambda: orthanc.GetQueueSize(['q']),
        'iterator_ctor': lambda: orthanc.KeysValuesIterator(),
        'stable_bad': lambda: orthanc.SetStableStatus('x', 9),
        'stable_unknown': lambda: orthanc.SetStableStatus('no-such-resource', orthanc.StableStatus.STABLE),
    }
    if hasattr(orthanc, 'AcknowledgeQueueValue'):
        cases['ack_negative'] = lambda: orthanc.AcknowledgeQueueValue('q', -1)
    seen = {}
    for name, case in cases.items():
        try:
            seen[name] = ['ok', repr(case())]
        except Exception as e:
            seen[name] = [type(e).__name__, str(e)]
    answer(output, seen)


def Stable(output, uri, **request):
    get = request['get']
    status = getattr(orthanc.StableStatus, get['status'])
    answer(output, list(orthanc.SetStableStatus(get['id'], status)))


def Changes(output, uri, **request):
    with CHANGES_LOCK:
        answer(output, list(CHANGES))


def OnChange(change_type, level, resource):
    if change_type in (orthanc.ChangeType.STABLE_SERIES, orthanc.ChangeType.STABLE_STUDY,
                       orthanc.ChangeType.STABLE_PATIENT):
        with CHANGES_LOCK:
            CHANGES.append([change_type, resource])


orthanc.RegisterRestCallback('/kv/values', KeyValues)
orthanc.RegisterRestCallback('/kv/queue', Queue)
orthanc.RegisterRestCallback('/kv/reserve', Reserve)
orthanc.RegisterRestCallback('/kv/errors', Errors)
orthanc.RegisterRestCallback('/kv/stable', Stable)
orthanc.RegisterRestCallback('/kv/changes', Changes)
orthanc.RegisterOnChangeCallback(OnChange)
