# SPDX-License-Identifier: GPL-3.0-or-later
"""The kit as a plugin author uses it: a pytest of its own, with the kit
found on its path as installed (build/python/, the pytest11 entry point of
its .dist-info gives the fixtures: no conftest), on the guide's example
(examples/testing/) and on the seed page's samples both ways
(tests/kit/author/)."""

import os
import re
import subprocess

from conftest import PACKAGES, PLUGIN, REPO, SEED_SCRIPTS


def run_pytest(tmp_path, target, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'OPY_'))}
    env.update(PYTHONPATH=str(PACKAGES), OPY_SEED_SCRIPTS=str(SEED_SCRIPTS))
    proc = subprocess.run(['/usr/bin/python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                           '--rootdir', str(target), '--basetemp', str(tmp_path / 'inner'),
                           '--orthanc-plugin', str(PLUGIN), *args, str(target)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_guide_example(tmp_path):
    rc, out = run_pytest(tmp_path, REPO / 'examples' / 'testing')
    assert rc == 0, out
    assert re.search(r'^5 passed', out, re.M), out


def test_seed_samples_both_ways(tmp_path):
    rc, out = run_pytest(tmp_path, REPO / 'tests' / 'kit' / 'author')
    assert rc == 0, out
    assert re.search(r'^6 passed', out, re.M), out


def test_fixture_options_and_failures(tmp_path):
    """--orthanc names the executable; a wrong one, or a script whose
    server does not stop, fails the test with the reason."""
    (tmp_path / 'tests').mkdir()
    (tmp_path / 'tests' / 'test_bad.py').write_text(
        'def test_it(orthanc_server):\n    orthanc_server()\n')
    rc, out = run_pytest(tmp_path, tmp_path / 'tests', '--orthanc', str(tmp_path / 'no-orthanc'))
    assert rc == 1, out
    assert 'cannot run Orthanc %s (give its path with --orthanc)' % (tmp_path / 'no-orthanc') in out, out
