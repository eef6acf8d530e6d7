# SPDX-License-Identifier: GPL-3.0-or-later
# RegisterRefreshMetricsCallback: two refresh callbacks publishing metrics,
# one of which can be told (POST /metrics-mode) to raise or return garbage.
import json

import orthanc

state = {'mode': 'ok', 'refreshes': 0}


def publish_storage():
    if state['mode'] == 'raise':
        raise RuntimeError('storage statistics unavailable')
    stats = json.loads(orthanc.RestApiGet('/statistics'))
    orthanc.SetMetricsValue('py_instances', stats['CountInstances'], orthanc.MetricsType.DEFAULT)
    orthanc.SetMetricsValue('py_constant', 42.5, orthanc.MetricsType.DEFAULT)
    if state['mode'] == 'return':
        return {'not': 'used'}


def count_refreshes():
    state['refreshes'] += 1
    orthanc.SetMetricsValue('py_refreshes', state['refreshes'], orthanc.MetricsType.DEFAULT)


def set_mode(output, uri, **request):
    state['mode'] = request['body'].decode()
    output.AnswerBuffer('mode %s\n' % state['mode'], 'text/plain')


orthanc.RegisterRefreshMetricsCallback(publish_storage)
orthanc.RegisterRefreshMetricsCallback(callback=count_refreshes)
orthanc.RegisterRestCallback('/metrics-mode', set_mode)
