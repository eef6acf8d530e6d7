# SPDX-License-Identifier: GPL-3.0-or-later
"""Virtual environments (README "Virtual environments"): "Python.VirtualEnv"
(or, without the key, the VIRTUAL_ENV variable of Orthanc's process) runs the
script in a real venv made by `python -m venv` with the embedded Python:

- a package installed only in the venv (written into its site-packages
  here: no network, no pip needed) imports, also in the workers of a
  multiprocessing pool, with the "fork" and the "spawn" start method (spawn
  starts sys.executable, which is the venv's interpreter);
- sys.prefix is the venv, sys.executable its bin/python3, and the venv's
  site-packages comes before any other site-packages folder (the system's
  dist-packages are not on sys.path, as in the venv itself);
- refused at start: a missing folder, a folder without pyvenv.cfg, a venv
  made for another Python minor (both versions named);
- "Python.PythonPath" puts folders right after the script's folder.
"""

import json
import os
import subprocess
import sys

import pytest

import harness

PACKAGE = 'opyvenvonly'

PACKAGE_INIT = '''
import os, sys
MARK = "from-the-venv"
def work(x):
    return "%s:%d:%s" % (MARK, x * x, sys.prefix)
'''

SCRIPT = '''
import json, multiprocessing, sys
import orthanc
import opyvenvonly

def info(output, uri, **request):
    site = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    output.AnswerBuffer(json.dumps({
        "prefix": sys.prefix, "base_prefix": sys.base_prefix,
        "executable": sys.executable, "path": sys.path, "site": site,
        "mark": opyvenvonly.MARK}), "application/json")

def pool(output, uri, **request):
    method = request["groups"][0]
    with multiprocessing.get_context(method).Pool(2) as p:
        results = p.map(opyvenvonly.work, [2, 3])
    output.AnswerBuffer(json.dumps(results), "application/json")

orthanc.RegisterRestCallback("/venv/info", info)
orthanc.RegisterRestCallback("/venv/pool/(fork|spawn)", pool)
'''


def embedded_python():
    """The interpreter the plugin embeds (the distribution's python3)."""
    return '/usr/bin/python%s' % harness.python_version_text()


def make_venv(path):
    """A real venv of the embedded Python, holding PACKAGE (absent from
    the system)."""
    subprocess.run([embedded_python(), '-m', 'venv', '--without-pip', str(path)], check=True,
                   timeout=120)
    site = path / 'lib' / ('python%s' % harness.python_version_text()) / 'site-packages'
    assert site.is_dir(), site
    (site / PACKAGE).mkdir()
    (site / PACKAGE / '__init__.py').write_text(PACKAGE_INIT)
    return path


@pytest.fixture(scope='module')
def venv(tmp_path_factory):
    path = make_venv(tmp_path_factory.mktemp('venv') / 'env')
    # the system itself does not have the package
    r = subprocess.run([embedded_python(), '-c', 'import %s' % PACKAGE], capture_output=True)
    assert r.returncode != 0
    return path


@pytest.fixture(scope='module')
def venv_srv(orthanc_factory, venv, tmp_path_factory):
    extra = tmp_path_factory.mktemp('extra-path')
    (extra / 'opyextra.py').write_text('VALUE = 42\n')
    srv = orthanc_factory(SCRIPT, script_key=False, start=False,
                          config={'Python': {'Path': 'plugin.py', 'VirtualEnv': str(venv),
                                             'PythonPath': [str(extra)]}})
    srv.extra = extra
    srv.start()
    return srv


def test_sys_prefix_executable_and_path(venv_srv, venv):
    info = venv_srv.get_json('/venv/info')
    real = os.path.realpath(str(venv))
    assert info['mark'] == 'from-the-venv'
    assert info['prefix'] == real
    assert info['executable'] == os.path.join(real, 'bin', 'python3')
    assert info['base_prefix'] != real
    site = os.path.join(real, 'lib', 'python%s' % harness.python_version_text(), 'site-packages')
    assert info['site'][0] == site, info['site']
    assert not any(p.startswith('/usr/lib/python3/dist-packages') for p in info['path'])
    # the script's folder first, then Python.PythonPath, then Python's own
    assert info['path'][0] == str(venv_srv.workdir)
    assert info['path'][1] == str(venv_srv.extra)
    venv_srv.wait_log(r'OPY0042 Using the virtual environment %s' % real)


@pytest.mark.parametrize('method', ['fork', 'spawn'])
def test_multiprocessing_pool_imports_the_venv_package(venv_srv, venv, method):
    status, _, body = venv_srv.get('/venv/pool/%s' % method, timeout=120)
    assert status == 200, body
    real = os.path.realpath(str(venv))
    assert json.loads(body) == ['from-the-venv:4:%s' % real, 'from-the-venv:9:%s' % real]


def test_virtual_env_variable(orthanc_factory, venv):
    """Without the key, VIRTUAL_ENV of Orthanc's process is used."""
    srv = orthanc_factory(SCRIPT, env={'VIRTUAL_ENV': str(venv)})
    info = srv.get_json('/venv/info')
    assert info['prefix'] == os.path.realpath(str(venv))
    assert info['mark'] == 'from-the-venv'
    srv.wait_log(r'OPY0042 .*environment variable VIRTUAL_ENV')
    assert srv.stop() == 0


def test_empty_key_ignores_the_variable(orthanc_factory, venv):
    """"VirtualEnv": "" means no venv, whatever VIRTUAL_ENV says."""
    srv = orthanc_factory(env={'VIRTUAL_ENV': str(venv)}, script='import sys, orthanc\n'
                          'orthanc.RegisterRestCallback("/prefix", lambda o, u, **r: '
                          'o.AnswerBuffer(sys.prefix, "text/plain"))\n',
                          config={'Python': {'VirtualEnv': ''}})
    assert srv.get('/prefix')[2].decode() != os.path.realpath(str(venv))
    assert srv.count_log('OPY0042') == 0
    assert srv.stop() == 0


def refused(orthanc_factory, venv_path):
    srv = orthanc_factory('import orthanc\n', start=False,
                          config={'Python': {'VirtualEnv': str(venv_path)}})
    return srv.start_expect_failure()


def test_missing_folder_is_refused(orthanc_factory, tmp_path):
    text = refused(orthanc_factory, tmp_path / 'no-such-venv')
    assert 'OPY0040' in text and 'no-such-venv' in text


def test_folder_without_pyvenv_cfg_is_refused(orthanc_factory, tmp_path):
    (tmp_path / 'notavenv' / 'lib').mkdir(parents=True)
    text = refused(orthanc_factory, tmp_path / 'notavenv')
    assert 'OPY0040' in text and 'pyvenv.cfg' in text


def test_other_python_minor_is_refused(orthanc_factory, tmp_path):
    other = tmp_path / 'other'
    make_venv(other)
    major, minor = sys.version_info[:2]
    cfg = (other / 'pyvenv.cfg').read_text().splitlines()
    cfg = [('version = %d.%d.0' % (major, minor + 1)) if l.startswith('version') else l for l in cfg]
    (other / 'pyvenv.cfg').write_text('\n'.join(cfg) + '\n')
    text = refused(orthanc_factory, other)
    assert 'OPY0041' in text
    assert 'made for Python %d.%d, but the plugin embeds Python %d.%d' % (
        major, minor + 1, major, minor) in text


def test_version_from_lib_folder(orthanc_factory, tmp_path):
    """No version in pyvenv.cfg: the lib/pythonX.Y folder tells."""
    other = tmp_path / 'libonly'
    make_venv(other)
    (other / 'pyvenv.cfg').write_text('home = /usr/bin\ninclude-system-site-packages = false\n')
    major, minor = sys.version_info[:2]
    lib = other / 'lib' / ('python%d.%d' % (major, minor))
    lib.rename(other / 'lib' / ('python%d.%d' % (major, minor + 1)))
    text = refused(orthanc_factory, other)
    assert 'made for Python %d.%d' % (major, minor + 1) in text
