# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the DICOM SCP family tests: dcmtk SCUs and a storescp target."""

import shutil
import socket
import subprocess
import time

import pydicom
import pytest

import harness


def dcmtk(*args, timeout=60):
    """Run a dcmtk tool; returns (exit code, stdout + stderr)."""
    if shutil.which(args[0]) is None:
        pytest.skip('dcmtk %s not installed' % args[0])
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


def find_answers(output):
    """The data sets of a 'findscu -v' listing: one {tag: value} per answer,
    tag as '(gggg,eeee)', value as printed between brackets."""
    answers = []
    for block in output.split('Find Response:')[1:]:
        tags = {}
        for line in block.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1].startswith('('):
                text = line.split(parts[1], 1)[1]
                if '[' in text:
                    tags[parts[1]] = text[text.index('[') + 1:text.index(']')]
        answers.append(tags)
    return answers


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
