# SPDX-License-Identifier: GPL-3.0-or-later
"""print() and sys.stdout / sys.stderr (README "What the script sees",
design "Output and logging"), read on Orthanc's real standard output and
standard error, at Orthanc's DEFAULT verbosity (no --verbose):

- the seed samples that print give bare lines on stdout, exactly what the
  documentation shows ("Hello world!", "Started", ...), in order, and none
  of them is a log line;
- sys.stderr goes to Orthanc's standard error (not to the log);
- line-buffered: every complete line comes out at once, a partial line
  waits for the next newline, flush() or the stop;
- a 10 MB print arrives whole and in order, and the GIL is released while
  the write blocks (a full pipe);
- "Python.LogOutput": true makes them log lines "[script.py] text"
  (warning / error), in the log file of --logfile;
- the logging module keeps Orthanc's levels (info only with --verbose).
"""

import io
import re
import threading
import time

import pydicom
import pytest

import dicomgen
import harness

MB = 1024 * 1024
SCRIPT = harness.SCRIPTS / 'print_output.py'


def quiet(orthanc_factory, script, **kw):
    """A server at Orthanc's default verbosity."""
    kw.setdefault('verbose', False)
    return orthanc_factory(script, **kw)


def log_has_no_info_lines(srv):
    return harness.log_messages(srv.log_text(), 'I') == []


# ------------------------------------------------------------ seed samples

def test_hello_world(orthanc_factory):
    srv = quiet(orthanc_factory, orthanc_factory.script('hello.py'))
    srv.wait_out(harness.bare('Hello world!'))
    assert srv.out_text() == 'Hello world!\n'
    assert log_has_no_info_lines(srv)               # default verbosity indeed
    assert 'Hello world!' not in srv.log_text()
    assert srv.stop() == 0
    assert srv.out_text() == 'Hello world!\n'


def test_listening_to_changes(orthanc_factory):
    srv = quiet(orthanc_factory, orthanc_factory.script('changes.py'), start=False)
    sample = srv.write_file('sample.dcm', dicomgen.make_instance(patient_id='PRINT-CHANGES'))
    srv.extra_subst['SAMPLE_DCM'] = str(sample)
    srv.start()
    m = srv.wait_out(harness.bare(r'A new instance was uploaded: ([0-9a-f-]+)'), timeout=15)
    instance = m.group(1)
    assert srv.get_json('/instances') == [instance]
    assert srv.stop() == 0
    assert srv.out_lines() == ['Started', 'A new instance was uploaded: %s' % instance, 'Stopped']
    assert 'Started' not in srv.log_text()


def test_accessing_the_content_of_a_new_instance(orthanc_factory):
    srv = quiet(orthanc_factory, orthanc_factory.script('stored_instance.py'))
    dicom = dicomgen.make_instance(patient_id='PRINT-STORED')
    sop = pydicom.dcmread(io.BytesIO(dicom)).SOPClassUID
    iid = srv.upload(dicom)['ID']
    srv.wait_out(r"^ 'PatientID': 'PRINT-STORED',$")
    srv.wait_out(r'^ .*\}$')                        # the end of the pprint'ed dict
    lines = srv.out_lines()
    assert lines[0] == ('Received instance %s of size %d (transfer syntax 1.2.840.10008.1.2.1, '
                        'SOP class UID %s)' % (iid, len(dicom), sop))
    assert lines[1] == 'This instance was received through the REST API'
    assert lines[2].startswith('{')
    assert lines[-1].endswith('}')
    assert "'PatientID': 'PRINT-STORED'" not in srv.log_text()
    assert srv.stop() == 0


def test_catching_exceptions(orthanc_factory):
    srv = quiet(orthanc_factory, orthanc_factory.script('catching_exceptions.py'))
    srv.wait_out(harness.bare('True'), timeout=15)
    assert srv.out_lines() == ["(17, 'Unknown resource')", '17', 'Unknown resource', 'True']
    assert srv.stop() == 0


def test_inspecting_the_available_api(orthanc_factory):
    srv = quiet(orthanc_factory, orthanc_factory.script('inspect_api.py'))
    lines = srv.out_lines()                         # printed during the import
    assert 'Function ComputeMd5():' in lines
    assert 'Class DicomInstance:' in lines
    assert any(re.fullmatch(r'  - Enumeration value STABLE_STUDY: \d+', m) for m in lines)
    assert lines[lines.index('Function ComputeMd5():') + 1] == '  Documentation: Compute an MD5 hash.'
    assert 'Function ComputeMd5():' not in srv.log_text()
    assert srv.stop() == 0


# ------------------------------------------------------------ stderr, buffering

@pytest.fixture(scope='module')
def srv(orthanc_factory):
    # --logfile: the log has its file, stderr.txt is Orthanc's bare stderr
    return quiet(orthanc_factory, SCRIPT, logfile=True)


def write(srv, text, stream='stdout'):
    assert srv.post('/print/write/' + stream, text.encode())[:3:2] == (200, b'written')


def flush(srv, stream='stdout'):
    assert srv.get('/print/flush/' + stream)[:3:2] == (200, b'flushed')


def test_stderr_goes_to_orthancs_stderr(srv):
    out, err, log = srv.out_mark(), srv.err_mark(), srv.log_mark()
    write(srv, 'err-line-1\nerr-line-2\n', 'stderr')
    srv.wait_err(harness.bare('err-line-2'), since=err)
    assert srv.err_text(err) == 'err-line-1\nerr-line-2\n'
    assert 'err-line' not in srv.log_text(log)
    assert srv.out_text(out) == ''


def test_partial_line_waits_for_flush(srv):
    out = srv.out_mark()
    write(srv, 'partial-no-newline')
    time.sleep(0.3)
    assert srv.out_text(out) == ''                  # held back: no newline yet
    flush(srv)
    assert srv.out_text(out) == 'partial-no-newline'   # as it is, no newline added
    write(srv, '-continued\nnext-')
    assert srv.out_text(out) == 'partial-no-newline-continued\n'
    write(srv, 'line\n')
    assert srv.out_text(out) == 'partial-no-newline-continued\nnext-line\n'


def test_partial_stderr_line_waits_for_flush(srv):
    err = srv.err_mark()
    write(srv, 'err-partial', 'stderr')
    time.sleep(0.3)
    assert srv.err_text(err) == ''
    flush(srv, 'stderr')
    assert srv.err_text(err) == 'err-partial'


def test_each_line_written_at_once(srv):
    # line-buffered: no flush needed, whatever the amount of text before
    out = srv.out_mark()
    for i in range(5):
        write(srv, 'at-once-%d\n' % i)
        assert srv.out_text(out).splitlines()[-1] == 'at-once-%d' % i


def test_partial_line_written_at_stop(orthanc_factory):
    srv = quiet(orthanc_factory, SCRIPT)
    write(srv, 'before-stop\ntail-at-stop')
    assert srv.out_text() == 'before-stop\n'
    assert srv.stop() == 0
    assert srv.out_text() == 'before-stop\ntail-at-stop'


def test_10mb_print_from_a_rest_callback(srv):
    out = srv.out_mark()
    assert srv.get('/print/big', timeout=60)[:3:2] == (200, b'printed')
    data = srv.stdout_path.read_bytes()[out:]
    check_big(data)


def check_big(data):
    body = ''.join('%08d' % i for i in range(10 * MB // 8))
    expected = ('big-before\nBIG<' + body + '>END\nbig-after\n').encode()
    assert len(data) == len(expected)
    assert data == expected


def test_10mb_print_releases_the_gil_while_blocked(orthanc_factory):
    # stdout is a pipe nobody reads yet: the 10 MB print blocks in write(2);
    # meanwhile another Python callback must run (the GIL is released).
    srv = quiet(orthanc_factory, SCRIPT, stdout_pipe=True)
    result = {}

    def big():
        result['big'] = srv.get('/print/big', timeout=120)[:3:2]

    t = threading.Thread(target=big, daemon=True)
    t.start()
    time.sleep(1.0)
    assert t.is_alive(), 'the print did not block on the full pipe'
    t0 = time.monotonic()
    assert srv.get('/print/ping', timeout=10)[:3:2] == (200, b'pong')
    assert time.monotonic() - t0 < 5
    assert t.is_alive()
    chunks = []

    def drain():
        while True:
            chunk = srv.proc.stdout.read1(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    t.join(60)
    assert result.get('big') == (200, b'printed')
    assert srv.stop() == 0
    reader.join(10)
    srv.proc.stdout.close()
    check_big(b''.join(chunks))


# ------------------------------------------------------------ Python.LogOutput

LOG_OUTPUT_SCRIPT = '''import sys
print('Hello world!')
print('first\\nsecond')
print('to-stderr', file=sys.stderr)
sys.stdout.write('partial')
sys.stdout.flush()
'''


def test_log_output_to_the_log_file(orthanc_factory):
    srv = quiet(orthanc_factory, LOG_OUTPUT_SCRIPT, script_name='my-plugin.py', logfile=True,
                config={'Python': {'LogOutput': True}})
    srv.wait_log(harness.line(r'\[my-plugin\.py\] partial', 'W'))
    assert srv.log_path.is_file()
    text = srv.log_text()
    for message, level in (('Hello world!', 'W'), ('first', 'W'), ('second', 'W'),
                           ('to-stderr', 'E'), ('partial', 'W')):
        assert srv.count_log(harness.line(r'\[my-plugin\.py\] ' + re.escape(message), level)) == 1, \
            (message, text[-2000:])
    assert srv.out_text() == ''
    assert 'Hello world!' not in srv.err_text() and 'to-stderr' not in srv.err_text()
    assert srv.stop() == 0
    assert srv.out_text() == ''


def test_log_output_false_is_the_default(orthanc_factory):
    srv = quiet(orthanc_factory, LOG_OUTPUT_SCRIPT, logfile=True,
                config={'Python': {'LogOutput': False}})
    srv.wait_out('partial')
    assert srv.out_text() == 'Hello world!\nfirst\nsecond\npartial'
    assert srv.err_text() == 'to-stderr\n'
    assert 'Hello world!' not in srv.log_text()
    assert srv.stop() == 0


def test_log_output_wrong_type_refused(orthanc_factory):
    # (every key: tests/robustness/test_startup.py)
    srv = orthanc_factory(LOG_OUTPUT_SCRIPT, start=False, config={'Python': {'LogOutput': 'yes'}})
    text = srv.start_expect_failure(timeout=20)
    assert re.search(r'OPY0029 configuration option "Python\.LogOutput" must be true or false, '
                     r'not a string', text), text[-2000:]
    assert 'Hello world!' not in srv.out_text()


# ------------------------------------------------------------ logging

LOGGING_SCRIPT = '''import logging
import orthanc
root = logging.getLogger()
root.addHandler(orthanc.LogHandler())
root.setLevel(logging.INFO)
logging.info('logging-info-marker')
logging.warning('logging-warning-marker')
logging.error('logging-error-marker')
'''


@pytest.mark.parametrize('verbose', [False, True])
def test_logging_keeps_orthancs_levels(orthanc_factory, verbose):
    srv = quiet(orthanc_factory, LOGGING_SCRIPT, verbose=verbose)
    srv.wait_log(harness.line('logging-error-marker', 'E'))
    assert srv.count_log(harness.line('logging-warning-marker', 'W')) == 1
    assert srv.count_log(harness.line('logging-info-marker', 'I')) == int(verbose)
    assert 'logging-' not in srv.out_text()
    assert srv.stop() == 0


def test_module_level_logging_without_handler_goes_to_stderr(orthanc_factory):
    # logging.warning() with no handler configured installs Python's stderr
    # handler (logging.basicConfig): its lines are sys.stderr text
    srv = quiet(orthanc_factory, 'import logging\nlogging.warning("root-warning-marker")\n',
                logfile=True)
    srv.wait_err(harness.bare('WARNING:root:root-warning-marker'))
    assert 'root-warning-marker' not in srv.log_text()
    assert srv.out_text() == ''
    assert srv.stop() == 0
