# SPDX-License-Identifier: GPL-3.0-or-later
# bench/parallel.py: the seed page's CPU-bound route (SlowComputation,
# scaled from 4 s to about 0.2 s), computed in the callback itself, and the
# trivial route.
import math

import orthanc


def SlowComputation():
    for i in range(50):
        for j in range(30000):
            math.sqrt(float(j))
    return 'done\n'


def OnComputation(output, uri, **request):
    output.AnswerBuffer(SlowComputation(), 'text/plain')


def Trivial(output, uri, **request):
    output.AnswerBuffer('ok', 'text/plain')


orthanc.RegisterRestCallback('/computation', OnComputation)
orthanc.RegisterRestCallback('/bench/trivial', Trivial)
