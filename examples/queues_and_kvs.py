# SPDX-License-Identifier: GPL-3.0-or-later
# A work queue and a result store kept in Orthanc's database (Orthanc
# 1.12.10 or newer): every new instance is queued, a consumer thread
# measures it and stores the result; all the Orthanc servers of a cluster
# that share the database share the queue and the results.
import json
import threading
import time

import orthanc

QUEUE = 'sample-instances-to-measure'
RESULTS = 'sample-instance-sizes'


def Consume():
    while True:
        try:
            value, value_id = orthanc.ReserveQueueValue(QUEUE, orthanc.QueueOrigin.FRONT, 60)
            if value is None:
                time.sleep(0.1)
                continue
            instance = value.decode()
            size = len(orthanc.RestApiGet('/instances/%s/file' % instance))
            orthanc.StoreKeyValue(RESULTS, instance, str(size))
            orthanc.AcknowledgeQueueValue(QUEUE, value_id)
            print('Measured instance %s: %d bytes' % (instance, size))
        except orthanc.OrthancException:
            return                  # Orthanc is stopping


def OnChange(changeType, level, resource):
    if changeType == orthanc.ChangeType.NEW_INSTANCE:
        orthanc.EnqueueValue(QUEUE, resource)
    elif changeType == orthanc.ChangeType.ORTHANC_STARTED:
        threading.Thread(target=Consume, name='measure').start()


def Results(output, uri, **request):
    sizes = {key: int(value) for key, value in orthanc.CreateKeysValuesIterator(RESULTS)}
    output.AnswerBuffer(json.dumps({'pending': orthanc.GetQueueSize(QUEUE), 'sizes': sizes}),
                        'application/json')


orthanc.RegisterOnChangeCallback(OnChange)
orthanc.RegisterRestCallback('/measured', Results)
