# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that a plugin script under scripts/ is a sample of the documentation
page, verbatim except for its @PLACEHOLDERS@ (as test_scripts_verbatim.py)."""

from pathlib import Path

import pytest

import harness

SEED_CANDIDATES = [
    harness.REPO.parent / 'shared' / 'seed' / 'python-plugin.txt',
    Path('/work/shared/seed/python-plugin.txt'),
]


def seed_sample_check(name, doc_values=None):
    for p in SEED_CANDIDATES:
        if p.is_file():
            seed = p.read_text()
            break
    else:
        pytest.skip('documentation page (shared/seed/python-plugin.txt) not available')
    text = harness.script_text(name)
    for key, value in (doc_values or {}).items():
        text = text.replace(key, value)
    assert text.strip() in seed
