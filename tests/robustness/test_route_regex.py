# SPDX-License-Identifier: GPL-3.0-or-later
"""Route regexes (docs/robustness.md, "REST routes and HTTP filters";
scripts/route_regex.py).  Orthanc compiles a route's regex with
boost::regex at the registration and dies of an invalid one ("Uncaught
exception, stopping now: Unmatched marking parenthesis"), past the script's
try/except.  The plugin checks the pattern first: it must compile with
Python's re, and must not use what Python accepts but boost refuses or reads
otherwise (each listed here was found by registering it in a real Orthanc
1.10.1).  Each raises ValueError, which the script can catch; uncaught, it
refuses the start with OPY0007 and the traceback."""

import json
import re
import sys
from pathlib import Path

import pytest

import harness

from test_startup import REFUSAL_TIMEOUT, refused_with

SCRIPT = Path(__file__).resolve().parent / 'scripts' / 'route_regex.py'

# pattern: what the ValueError says
BAD = {
    # refused by both
    '(': 'missing \\), unterminated subpattern',
    ')': 'unbalanced parenthesis',
    '[': 'unterminated character set',
    '/\\': 'bad escape \\(end of pattern\\)',
    '/a{2,1}': 'min repeat greater than max repeat',
    '/a\\1': 'invalid group reference',
    '/[z-a]': 'bad character range',
    '/[\\d-z]': 'bad character range',
    '/(?<=a+)b': 'look-behind requires fixed-width pattern',
    '/a|*': 'nothing to repeat',
    '/a{1,2}{3}': 'multiple repeat',
    # Python refuses, boost would take (the check is at least as strict)
    '/a(?<name>x)': 'unknown extension',
    # Python takes, boost kills Orthanc
    '/a(?P<name>x)': r'\(\?P\.\.\.\) .* refused by boost',
    '/(?P<n>x)(?P=n)': r'\(\?P\.\.\.\)',
    '/a\\N{LATIN SMALL LETTER A}': r'\\N\{name\} is Python',
    '/[\\N{LATIN SMALL LETTER A}]': r'\\N\{name\} is Python',
    '(?a)/x': 'the flags a, u and L are Python',
    '(?u)/x': 'the flags a, u and L are Python',
    '/(?a:x)': 'the flags a, u and L are Python',
    # Python takes, boost reads otherwise
    '/a{,3}': r'\{,n\} repeats 0 to n times in Python',
    '/[[:alpha:]]': 'POSIX classes',
    '/\\u0041': r'\\uXXXX and \\UXXXXXXXX',
    '/[\\U00000041]': r'\\uXXXX and \\UXXXXXXXX',
}
# \z: Python refuses it up to 3.13; 3.14 reads it as boost does (the end of
# the text)
if sys.version_info < (3, 14):
    BAD['/a\\z'] = 'bad escape'
# (pattern, uri, groups): what both engines read alike still works
GOOD = [
    ('(?i)/good/x', '/good/X', []),
    ('/good/(a)(?(1)b|c)', '/good/ab', ['a']),
    ('/good/a++', '/good/aa', []),
    ('/good/[]a]+', '/good/]a', []),
    ('/good/(?:x|y)\\d{1,3}', '/good/y12', []),
    ('/good/api/{id}', '/good/api/{id}', []),
    ('/good/([^/]+)/(.*)', '/good/p/q/r', ['p', 'q/r']),
]
if sys.version_info >= (3, 14):
    GOOD.append(('/good/z\\z', '/good/z', []))


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    script = SCRIPT.read_text()
    script = script.replace('@BAD@', repr(json.dumps(sorted(BAD)))).replace(
        '@GOOD@', repr(json.dumps([p for p, _u, _g in GOOD])))
    return orthanc_factory(script=script, script_name='route_regex.py')


@pytest.mark.parametrize('register', ['RegisterRestCallback', 'RegisterChunkedRestCallback'])
def test_invalid_patterns_raise_catchable_value_error(srv, register):
    results = srv.get_json('/regex-report')
    for pattern, message in sorted(BAD.items()):
        kind, text = results['%s %s' % (register, pattern)]
        assert kind == 'ValueError', (pattern, kind, text)
        assert text.startswith('pathRegularExpression %r' % pattern), (pattern, text)
        assert re.search(message, text), (pattern, text)
    assert srv.count_log(r'Uncaught exception|OPY0010') == 0


@pytest.mark.parametrize('pattern,uri,groups', GOOD)
def test_valid_patterns_still_route(srv, pattern, uri, groups):
    status, _headers, body = srv.get(uri)
    assert status == 200, (pattern, status, body)
    assert json.loads(body) == {'groups': groups}


UNCAUGHT = '''import orthanc

def cb(output, uri, **request):
    output.AnswerBuffer(b'never', 'text/plain')

orthanc.RegisterRestCallback('/fine', cb)
orthanc.RegisterRestCallback(%r, cb)
'''


@pytest.mark.parametrize('pattern', ['(', '/a(?P<name>x)', '/a{,3}'])
def test_uncaught_refuses_the_start_with_opy0007(orthanc_factory, pattern):
    srv = orthanc_factory(start=False, script=UNCAUGHT % pattern, script_name='bad_route.py')
    text = srv.start_expect_failure(timeout=REFUSAL_TIMEOUT)
    assert srv.returncode > 0
    refused_with(srv, text, r'OPY0007 .*\(script bad_route\.py\)',
                 r'^Traceback \(most recent call last\):',
                 r'bad_route\.py", line 7, in <module>',
                 r'^ValueError: pathRegularExpression ')
    # the plugin's refusal, not boost's exception
    assert 'error occurred while parsing the regular expression' not in text
    assert 'Unmatched marking parenthesis' not in text
