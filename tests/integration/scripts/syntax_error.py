# SPDX-License-Identifier: GPL-3.0-or-later
import orthanc

def Broken(:
    pass
