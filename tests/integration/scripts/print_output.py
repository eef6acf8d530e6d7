# SPDX-License-Identifier: GPL-3.0-or-later
# print() and sys.stdout / sys.stderr (tests/integration/test_print_output.py):
# partial lines, flush, a 10 MB print, a route that needs the GIL meanwhile.
import sys

import orthanc

MB = 1024 * 1024


def Write(output, uri, **request):
    # write the body of the POST, as it is (no newline added, no flush)
    stream = getattr(sys, request['groups'][0])
    stream.write(request['body'].decode('utf-8'))
    output.AnswerBuffer('written', 'text/plain')


def Flush(output, uri, **request):
    getattr(sys, request['groups'][0]).flush()
    output.AnswerBuffer('flushed', 'text/plain')


def Big(output, uri, **request):
    # 10 MB in one line: 8-digit numbers in sequence, between two small lines
    print('big-before')
    print('BIG<' + ''.join('%08d' % i for i in range(10 * MB // 8)) + '>END')
    print('big-after')
    output.AnswerBuffer('printed', 'text/plain')


def Ping(output, uri, **request):
    output.AnswerBuffer('pong', 'text/plain')


orthanc.RegisterRestCallback('/print/write/(stdout|stderr)', Write)
orthanc.RegisterRestCallback('/print/flush/(stdout|stderr)', Flush)
orthanc.RegisterRestCallback('/print/big', Big)
orthanc.RegisterRestCallback('/print/ping', Ping)
