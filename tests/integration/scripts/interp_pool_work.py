# SPDX-License-Identifier: GPL-3.0-or-later
# The seed page's SlowComputation, for interp_pool.py: no orthanc here.
import math
import time


def SlowComputation():
    start = time.time()
    for i in range(100):
        for j in range(30000):
            math.sqrt(float(j))
    end = time.time()
    duration = (end - start)
    return 'computation done in %.03f seconds\n' % duration
