# SPDX-License-Identifier: GPL-3.0-or-later
print('memory-usage script loaded')
