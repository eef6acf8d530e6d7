# SPDX-License-Identifier: GPL-3.0-or-later
# bench/parallel.py: the seed page's multiprocessing sample, the same
# computation offloaded to a pool of 2 worker processes.
import math
import multiprocessing
import signal

import orthanc


def SlowComputation():
    for i in range(50):
        for j in range(30000):
            math.sqrt(float(j))
    return 'done\n'


def Initializer():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


POOL = multiprocessing.Pool(2, initializer=Initializer)


def OnComputation(output, uri, **request):
    output.AnswerBuffer(POOL.apply(SlowComputation), 'text/plain')


def Trivial(output, uri, **request):
    output.AnswerBuffer('ok', 'text/plain')


orthanc.RegisterRestCallback('/computation', OnComputation)
orthanc.RegisterRestCallback('/bench/trivial', Trivial)
