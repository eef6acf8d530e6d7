# SPDX-License-Identifier: GPL-3.0-or-later
"""cmake --install of the Python packages, and the typing stubs found as
installed (PEP 561): mypy finds orthanc-stubs in the site-packages of the
Python it checks for, with no MYPYPATH."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PLUGIN, REPO

PY_MM = '%d.%d' % sys.version_info[:2]


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """cmake --install of the build folder into a fresh prefix."""
    prefix = tmp_path_factory.mktemp('prefix')
    proc = subprocess.run(['cmake', '--install', str(PLUGIN.parent), '--prefix', str(prefix)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return prefix


def test_install_layout(installed):
    site = installed / 'lib' / ('python%s' % PY_MM) / 'dist-packages'
    for path in ['share/orthanc/plugins/libOrthancPython.so', 'share/orthanc/plugins/orthanc.pyi']:
        assert (installed / path).is_file(), path
    stubs = (site / 'orthanc-stubs' / '__init__.pyi').read_text()
    assert stubs == (PLUGIN.parent / 'orthanc.pyi').read_text()
    assert 'Orthanc SDK: ' in stubs
    for name in ['__init__.py', 'server.py', 'fake.py', 'dicom.py', 'dimse.py', 'pytest_plugin.py',
                 'py.typed', 'orthanc_enums.json']:
        assert (site / 'orthanc_plugin_testing' / name).is_file(), name
    dist = site / 'orthanc_plugin_testing-0.1.0.dist-info'
    assert 'orthanc_plugin_testing = orthanc_plugin_testing.pytest_plugin' in (dist / 'entry_points.txt').read_text()
    assert 'Name: orthanc-plugin-testing' in (dist / 'METADATA').read_text()


def run_mypy(python, files, tmp_path, *args):
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}       # no MYPYPATH
    proc = subprocess.run([shutil.which('mypy') or 'mypy', '--python-executable', str(python),
                           '--cache-dir', str(tmp_path / 'cache'), '--no-error-summary',
                           '--show-error-codes', *args, *map(str, files)],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def venv(installed, tmp_path):
    """A venv whose site-packages holds the installed packages (a .pth to
    the prefix's dist-packages, as /usr/local's are on Debian's sys.path),
    and a script with a wrong type."""
    venv = tmp_path / 'venv'
    subprocess.run(['/usr/bin/python3', '-m', 'venv', '--without-pip', str(venv)], check=True, timeout=120)
    purelib = subprocess.run([str(venv / 'bin' / 'python'), '-c', 'import site; print(site.getsitepackages()[0])'],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    with open('%s/opy-kit.pth' % purelib, 'w') as f:
        f.write(str(installed / 'lib' / ('python%s' % PY_MM) / 'dist-packages') + '\n')
    (tmp_path / 'wrong.py').write_text('import orthanc\n\nsize: int = orthanc.RestApiGet("/system")\n')
    return venv / 'bin' / 'python'


TYPED = [REPO / 'tests' / 'stubs' / name for name in ('changes.py', 'paging.py', 'inspect_api.py')]


def test_mypy_finds_the_installed_stubs(venv, tmp_path):
    """mypy --strict passes on typed seed samples and finds a wrong type,
    with no MYPYPATH."""
    rc, out = run_mypy(venv, [tmp_path / 'wrong.py'], tmp_path)
    assert rc == 1 and 'expression has type "bytes", variable has type "int"' in out, out
    rc, out = run_mypy(venv, TYPED, tmp_path, '--strict')
    assert rc == 0, out


PYRIGHT = Path('/opt/opy-pyright/node_modules/.bin/pyright')     # scripts/deps.sh


def test_pyright_finds_the_installed_stubs(venv, tmp_path):
    """The same with pyright (the npm registry's, run by Debian's nodejs)."""
    if not PYRIGHT.exists():
        if shutil.which('node'):
            pytest.fail('node is here but %s is not: scripts/deps.sh installs it' % PYRIGHT)
        pytest.skip('no node on this machine (scripts/deps.sh installs nodejs, then pyright)')

    def pyright(*files):
        p = subprocess.run([str(PYRIGHT), '--pythonpath', str(venv), *map(str, files)], cwd=str(tmp_path),
                           env={'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)},
                           capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout + p.stderr

    rc, out = pyright(tmp_path / 'wrong.py')
    assert rc == 1 and 'Type "bytes" is not assignable to declared type "int"' in out, out
    rc, out = pyright(*TYPED)
    assert rc == 0 and '0 errors' in out, out
