# SPDX-License-Identifier: GPL-3.0-or-later
# Large answers of the SDK (tests/integration/test_large_answers.py): from
# 64 KB on, RestApiGet and the other calls answering an
# OrthancPluginMemoryBuffer hand the buffer itself to Python as the bytes
# object (src/core/opy_bytes.c); with tracemalloc running, they copy it. Either
# way the script sees a plain bytes object with the right content.
import hashlib
import json
import tracemalloc

import orthanc


def describe(data):
    """What a script can do with the answer."""
    return {
        'type': type(data).__name__,
        'exact_bytes': type(data) is bytes,
        'len': len(data),
        'md5': hashlib.md5(data).hexdigest(),
        'hash_ok': hash(data) == hash(bytes(bytearray(data))),
        'head': data[:4].hex(),
        'tail': data[-4:].hex(),
        'equal_copy': data == bytes(bytearray(data)),
        'find_dicm': data.find(b'DICM'),
        'memoryview_len': memoryview(data).nbytes,
    }


def Get(output, uri, **request):
    iid = request['groups'][0]
    n = int(request['get'].get('n', '1'))
    traced = request['get'].get('tracemalloc') == '1'
    if traced:
        tracemalloc.start()
    try:
        results = []
        for _ in range(n):
            results.append(describe(orthanc.RestApiGet('/instances/%s/file' % iid)))
        results.append(describe(orthanc.GetDicomForInstance(iid)))
        small = orthanc.RestApiGet('/system')          # below the threshold: copied
        results.append({'small_type': type(small).__name__, 'small_ok': json.loads(small)['Version']})
    finally:
        if traced:
            tracemalloc.stop()
    output.AnswerBuffer(json.dumps(results), 'application/json')


orthanc.RegisterRestCallback('/large/(.*)', Get)
