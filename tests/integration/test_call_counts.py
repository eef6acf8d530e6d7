# SPDX-License-Identifier: GPL-3.0-or-later
"""The call counts behind the "exercised" check (exercised.py, conftest.py):
every server gets its own OPY_CALL_COUNTS file, the plugin appends one line
per public callable at stop, and the aggregation finds what was never
called."""

import os

import exercised

# Only calls that succeed count: a call refused with an exception proves
# nothing about the wrapper's normal path.
SCRIPT = '''
import orthanc
orthanc.ComputeMd5(b'a')
orthanc.ComputeMd5(b'b')
orthanc.GetFontName(fontIndex=0)
try:
    orthanc.GetFontName(fontIndex=10000)
except orthanc.OrthancException:
    pass
try:
    orthanc.ComputeSha1(None)
except TypeError:
    pass
'''


def test_counts_file_of_a_server(orthanc_factory):
    srv = orthanc_factory(SCRIPT, name='counts')
    path = srv.counts_path()
    assert path is not None and path.parent == exercised.Path(os.environ[exercised.COUNTS_ENV])
    assert path.name.endswith(exercised.COUNTS_SUFFIX)
    assert srv.stop() == 0
    lines = dict(line.split() for line in path.read_text().splitlines())
    assert lines['ComputeMd5'] == '2'
    assert lines['GetFontName'] == '1'
    assert lines['ComputeSha1'] == '0'
    assert set(exercised.public_callables()) <= set(lines), 'every public callable has a line'


def test_ignored_servers_write_apart(orthanc_factory):
    srv = orthanc_factory(SCRIPT, name='counts-ignored', count_calls=False)
    assert srv.stop() == 0
    assert srv.counts_path().name.endswith(exercised.IGNORED_SUFFIX)
    assert srv.counts_path().is_file()


def test_aggregate_and_never_called(tmp_path):
    (tmp_path / 'a.counts').write_text('ComputeMd5 2\nComputeSha1 0\nStorageArea.StorageAreaRead 0\n')
    (tmp_path / 'b.counts').write_text('ComputeMd5 1\nComputeSha1 0\n')
    (tmp_path / 'c.counts-ignored').write_text('ComputeSha1 5\n')
    counts, files = exercised.aggregate(tmp_path)
    assert len(files) == 2 and counts['ComputeMd5'] == 3 and counts['ComputeSha1'] == 0
    assert exercised.never_called(['ComputeMd5', 'ComputeSha1', 'StorageArea.StorageAreaRead'],
                                  counts) == ['ComputeSha1']


def test_unreachable_list_has_reasons():
    callables = exercised.public_callables()
    for pattern, reason in exercised.UNREACHABLE.items():
        assert reason and len(reason) > 20
        assert any(exercised.fnmatch.fnmatchcase(n, pattern) for n in callables), pattern
    assert exercised.unreachable_reason('StorageArea.StorageAreaCreate')
    assert exercised.unreachable_reason('Job.SubmitJob') is None
    assert exercised.unreachable_reason('ComputeMd5') is None
