# SPDX-License-Identifier: GPL-3.0-or-later
import orthanc


def compute():
    return 1 / 0


VALUE = compute()
