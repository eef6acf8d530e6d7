# SPDX-License-Identifier: GPL-3.0-or-later
# Route regexes that Orthanc's engine (boost::regex) refuses or reads
# otherwise (tests/robustness/test_route_regex.py): each registration must
# raise a Python exception the script catches, the good ones must work.
import json

import orthanc

BAD = json.loads(@BAD@)
GOOD = json.loads(@GOOD@)
results = {}


def answer(output, uri, **request):
    output.AnswerBuffer(json.dumps({'groups': list(request['groups'])}), 'application/json')


for pattern in BAD:
    for register in ('RegisterRestCallback', 'RegisterChunkedRestCallback'):
        try:
            if register == 'RegisterRestCallback':
                orthanc.RegisterRestCallback(pattern, answer)
            else:
                orthanc.RegisterChunkedRestCallback(pattern, getHandler=answer)
            results['%s %s' % (register, pattern)] = ['registered', '']
        except Exception as e:
            results['%s %s' % (register, pattern)] = [type(e).__name__, str(e)]

for pattern in GOOD:
    orthanc.RegisterRestCallback(pattern, answer)


def report(output, uri, **request):
    output.AnswerBuffer(json.dumps(results), 'application/json')


orthanc.RegisterRestCallback('/regex-report', report)
