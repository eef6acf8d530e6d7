# Plugin script of test_interpreter.py, saved as "my-plugin-2.0.py": a file
# name with dots and hyphens, imported as a module all the same.
import json
import multiprocessing
import os
import signal
import sys

import orthanc
import mp_helper            # a module next to the script: sys.path[0] is its folder

FACTS = {
    'name': __name__,
    'path0': sys.path[0],
    'executable': sys.executable,
    'sigterm_handler': str(signal.getsignal(signal.SIGTERM)),
}


def Facts(output, uri, **request):
    output.AnswerBuffer(json.dumps(FACTS), 'application/json')


def Pool(output, uri, **request):
    # The start method comes from the route; the worker function lives in a
    # module of the script's folder, which spawned interpreters import.
    method = request['groups'][0]
    with multiprocessing.get_context(method).Pool(2) as pool:
        squares = pool.map(mp_helper.square_and_pid, [1, 2, 3])
    answer = {'squares': [s for s, _ in squares],
              'other_process': all(pid != os.getpid() for _, pid in squares)}
    output.AnswerBuffer(json.dumps(answer), 'application/json')


orthanc.RegisterRestCallback('/interp/facts', Facts)
orthanc.RegisterRestCallback('/interp/pool/(fork|spawn|forkserver)', Pool)
