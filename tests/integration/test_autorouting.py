# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Auto-routing studies" (scripts/autorouting.py): a stable study
is sent to the modality "sample", here a dcmtk storescp on loopback."""

import io
import shutil
import socket
import subprocess
import time

import pydicom
import pytest

import dicomgen
import harness


@pytest.fixture(scope='module')
def storescp(tmp_path_factory):
    if shutil.which('storescp') is None:
        pytest.skip('dcmtk storescp not installed')
    out = tmp_path_factory.mktemp('storescp')
    port = harness.free_port()
    log = open(out / 'storescp.log', 'wb')
    proc = subprocess.Popen(['storescp', '-aet', 'SAMPLE', '-od', str(out), '-v', str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:  # wait until storescp accepts connections
        assert proc.poll() is None, (out / 'storescp.log').read_text()
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, 'storescp does not listen on %d' % port
            time.sleep(0.1)
    yield {'port': port, 'dir': out, 'proc': proc}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    log.close()


@pytest.fixture(scope='module')
def srv(orthanc_factory, storescp):
    return orthanc_factory(orthanc_factory.script('autorouting.py'), config={
        'StableAge': 1,
        'DicomModalities': {'sample': ['SAMPLE', '127.0.0.1', storescp['port']]},
    })


def received(storescp):
    files = []
    for p in storescp['dir'].iterdir():
        if p.is_file() and p.name != 'storescp.log':
            try:
                files.append(pydicom.dcmread(str(p)))
            except Exception:
                pass  # still being written
    return files


def test_stable_study_routed(srv, storescp):
    data = dicomgen.make_instance(patient_id='ROUTE-1')
    sop = pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID
    answer = srv.upload(data)
    study = answer['ParentStudy']
    srv.wait_out(harness.bare(r'Stable study: %s') % study, timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(ds.SOPInstanceUID == sop for ds in received(storescp)):
            break
        time.sleep(0.2)
    else:
        raise AssertionError('storescp never received %s; storescp log:\n%s'
                             % (sop, (storescp['dir'] / 'storescp.log').read_text()))
