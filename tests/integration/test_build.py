# SPDX-License-Identifier: GPL-3.0-or-later
"""Build rules: -DPYTHON_VERSION selects the embedded Python, Pythons older
than 3.11 are refused at configure time, and the library exports only the
four Orthanc entry points."""

import subprocess

import harness

FAKE_PC = """prefix=/usr
libdir=${prefix}/lib
includedir=${prefix}/include
Name: Python
Description: Embed Python into an application
Version: 3.10
Libs: -L${libdir} -lpython3.10
Cflags: -I${includedir}/python3.10
"""


def configure(build_dir, *args, env=None):
    return subprocess.run(['cmake', '-S', str(harness.REPO), '-B', str(build_dir)] + list(args),
                          capture_output=True, text=True, env=env, timeout=120)


def test_python_older_than_311_is_refused(tmp_path):
    pc_dir = tmp_path / 'pc'
    pc_dir.mkdir()
    (pc_dir / 'python-3.10-embed.pc').write_text(FAKE_PC)
    import os
    env = dict(os.environ, PKG_CONFIG_PATH=str(pc_dir))
    r = configure(tmp_path / 'b', '-DPYTHON_VERSION=3.10', env=env)
    assert r.returncode != 0
    text = ' '.join((r.stdout + r.stderr).split())   # cmake wraps its messages
    assert 'is too old: the Orthanc Python plugin needs Python 3.11 or newer' in text, text


def test_python_version_selects_the_embed_module(tmp_path):
    version = harness.python_version_text()     # the distribution's own
    r = configure(tmp_path / 'b', '-DPYTHON_VERSION=' + version)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'Embedding Python %s' % version in r.stdout and 'python-%s-embed' % version in r.stdout, r.stdout


def test_only_the_entry_points_are_exported(plugin_library):
    out = subprocess.run(['nm', '-D', '--defined-only', str(plugin_library)],
                         capture_output=True, text=True, check=True).stdout
    functions = sorted(line.split()[-1] for line in out.splitlines() if ' T ' in line)
    assert functions == ['OrthancPluginFinalize', 'OrthancPluginGetName',
                         'OrthancPluginGetVersion', 'OrthancPluginInitialize']
