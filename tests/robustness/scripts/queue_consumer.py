# SPDX-License-Identifier: GPL-3.0-or-later
# A consumer thread of an Orthanc queue (SDK 1.12.8/1.12.10), as a plugin
# would run one: it takes values while Orthanc runs, writes what it did to
# a key-value store, and ends when the orthanc module closes at stop
# (tests/robustness/test_queue_consumer.py).
import threading
import time

import orthanc

QUEUE = 'opy-robust-queue'
STORE = 'opy-robust-done'


def take():
    if hasattr(orthanc, 'ReserveQueueValue'):
        value, value_id = orthanc.ReserveQueueValue(QUEUE, orthanc.QueueOrigin.FRONT, 30)
        if value is not None:
            orthanc.StoreKeyValue(STORE, value.decode(), b'done')
            orthanc.AcknowledgeQueueValue(QUEUE, value_id)
        return value
    value = orthanc.DequeueValue(QUEUE, orthanc.QueueOrigin.FRONT)
    if value is not None:
        orthanc.StoreKeyValue(STORE, value.decode(), b'done')
    return value


def consume():
    while True:
        try:
            if take() is None:
                time.sleep(0.02)
        except orthanc.OrthancException as e:
            print('consumer ends: %s' % (e,))
            return


def Put(output, uri, **request):
    for i in range(int(request['get']['n'])):
        orthanc.EnqueueValue(QUEUE, '%s-%04d' % (request['get']['prefix'], i))
    output.AnswerBuffer('queued', 'text/plain')


def Done(output, uri, **request):
    output.AnswerBuffer('%d' % sum(1 for _ in orthanc.CreateKeysValuesIterator(STORE)), 'text/plain')


def OnChange(change_type, level, resource):
    # the database is there once Orthanc has started (a thread started at
    # import gets OrthancException 2038 'Plugin trying to call the database
    # during its initialization')
    if change_type == orthanc.ChangeType.ORTHANC_STARTED:
        threading.Thread(target=consume, name='queue-consumer').start()


orthanc.RegisterRestCallback('/queue/put', Put)
orthanc.RegisterRestCallback('/queue/done', Done)
orthanc.RegisterOnChangeCallback(OnChange)
