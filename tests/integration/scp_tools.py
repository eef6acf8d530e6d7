# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the DICOM SCP family tests: dcmtk SCUs and a storescp target."""

import shutil
import socket
import subprocess
import time

import pydicom
import pytest

import dicomgen  # noqa: F401  (puts the testing kit on sys.path)
import harness
from orthanc_plugin_testing.dimse import dcmtk as kit_dcmtk, parse_findscu


def dcmtk(*args, timeout=60):
    """Run a dcmtk tool; returns (exit code, stdout + stderr); skips the test
    when the tool is not installed."""
    try:
        return kit_dcmtk(*args, timeout=timeout)
    except FileNotFoundError as e:
        pytest.skip(str(e))


# the testing kit's parser of 'findscu -v' listings ({tag: value} per answer)
find_answers = parse_findscu


class StoreScp:
    """A dcmtk storescp on loopback that keeps what it receives."""

    def __init__(self, directory, aet):
        if shutil.which('storescp') is None:
            pytest.skip('dcmtk storescp not installed')
        self.dir = directory
        self.aet = aet
        self.port = harness.free_port()
        self._log = open(directory / 'storescp.log', 'wb')
        self.proc = subprocess.Popen(['storescp', '-aet', aet, '-od', str(directory), '-v',
                                      str(self.port)], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            assert self.proc.poll() is None, (directory / 'storescp.log').read_text()
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, 'storescp does not listen'
                time.sleep(0.1)

    def received(self):
        """SOP instance UIDs of the files received so far."""
        uids = set()
        for p in self.dir.iterdir():
            if p.is_file() and p.suffix != '.log':
                try:
                    uids.add(pydicom.dcmread(str(p), stop_before_pixels=True).SOPInstanceUID)
                except Exception:
                    pass  # still being written
        return uids

    def wait_for(self, uids, timeout=30):
        deadline = time.monotonic() + timeout
        while not set(uids) <= self.received():
            assert time.monotonic() < deadline, 'storescp never received %s' % sorted(uids)
            time.sleep(0.1)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()
