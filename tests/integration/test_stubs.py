# SPDX-License-Identifier: GPL-3.0-or-later
"""The typing stubs (build/orthanc.pyi) against the documentation's samples:
mypy --strict on typed copies (tests/stubs/*.py: the samples with
annotations added, code unchanged), and plain mypy on the verbatim sample
scripts.  Third-party modules without stubs (PIL, xlwt, requests) are Any."""

import shutil
import subprocess

import pytest

import harness
import test_scripts_verbatim

STUBS_DIR = harness.REPO / 'tests' / 'stubs'
PYI = harness.plugin_path().parent / 'orthanc.pyi'
MYPY_ARGS = ['--ignore-missing-imports', '--disable-error-code', 'import',
             '--no-error-summary', '--show-error-codes']


def run_mypy(args, files, tmp_path):
    mypy = shutil.which('mypy')
    if mypy is None:
        pytest.fail('mypy not installed (Debian package mypy: scripts/deps.sh installs it)')
    assert PYI.is_file(), 'build/orthanc.pyi missing: build first'
    env = {'MYPYPATH': str(PYI.parent), 'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}
    proc = subprocess.run([mypy, '--cache-dir', str(tmp_path / 'cache')] + args + MYPY_ARGS
                          + [str(f) for f in files],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_strict_on_typed_samples(tmp_path):
    files = sorted(STUBS_DIR.glob('*.py'))
    assert len(files) >= 9
    import PIL.Image
    if not hasattr(PIL.Image, 'ANTIALIAS'):     # Pillow >= 10 (trixie, sid): Resampling.LANCZOS, the same filter
        (tmp_path / 'typed').mkdir()
        copies = []
        for f in files:
            copies.append(tmp_path / 'typed' / f.name)
            copies[-1].write_text(f.read_text().replace('Image.ANTIALIAS', 'Image.Resampling.LANCZOS'))
        files = copies
    rc, out = run_mypy(['--strict'], files, tmp_path)
    assert rc == 0, out


def test_typed_samples_are_the_samples():
    """The typed copies differ from the verbatim scripts only by annotations."""
    import ast
    for typed in sorted(STUBS_DIR.glob('*.py')):
        text = harness.script_text(typed.name)
        for key, value in test_scripts_verbatim.DOC_VALUES.items():
            text = text.replace(key, value)
        plain = ast.parse(text)
        annotated = ast.parse(typed.read_text())
        for node in ast.walk(annotated):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                node.returns = None
                for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                    a.annotation = None
                for a in (node.args.vararg, node.args.kwarg):
                    if a is not None:
                        a.annotation = None
        annotated.body = [n for n in annotated.body
                          if not (isinstance(n, ast.ImportFrom) and n.module == 'typing')]
        assert ast.dump(annotated) == ast.dump(plain), typed.name


def test_plain_mypy_on_verbatim_samples(tmp_path):
    files = []
    for name in test_scripts_verbatim.SAMPLES:
        text = harness.script_text(name)
        for key, value in test_scripts_verbatim.DOC_VALUES.items():
            text = text.replace(key, value)
        path = tmp_path / name
        path.write_text(text)
        files.append(path)
    rc, out = run_mypy([], files, tmp_path)
    assert rc == 0, out
