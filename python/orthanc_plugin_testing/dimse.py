# SPDX-License-Identifier: GPL-3.0-or-later
"""C-STORE and C-FIND to a test server with dcmtk's storescu and findscu
(Debian package dcmtk), as a modality would send them."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from pydicom.datadict import keyword_for_tag

CALLING_AET = 'KIT'
MODELS = {'worklist': '-W', 'patient': '-P', 'study': '-S'}


def dcmtk(*args, timeout=60):
    """Runs a dcmtk tool; returns (exit status, stdout + stderr)."""
    if shutil.which(str(args[0])) is None:
        raise FileNotFoundError('dcmtk\'s %s is not installed (apt-get install dcmtk)' % args[0])
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


def c_store(server, *instances, aet=CALLING_AET, timeout=60):
    """Sends the instances (bytes, paths or pydicom datasets) to the server
    by C-STORE; raises AssertionError with storescu's output when it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, inst in enumerate(instances):
            if isinstance(inst, (str, Path)):
                files.append(str(inst))
                continue
            if not isinstance(inst, (bytes, bytearray)):
                from .dicom import to_bytes
                inst = to_bytes(inst)
            files.append(str(Path(tmp) / ('%d.dcm' % i)))
            Path(files[-1]).write_bytes(inst)
        rc, out = dcmtk('storescu', '-aet', aet, '-aec', 'ORTHANC', '127.0.0.1', server.dicom_port,
                        *files, timeout=timeout)
    if rc != 0:
        raise AssertionError('storescu failed (%d):\n%s' % (rc, out))


def parse_findscu(output):
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


def c_find(server, query, model='study', aet=CALLING_AET, timeout=60):
    """C-FIND of `query` ({keyword: value}, '' for a key to return, e.g.
    {'QueryRetrieveLevel': 'STUDY', 'PatientID': 'P1', 'StudyInstanceUID': ''})
    in the model 'study', 'patient' or 'worklist'; returns the answers as
    {keyword: value} dicts (values without their DICOM padding)."""
    keys = []
    for keyword, value in query.items():
        keys += ['-k', '%s=%s' % (keyword, value) if value != '' else keyword]
    rc, out = dcmtk('findscu', '-v', MODELS[model], '-aet', aet, '-aec', 'ORTHANC', *keys,
                    '127.0.0.1', server.dicom_port, timeout=timeout)
    if rc != 0:
        raise AssertionError('findscu failed (%d):\n%s' % (rc, out))
    answers = []
    for tags in parse_findscu(out):
        answer = {}
        for tag, value in tags.items():
            group, element = tag.strip('()').split(',')
            # without DICOM's padding to an even length
            answer[keyword_for_tag(int(group + element, 16)) or tag] = value.rstrip(' \0')
        answers.append(answer)
    return answers
