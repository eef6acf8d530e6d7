#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A short scenario under valgrind memcheck: Orthanc with the plugin starts,
serves Python routes (GET, POST with a body, an exception, an answer-less
route), stores an instance (OnStoredInstance, OnChange, HTTP filter),
uses generated wrappers (images, DICOM), then stops. Exits non-zero when
valgrind reports an error, or a leak whose stack goes through the plugin.

usage: tests/leaks/scenario.py [--plugin build/libOrthancPython.so]
"""
import argparse
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'integration'))
import dicomgen  # noqa: E402
import harness  # noqa: E402

SCRIPT = r'''
import json
import orthanc

SEEN = []

def Hello(output, uri, **request):
    output.AnswerBuffer('hello %s' % request.get('get', {}), 'text/plain')

def Echo(output, uri, **request):
    output.AnswerBuffer(request['body'][::-1], 'application/octet-stream')

def Boom(output, uri, **request):
    raise RuntimeError('boom')

def Silent(output, uri, **request):
    pass

def Images(output, uri, **request):
    img = orthanc.CreateImage(orthanc.PixelFormat.GRAYSCALE8, 32, 16)
    png = orthanc.CompressPngImage(orthanc.PixelFormat.GRAYSCALE8, 32, 16, 32, bytes(32 * 16))
    back = orthanc.UncompressImage(png, orthanc.ImageFormat.PNG)
    dicom = orthanc.CreateDicom(json.dumps({'PatientID': 'LEAK'}), back, orthanc.CreateDicomFlags.GENERATE_IDENTIFIERS)
    inst = orthanc.CreateDicomInstance(dicom)
    output.AnswerBuffer('%d %d %s' % (img.GetImageWidth(), inst.GetInstanceSize(),
                                      orthanc.ComputeMd5(dicom)), 'text/plain')

def Large(output, uri, **request):
    # a large answer: Orthanc's buffer becomes the bytes object (src/core/opy_bytes.c)
    data = orthanc.RestApiGet('/instances/%s/file' % request['groups'][0])
    output.AnswerBuffer(orthanc.ComputeMd5(data), 'text/plain')

def OnStored(dicom, instanceId):
    SEEN.append(json.loads(dicom.GetInstanceSimplifiedJson())['PatientID'])

def OnChange(changeType, level, resource):
    SEEN.append(changeType)

def Filter(uri, **request):
    return not uri.startswith('/forbidden')

orthanc.RegisterRestCallback('/leak/hello', Hello)
orthanc.RegisterRestCallback('/leak/echo', Echo)
orthanc.RegisterRestCallback('/leak/boom', Boom)
orthanc.RegisterRestCallback('/leak/silent', Silent)
orthanc.RegisterRestCallback('/leak/images', Images)
orthanc.RegisterRestCallback('/leak/large/(.*)', Large)
orthanc.RegisterOnStoredInstanceCallback(OnStored)
orthanc.RegisterOnChangeCallback(OnChange)
orthanc.RegisterIncomingHttpRequestFilter(Filter)
print('leak scenario ready')
'''


PLUMBING = r'libc\.so|vgpreload|vg_replace|ld-linux|^\.\.?/(string|sysdeps|nptl|malloc|stdlib|libio)/'
OURS = r'libOrthancPython|^opy_\w*\.[ch]:\d+$'


def first_own_frame(record):
    """Where the first frame of a valgrind record that is not in libc,
    valgrind's replacements or the dynamic loader lies (a library, or
    file:line with debug information)."""
    for line in record.splitlines():
        m = re.search(r'(?:at|by) 0x[0-9A-F]+: .*\((?:in )?([^)]*)\)\s*$', line)
        if m and not re.search(PLUMBING, m.group(1)):
            return m.group(1)
    return None


def request(port, method, path, body=None):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--plugin', default=str(REPO / 'build' / 'libOrthancPython.so'))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix='opy-leaks-'))
    (work / 'leak.py').write_text(SCRIPT)
    port = harness.free_port()
    cfg = {'StorageDirectory': str(work / 'db'), 'IndexDirectory': str(work / 'db'),
           'HttpPort': port, 'DicomPort': harness.free_port(), 'Plugins': [args.plugin],
           'PythonScript': str(work / 'leak.py'), 'RemoteAccessAllowed': True,
           'AuthenticationEnabled': False}
    (work / 'orthanc.json').write_text(json.dumps(cfg))
    vlog = work / 'valgrind.log'
    env = dict(os.environ, PYTHONMALLOC='malloc')     # pymalloc hides blocks from valgrind
    proc = subprocess.Popen(['valgrind', '--leak-check=full', '--show-leak-kinds=definite',
                             '--errors-for-leak-kinds=definite', '--num-callers=40',
                             '--log-file=%s' % vlog, '/usr/sbin/Orthanc', str(work / 'orthanc.json')],
                            cwd=work, env=env, stdout=open(work / 'orthanc.log', 'wb'),
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while True:
        try:
            if request(port, 'GET', '/system')[0] == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit('Orthanc did not start under valgrind; see %s' % work)
        time.sleep(1)
    checks = [
        (request(port, 'GET', '/leak/hello?x=1')[0], 200),
        (request(port, 'POST', '/leak/echo', b'abc' * 1000)[0], 200),
        (request(port, 'GET', '/leak/boom')[0], 500),
        (request(port, 'GET', '/leak/silent')[0], 500),
        (request(port, 'GET', '/leak/images')[0], 200),
        (request(port, 'GET', '/forbidden')[0], 403),
        (request(port, 'POST', '/instances', dicomgen.make_instance(patient_id='LEAK-1'))[0], 200),
    ]
    big = dicomgen.make_instance(patient_id='LEAK-2', rows=512, columns=512, bits=16)   # 512 KB
    status, body = request(port, 'POST', '/instances', big)
    iid = json.loads(body)['ID'] if status == 200 else 'none'
    for _ in range(3):
        status, body = request(port, 'GET', '/leak/large/%s' % iid)
        checks.append(((status, body.decode(errors='replace')),
                       (200, hashlib.md5(big).hexdigest())))
    for _ in range(20):
        request(port, 'GET', '/leak/hello')
    proc.send_signal(signal.SIGTERM)
    proc.wait(300)
    text = vlog.read_text()
    errors = re.search(r'ERROR SUMMARY: (\d+) errors', text)
    # Orthanc, DCMTK and CPython have findings of their own (CPython's
    # interpreter start reads memory valgrind believes uninitialised, as
    # CPython's own suppression file says): a leak counts against the plugin
    # when its allocation stack goes through the plugin; an error when the
    # first frame outside libc, valgrind's preload and the loader is in it.
    records = re.split(r'\n==\d+== \n', text)
    ours = [b for b in records
            if ('definitely lost' in b and re.search(r'libOrthancPython|\(opy_\w*\.[ch]:\d+\)', b)) or
            (re.search(r'Invalid (read|write|free)|uninitialised|Mismatched|overlap', b) and
             re.search(OURS, first_own_frame(b) or ''))]
    print('checks (status, expected): %s' % checks)
    print(re.search(r'LEAK SUMMARY:.*?(?=\n==\d+== \n|\Z)', text, re.S).group(0)
          if 'LEAK SUMMARY' in text else 'no leak summary')
    print('valgrind errors in the whole process: %s; errors or definite leaks through the '
          'plugin: %d; exit code %d; log %s'
          % (errors.group(1) if errors else '?', len(ours), proc.returncode, vlog))
    for b in ours:
        print(b)
    ok = all(s == e for s, e in checks) and errors is not None and not ours and proc.returncode == 0
    print('valgrind scenario: %s' % ('OK' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
