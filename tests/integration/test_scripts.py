# SPDX-License-Identifier: GPL-3.0-or-later
"""Several scripts (README "Several scripts"): "Python.Scripts" imports each
script as its own module, in order (after PythonScript / Python.Path), in one
interpreter:

- the Register... calls of every script take effect (routes of both, both
  stored-instance callbacks, both change callbacks);
- a later script sees the earlier ones as modules (same interpreter);
- the log names the script of a callback's error;
- a script that fails at import stops Orthanc, named, with its traceback;
- the same REST route in two scripts is refused at start, both named;
- two scripts with the same module name are refused.
"""

import re
import time

import dicomgen
import harness

A = '''
import orthanc
ORDER = ["a"]
seen = []

def route(output, uri, **request):
    output.AnswerBuffer("a:" + ",".join(seen), "text/plain")

def stored(dicom, instance_id):
    seen.append("stored-a")

def changes(change_type, level, resource):
    if change_type == orthanc.ChangeType.NEW_INSTANCE:
        seen.append("change-a")

def fails(output, uri, **request):
    raise ValueError("failure in a")

orthanc.RegisterRestCallback("/multi/a", route)
orthanc.RegisterRestCallback("/multi/a-fails", fails)
orthanc.RegisterOnStoredInstanceCallback(stored)
orthanc.RegisterOnChangeCallback(changes)
'''

B = '''
import orthanc
import a                       # the first script, already imported
a.ORDER.append("b")
seen = []

def route(output, uri, **request):
    output.AnswerBuffer("b:%s:%s:%s" % (__name__, ",".join(a.ORDER), ",".join(seen)), "text/plain")

def stored(dicom, instance_id):
    seen.append("stored-b")

def changes(change_type, level, resource):
    if change_type == orthanc.ChangeType.NEW_INSTANCE:
        seen.append("change-b")

def fails(output, uri, **request):
    raise KeyError("failure in b")

def no_answer(output, uri, **request):
    pass

orthanc.RegisterRestCallback("/multi/b", route)
orthanc.RegisterRestCallback("/multi/b-fails", fails)
orthanc.RegisterRestCallback("/multi/b-silent", no_answer)
orthanc.RegisterOnStoredInstanceCallback(stored)
orthanc.RegisterOnChangeCallback(changes)
'''

MAIN = '''
import orthanc
MAIN_LOADED = True
orthanc.RegisterRestCallback("/multi/main", lambda o, u, **r: o.AnswerBuffer("main", "text/plain"))
'''


def make(orthanc_factory, files, python, start=True):
    srv = orthanc_factory(None, start=False, config={'Python': python})
    for name, text in files.items():
        srv.write_file(name, text)
    if start:
        srv.start()
    return srv


def test_every_script_registers(orthanc_factory):
    srv = make(orthanc_factory, {'main.py': MAIN, 'a.py': A, 'b.py': B},
               {'Path': 'main.py', 'Scripts': ['a.py', 'b.py']})
    for name in ('main.py', 'a.py', 'b.py'):
        srv.wait_log(r'OPY0008 Using Python script "%s"' % re.escape(name))
    assert srv.get('/multi/main')[2] == b'main'
    assert srv.get('/multi/b')[2] == b'b:b:a,b:'
    srv.upload(dicomgen.make_instance(patient_id='MULTI-1'))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        a_text = srv.get('/multi/a')[2].decode()
        b_text = srv.get('/multi/b')[2].decode()
        if 'change-a' in a_text and 'change-b' in b_text:
            break
        time.sleep(0.1)
    # (the change thread and the stored-instance callback run independently)
    assert sorted(a_text[2:].split(',')) == ['change-a', 'stored-a']
    assert b_text.startswith('b:b:a,b:')
    assert sorted(b_text[8:].split(',')) == ['change-b', 'stored-b']

    # the log names the script of each failing callback
    status, _, body = srv.get('/multi/a-fails')
    assert status == 500 and b'failure in a' in body
    status, _, body = srv.get('/multi/b-fails')
    assert status == 500 and b'failure in b' in body
    srv.wait_log(r'OPY0010 Exception in REST callback /multi/a-fails \(GET /multi/a-fails\) \(script a\.py\)')
    srv.wait_log(r'OPY0010 Exception in REST callback /multi/b-fails \(GET /multi/b-fails\) \(script b\.py\)')
    assert srv.get('/multi/b-silent')[0] == 500
    srv.wait_log(r'OPY0011 REST callback /multi/b-silent \(script b\.py\)')
    assert srv.stop() == 0


def test_scripts_without_path(orthanc_factory):
    srv = make(orthanc_factory, {'a.py': A, 'b.py': B}, {'Scripts': ['a.py', 'b.py']})
    assert srv.get('/multi/b')[2] == b'b:b:a,b:'
    assert srv.stop() == 0


def test_failing_import_names_the_script(orthanc_factory):
    broken = 'import orthanc\n\ndef f():\n    return 1 / 0\n\nf()\n'
    srv = make(orthanc_factory, {'a.py': A, 'broken.py': broken},
               {'Scripts': ['a.py', 'broken.py']}, start=False)
    text = srv.start_expect_failure()
    assert re.search(r'OPY0007 Exception in the import of the script broken\.py \(Orthanc will not '
                     r'start\) \(script broken\.py\)', text), text
    assert 'ZeroDivisionError' in text and 'broken.py", line 4' in text


def test_same_route_in_two_scripts_is_refused(orthanc_factory):
    other = 'import orthanc\northanc.RegisterRestCallback("/multi/a", lambda o, u, **r: None)\n'
    srv = make(orthanc_factory, {'a.py': A, 'c.py': other}, {'Scripts': ['a.py', 'c.py']},
               start=False)
    text = srv.start_expect_failure()
    assert ('OPY0045 the REST route /multi/a is registered by two scripts: a.py (RegisterRestCallback) '
            'and c.py (RegisterRestCallback)') in text, text


def test_same_route_plain_and_chunked_is_refused(orthanc_factory):
    chunked = ('import orthanc\n'
               'orthanc.RegisterChunkedRestCallback("/multi/a", getHandler=lambda o, u, **r: None)\n')
    srv = make(orthanc_factory, {'a.py': A, 'd.py': chunked}, {'Scripts': ['a.py', 'd.py']},
               start=False)
    text = srv.start_expect_failure()
    assert ('OPY0045 the REST route /multi/a is registered by two scripts: a.py (RegisterRestCallback) '
            'and d.py (RegisterChunkedRestCallback)') in text, text


def test_same_module_name_is_refused(orthanc_factory):
    srv = make(orthanc_factory, {'a.py': A, 'sub/a.py': A}, {'Scripts': ['a.py', 'sub/a.py']},
               start=False)
    text = srv.start_expect_failure()
    assert 'OPY0044' in text and 'module "a"' in text, text


def test_missing_script_in_list_is_refused(orthanc_factory):
    srv = make(orthanc_factory, {'a.py': A}, {'Scripts': ['a.py', 'nope.py']}, start=False)
    text = srv.start_expect_failure()
    assert 'OPY0002' in text and 'nope.py' in text


def test_log_output_names_the_script_that_prints(orthanc_factory):
    # Python.LogOutput with several scripts: each line says which script printed it
    one = ('import orthanc\n'
           'print("printed at the import of one")\n'
           'def route(output, uri, **request):\n'
           '    print("printed by the route of one")\n'
           '    output.AnswerBuffer("ok", "text/plain")\n'
           'orthanc.RegisterRestCallback("/log-one", route)\n')
    two = ('import sys\n'
           'import textwrap\n'
           'print("printed at the import of two")\n'
           'sys.stderr.write("an error line of two\\n")\n'
           'def helper():\n'
           '    print(textwrap.dedent("  printed through a helper of two"))\n'
           'helper()\n')
    srv = make(orthanc_factory, {'one.py': one, 'two.py': two},
               {'Scripts': ['one.py', 'two.py'], 'LogOutput': True})
    assert srv.get('/log-one')[0] == 200
    srv.wait_log(r'\[one\.py\] printed by the route of one$')
    for line in (r'\[one\.py\] printed at the import of one$', r'\[two\.py\] printed at the import of two$',
                 r'\[two\.py\] printed through a helper of two$', r'\[two\.py\] an error line of two$'):
        srv.wait_log(line)
    assert srv.count_log(r'\[one\.py, two\.py\]') == 0
