# SPDX-License-Identifier: GPL-3.0-or-later
"""The "exercised" check: every public callable of the orthanc module
(build/gen/names.txt) must have been called at least once by the suite.

harness.Orthanc sets OPY_CALL_COUNTS for every server it starts (one file per
server in a session-wide directory, $OPY_COUNTS_DIR); at its stop the plugin
appends one "<name> <count>" line per public callable.  conftest.py
aggregates the files at the end of a whole-suite run (OPY_CHECK_EXERCISED=1,
set by scripts/test.sh) and fails the session if a callable was never called,
except the names below.

Servers started with count_calls=False (the bad-arguments and surface
modules, which call or bind everything on purpose) write to files ending in
IGNORED_SUFFIX, which the aggregation skips: a callable only counts as
exercised when a test meant to use it.
"""

import fnmatch
from collections import Counter
from pathlib import Path

import harness

NAMES_TXT = harness.plugin_path().parent / 'gen' / 'names.txt'
COUNTS_ENV = 'OPY_COUNTS_DIR'
COUNTS_SUFFIX = '.counts'
IGNORED_SUFFIX = '.counts-ignored'

# The one list of callables that no test can reach yet, each with its reason.
# Patterns are fnmatch patterns over the public names.
UNREACHABLE = {
    'StorageArea.*': 'Orthanc hands a StorageArea only to database-backend plugins, '
                     'never to a plugin like this one',
}
# Classes without any method (nothing to call): DicomWebNode,
# ServerChunkedRequestReader, WebDavCollection.


def unreachable_reason(name):
    for pattern, reason in UNREACHABLE.items():
        if fnmatch.fnmatchcase(name, pattern):
            return reason
    needs = harness.sdk_versions().get(name.split(' ')[0])
    if needs and needs > harness.orthanc_version():
        return 'needs Orthanc %s (this is %s): test_sdk_versions checks that it refuses' % (
            '.'.join(map(str, needs)), harness.orthanc_version_text())
    return None


def public_callables(names_txt=NAMES_TXT):
    """Functions and Class.method names of names.txt (enums, classes and
    OrthancException are not callables of interest)."""
    names = [n.strip() for n in Path(names_txt).read_text().split() if n.strip()]
    classes = _stub_classes() | {n.split('.')[0] for n in names if '.' in n}
    return [n for n in names if '.' in n or n not in classes]


def _stub_classes():
    """Class names of the typing stubs (enums, object types, exception)."""
    import ast
    pyi = harness.plugin_path().parent / 'orthanc.pyi'
    tree = ast.parse(pyi.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def aggregate(directory):
    """Sum the counts of every *.counts file of directory."""
    total = Counter()
    files = sorted(Path(directory).glob('*' + COUNTS_SUFFIX))
    for f in files:
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                total[parts[0]] += int(parts[1])
    return total, files


def never_called(callables, counts):
    """Callables with a zero count that are not in UNREACHABLE."""
    return [n for n in callables if counts.get(n, 0) == 0 and unreachable_reason(n) is None]
