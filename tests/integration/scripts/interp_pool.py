# SPDX-License-Identifier: GPL-3.0-or-later
# The seed page's "slave process" sample with Python 3.14's interpreters
# instead of processes (concurrent.futures.InterpreterPoolExecutor).
import concurrent.futures
import os

import interp_pool_work
import orthanc
from interp_pool_work import SlowComputation

HERE = os.path.dirname(os.path.abspath(interp_pool_work.__file__))


def Initializer(path):
    # each new interpreter starts with Python's own sys.path
    import sys
    sys.path.insert(0, path)


POOL = concurrent.futures.InterpreterPoolExecutor(2, initializer=Initializer, initargs=(HERE,))


def OnRest(output, uri, **request):
    answer = POOL.submit(SlowComputation).result()
    output.AnswerBuffer(answer, 'text/plain')


orthanc.RegisterRestCallback('/computation', OnRest)
