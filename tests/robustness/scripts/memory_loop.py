# SPDX-License-Identifier: GPL-3.0-or-later
# The loop of tests/robustness/test_memory_loop.py: N calls of
# orthanc.RestApiPost('/tools/lookup', 100 KB body), in the HTTP thread or
# in a Python thread (joined), as bench/native_plugin.c does in C.
import threading

import orthanc

BODY = b'x' * (100 * 1024)


def loop(n):
    ok = 0
    for _ in range(n):
        orthanc.RestApiPost('/tools/lookup', BODY)
        ok += 1
    return ok


def LookupLoop(output, uri, **request):
    n = int(request['groups'][0])
    if '/lookup-thread/' in uri:
        box = []
        t = threading.Thread(target=lambda: box.append(loop(n)))
        t.start()
        t.join()
        n = box[0]
    else:
        n = loop(n)
    output.AnswerBuffer(str(n), 'text/plain')


orthanc.RegisterRestCallback('/bench/lookup-loop/([0-9]+)', LookupLoop)
orthanc.RegisterRestCallback('/bench/lookup-thread/([0-9]+)', LookupLoop)
