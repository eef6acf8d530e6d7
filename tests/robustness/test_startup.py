# SPDX-License-Identifier: GPL-3.0-or-later
"""Start-up robustness (docs/robustness.md, "Start-up"): every unusable
script refuses the start with its message id, never a hang or a crash; an
import that fails (SyntaxError, exception, sys.exit(), KeyboardInterrupt)
refuses the start with OPY0007 and the traceback; the core REST API called
while the script is imported raises a clear orthanc.OrthancException.

The tests run as root: root reads a chmod 000 file even in a chmod 000
directory, so "unreadable" is tested with what root cannot read either (a
FIFO, which would block Python's import forever, a dangling symlink, a
symlink loop), and with a chmod 000 file only when not root."""

import os
import re
import stat

import pytest

import harness

REFUSAL_TIMEOUT = 20        # a refusal must come well within this (no hang)


def refuse(orthanc_factory, **kw):
    srv = orthanc_factory(start=False, **kw)
    text = srv.start_expect_failure(timeout=REFUSAL_TIMEOUT)
    assert srv.returncode not in (0, None)
    assert srv.returncode > 0, 'Orthanc died of signal %d' % -srv.returncode
    return srv, text


def assert_logged(srv, text, regex):
    if not re.search(regex, text, re.MULTILINE):
        srv.fail('log does not match %r' % regex)


def refused_with(srv, text, msg_id, *more):
    assert_logged(srv, text, harness.line(msg_id + r'.*', 'E'))
    for regex in more:
        assert_logged(srv, text, regex)
    # the plugin's refusal is what stops Orthanc (no crash, no other error)
    assert_logged(srv, text, r'Error while initializing plugin')
    assert 'Segmentation' not in text and 'Aborted' not in text


# ------------------------------------------------------------ the script file

def test_missing(orthanc_factory, tmp_path):
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(tmp_path / 'no' / 'such.py')})
    refused_with(srv, text, 'OPY0002', r'such\.py.*No such file or directory')


def test_directory(orthanc_factory, tmp_path):
    (tmp_path / 'dir.py').mkdir()
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(tmp_path / 'dir.py')})
    refused_with(srv, text, 'OPY0003', r'is a directory')


def test_not_py(orthanc_factory):
    srv, text = refuse(orthanc_factory, script="print('MUST NOT RUN')\n", script_name='plugin.txt')
    refused_with(srv, text, 'OPY0004', r'not a \.py file')
    assert 'MUST NOT RUN' not in text


NAMED_ORTHANC_PY = """import sys
import orthanc
import orthanc as again

print('ORTHANC-PY name=%s builtin=%s same=%s in-modules=%s' % (
    __name__, hasattr(orthanc, 'RegisterRestCallback'), again is orthanc,
    sys.modules.get(__name__) is not None and sys.modules['orthanc'] is orthanc))

def hello(output, uri, **request):
    import orthanc as inside
    output.AnswerBuffer(('%s %s' % (__name__, inside.RegisterRestCallback is not None)).encode(),
                        'text/plain')

orthanc.RegisterRestCallback('/orthanc-py', hello)
"""


def test_named_orthanc_py(orthanc_factory):
    # A valid script: it used to be refused (OPY0005). It is imported as
    # _orthanc_script, and "import orthanc" still gives the built-in module.
    srv = orthanc_factory(script=NAMED_ORTHANC_PY, script_name='orthanc.py')
    srv.wait_out(harness.bare('ORTHANC-PY name=_orthanc_script builtin=True same=True in-modules=True'))
    assert srv.get('/orthanc-py')[2] == b'_orthanc_script True'
    assert 'OPY0005' not in srv.log_text()
    assert srv.stop() == 0


def test_fifo_does_not_hang(orthanc_factory, tmp_path):
    # Python's import would wait forever for a writer: refused at once.
    fifo = tmp_path / 'fifo.py'
    os.mkfifo(fifo)
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(fifo)})
    refused_with(srv, text, 'OPY0026', r'fifo\.py.*not a regular file')


def test_character_device(orthanc_factory, tmp_path):
    # (a symlink to /dev/null would be refused as "not a .py file": the
    # checks apply to the resolved path)
    if os.geteuid() != 0:
        pytest.skip('mknod needs root')
    dev = tmp_path / 'null.py'
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(dev)})
    refused_with(srv, text, 'OPY0026', r'not a regular file')


def test_dangling_symlink(orthanc_factory, tmp_path):
    link = tmp_path / 'dangling.py'
    os.symlink(tmp_path / 'gone.py', link)
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(link)})
    refused_with(srv, text, 'OPY0002', r'No such file or directory')


def test_symlink_loop(orthanc_factory, tmp_path):
    os.symlink(tmp_path / 'b.py', tmp_path / 'a.py')
    os.symlink(tmp_path / 'a.py', tmp_path / 'b.py')
    srv, text = refuse(orthanc_factory, config={'PythonScript': str(tmp_path / 'a.py')})
    refused_with(srv, text, 'OPY0002', r'Too many levels of symbolic links')


def test_mode_000(orthanc_factory, tmp_path):
    locked = tmp_path / 'locked'
    locked.mkdir()
    script = locked / 'secret.py'
    script.write_text("print('SECRET SCRIPT RAN')\n")
    script.chmod(0)
    locked.chmod(0)
    try:
        if os.geteuid() == 0:
            # root (CAP_DAC_OVERRIDE) reads it anyway: the script runs
            srv = orthanc_factory(config={'PythonScript': str(script)})
            srv.wait_out(harness.bare('SECRET SCRIPT RAN'))
            assert srv.stop() == 0
        else:
            srv, text = refuse(orthanc_factory, config={'PythonScript': str(script)})
            refused_with(srv, text, 'OPY0002|OPY0026', r'Permission denied')
    finally:
        locked.chmod(0o700)


# ------------------------------------------------------------ the import

IMPORT_FAILURES = {
    'syntax_error': ("def broken(:\n    pass\n", r'SyntaxError'),
    'exception': ("import orthanc\n\ndef f():\n    return {}['nokey']\n\nf()\n",
                  r'KeyError: .nokey.'),
    'sys_exit_0': ("import sys\nsys.exit(0)\n", r'SystemExit: 0'),
    'sys_exit_3': ("import sys\nsys.exit(3)\n", r'SystemExit: 3'),
    'keyboard_interrupt': ("raise KeyboardInterrupt\n", r'KeyboardInterrupt'),
    'base_exception': ("class Odd(BaseException):\n    pass\nraise Odd('odd one')\n",
                       r'Odd: odd one'),
    'unicode_error': (b"x = '\xff\xfe'\n", r'SyntaxError.*(?i:utf-8)|UnicodeDecodeError'),
    'null_byte': (b"x = 1\x00\n", r'SyntaxError.*null|ValueError.*null'),
}


@pytest.mark.parametrize('case', sorted(IMPORT_FAILURES))
def test_import_failure_refuses(orthanc_factory, case):
    source, regex = IMPORT_FAILURES[case]
    name = 'failing_%s.py' % case
    srv = orthanc_factory(start=False, script=None, config={})
    path = srv.write_file(name, source)
    srv.overrides['PythonScript'] = str(path)
    text = srv.start_expect_failure(timeout=REFUSAL_TIMEOUT)
    assert srv.returncode > 0
    refused_with(srv, text, r'OPY0007 .*\(script %s\)' % re.escape(name), regex)
    if case not in ('syntax_error', 'unicode_error', 'null_byte'):
        assert_logged(srv, text, r'^Traceback \(most recent call last\):')
        assert_logged(srv, text, r'File "[^"]*%s", line \d+' % re.escape(name))


# ------------------------------------------------------------ core API at import

CORE_AT_IMPORT = r'''
import orthanc

def attempt(label, call):
    try:
        call()
        print('IMPORT-CALL %s answered' % label)
    except orthanc.OrthancException as e:
        orthanc.LogWarning('IMPORT-CALL %s OrthancException %r' % (label, e.args))

attempt('RestApiGet', lambda: orthanc.RestApiGet('/system'))
attempt('RestApiPost', lambda: orthanc.RestApiPost('/tools/find', '{"Level": "Patient", "Query": {}}'))
attempt('RestApiGetAfterPlugins', lambda: orthanc.RestApiGetAfterPlugins('/instances'))
attempt('RestApiDelete', lambda: orthanc.RestApiDelete('/patients/nothing'))
attempt('GetDicomForInstance', lambda: orthanc.GetDicomForInstance('nothing'))

def hello(output, uri, **request):
    output.AnswerBuffer(b'alive', 'text/plain')

orthanc.RegisterRestCallback('/import-time/alive', hello)
'''


def test_core_api_at_import_caught(orthanc_factory):
    # The core is not ready during the import: each call raises at once
    # (no hang) with Orthanc's code 2038; the script catches it and starts.
    srv = orthanc_factory(script=CORE_AT_IMPORT, script_name='core_at_import.py')
    for label in ('RestApiGet', 'RestApiPost', 'RestApiGetAfterPlugins', 'RestApiDelete',
                  'GetDicomForInstance'):
        srv.wait_log(harness.line(
            r'IMPORT-CALL %s OrthancException \(2038, .Plugin trying to call the database '
            r'during its initialization.\)' % label, 'W'), timeout=5)
    assert srv.get('/import-time/alive')[2] == b'alive'
    assert srv.stop() == 0


def test_core_api_at_import_uncaught(orthanc_factory):
    srv, text = refuse(orthanc_factory, script="import orthanc\northanc.RestApiGet('/system')\n",
                       script_name='core_uncaught.py')
    refused_with(srv, text, r'OPY0007 .*\(script core_uncaught\.py\)',
                 r'^Traceback \(most recent call last\):',
                 r'core_uncaught\.py", line 2, in <module>',
                 r"^orthanc\.OrthancException: \(2038, 'Plugin trying to call the database "
                 r"during its initialization'\)")


# ------------------------------------------------------------ configuration types

WRONG_TYPES = {
    'number': (42, 'a number'),
    'array': (['x.py'], 'an array'),
    'object': ({'Path': 'x.py'}, 'an object'),
    'true': (True, 'a boolean'),
    'null': (None, 'null'),
}
STRING_KEYS = ['PythonScript', 'Python.Path', 'Python.VirtualEnv']
BOOL_KEYS = ['PythonVerbose', 'Python.Verbose', 'Python.AllowThreads',
             'Python.DisplayMemoryUsage', 'Python.LogOutput', 'Python.DevelopmentMode']
LIST_KEYS = ['Python.Scripts', 'Python.PythonPath']


def _config_with(key, value, script_path):
    if key.startswith('Python.'):
        section = {key.split('.', 1)[1]: value}
        if key != 'Python.Path':
            section['Path'] = str(script_path)
        return {'Python': section}
    cfg = {key: value}
    if key != 'PythonScript':
        cfg['PythonScript'] = str(script_path)
    return cfg


@pytest.mark.parametrize('key,kind', [(k, t) for k in STRING_KEYS + BOOL_KEYS for t in sorted(WRONG_TYPES)
                                      if not (k in BOOL_KEYS and t == 'true')]
                         + [(k, 'string') for k in BOOL_KEYS + LIST_KEYS]
                         + [(k, t) for k in LIST_KEYS for t in ('number', 'object', 'null')]
                         + [('Python', 'number'), ('Python', 'array')])
def test_wrong_type_refuses(orthanc_factory, key, kind):
    # "PythonScript": 42 used to start Orthanc without the script, silently.
    value, found = WRONG_TYPES.get(kind, ('yes', 'a string'))
    srv = orthanc_factory(start=False, script="print('MUST NOT RUN')\n", script_name='typed.py',
                          script_key=False)
    srv.overrides.update(_config_with(key, value, srv.script_path) if key != 'Python' else {key: value})
    text = srv.start_expect_failure(timeout=REFUSAL_TIMEOUT)
    expected = {'Python': 'an object'}.get(key, 'a string' if key in STRING_KEYS else
                                           'a list of strings' if key in LIST_KEYS else 'true or false')
    refused_with(srv, text, 'OPY0029', r'OPY0029 configuration option "%s" must be %s, not %s' % (
        re.escape(key), expected, re.escape(found)))
    assert 'MUST NOT RUN' not in srv.out_text()


def test_list_with_a_non_string_refuses(orthanc_factory):
    srv = orthanc_factory(start=False, script="print('MUST NOT RUN')\n", script_name='typed.py')
    srv.overrides.update({'Python': {'Path': str(srv.script_path), 'Scripts': ['typed.py', 3]}})
    text = srv.start_expect_failure(timeout=REFUSAL_TIMEOUT)
    refused_with(srv, text, 'OPY0029', r'OPY0029 configuration option "Python.Scripts" must be a list '
                 r'of strings, not a list with an item that is not a string')
    assert 'MUST NOT RUN' not in srv.out_text()
