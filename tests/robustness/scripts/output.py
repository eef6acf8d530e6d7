# SPDX-License-Identifier: GPL-3.0-or-later
# Output robustness (tests/robustness/test_output.py): huge prints, lone
# surrogates (what surrogateescape makes of bytes that are not UTF-8), NUL
# and control characters through print(), sys.stderr, the logging module and
# orthanc.Log*.
import json
import logging
import sys
import time

import orthanc

MB = 1024 * 1024
# a named logger without handler: its records go to logging.lastResort, the
# plugin's orthanc.LogHandler (the module-level logging.warning() would
# configure a stderr handler on the root logger instead)
LOGGER = logging.getLogger('robustness')


def outcome(call):
    try:
        call()
        return ['returned', '']
    except Exception as e:
        return [type(e).__name__, str(e)]


def Big(output, uri, **request):
    kind = request['groups'][0]
    t0 = time.monotonic()
    if kind == 'line':          # one line of 10 MB
        print('BIG-LINE<' + 'x' * (10 * MB) + '>END')
    elif kind == 'lines':       # 10 MB of 100-byte lines, in one call
        sys.stdout.write(''.join('BIG-LINES %08d %s\n' % (i, 'y' * 81) for i in range(10 * MB // 100)))
    elif kind == 'stderr':
        sys.stderr.write('BIG-ERR<' + 'z' * (10 * MB) + '>END\n')
    elif kind == 'logwarning':
        orthanc.LogWarning('BIG-WARN<' + 'w' * (10 * MB) + '>END')
    elif kind == 'logging':
        LOGGER.warning('BIG-LOGGING<%s>END', 'l' * (10 * MB))
    output.AnswerBuffer(json.dumps({'seconds': time.monotonic() - t0}), 'application/json')


orthanc.RegisterRestCallback('/output/big/(line|lines|stderr|logwarning|logging)', Big)


def Ping(output, uri, **request):       # needs the GIL: answers only if the big print released it
    output.AnswerBuffer(b'pong', 'text/plain')


orthanc.RegisterRestCallback('/output/ping', Ping)

# \udcff\udcfe: what surrogateescape makes of the bytes ff fe
CASES = {
    'print_surrogates': lambda: print('SURR-PRINT a\udcff\udcfeb end'),
    'stderr_surrogates': lambda: sys.stderr.write('SURR-STDERR a\udcffb end\n'),
    'logging_surrogates': lambda: LOGGER.warning('SURR-LOGGING a\udcffb %s end', '\udcfe'),
    'logwarning_surrogates': lambda: orthanc.LogWarning('SURR-LOGWARNING a\udcffb end'),
    'print_nul': lambda: print('NUL-PRINT a\x00b end'),
    'stderr_nul': lambda: sys.stderr.write('NUL-STDERR a\x00b\x00 end\n'),
    'logging_nul': lambda: LOGGER.error('NUL-LOGGING a\x00b %s end', '\x00'),
    'logwarning_nul': lambda: orthanc.LogWarning('NUL-LOGWARNING a\x00b end'),
    'logerror_nul': lambda: orthanc.LogError('NUL-LOGERROR a\x00b end'),
    'loginfo_nul': lambda: orthanc.LogInfo('NUL-LOGINFO a\x00b end'),
    'logwarning_bytes': lambda: orthanc.LogWarning(b'BYTES-LOGWARNING \xff end'),
    'print_controls': lambda: print('CTRL-PRINT a\x1b[31mb\x07c\rd end'),
    'print_unicode': lambda: print('UNICODE-PRINT caf\u00e9 \u4e2d \U0001f600 end'),
    'print_bytes': lambda: print(b'BYTES-PRINT \xff\x00'),
    'stdout_write_bytes': lambda: sys.stdout.write(b'x'),
}


def Strange(output, uri, **request):
    result = {name: outcome(call) for name, call in sorted(CASES.items())}
    sys.stdout.flush()
    sys.stderr.flush()
    output.AnswerBuffer(json.dumps(result), 'application/json')


orthanc.RegisterRestCallback('/output/strange', Strange)
