# SPDX-License-Identifier: GPL-3.0-or-later
"""POST /tools/reset makes Orthanc restart in the same process and reload its
plugins (the library itself stays loaded): Python starts afresh, the script
is imported again, routes and change callbacks work once, not twice, and
SDK calls work again."""

import time

import dicomgen


def wait_answer(srv, path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, body = srv.get(path, timeout=5)
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.2)
    srv.fail('%s did not answer after the reset' % path)


def test_reset_restarts_python_cleanly(orthanc_factory):
    srv = orthanc_factory(orthanc_factory.script('reset.py'))
    assert srv.get('/reset-test/hello')[2] == b'hello 1 {'
    for round_ in (2, 3):
        mark = srv.log_mark()
        assert srv.post('/tools/reset', b'')[0] == 200
        srv.wait_log(r'reset-test: started', since=mark, timeout=30)
        # a fresh interpreter: the counter starts again, core calls work
        assert wait_answer(srv, '/reset-test/hello') == b'hello 1 {'
        iid = srv.upload(dicomgen.make_instance(patient_id='RESET-%d' % round_))['ID']
        srv.wait_log(r'reset-test: new instance %s' % iid, since=mark)
        assert srv.count_log(r'reset-test: new instance %s' % iid, since=mark) == 1
        assert srv.count_log(r'reset-test: started', since=mark) == 1
        assert srv.count_log(r'OPY00(0[2-7]|10|11)', since=mark) == 0
    assert srv.stop() == 0
