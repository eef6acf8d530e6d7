# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed sample "Catching exceptions" (scripts/catching_exceptions.py)."""

import re

import pytest

import harness


@pytest.fixture(scope='module')
def srv(orthanc_factory):
    return orthanc_factory(orthanc_factory.script('catching_exceptions.py'))


def test_exception_printed(srv):
    srv.wait_out(harness.bare(r'True'), timeout=15)
    messages = srv.out_lines()
    # print(e), e.args[0], e.args[1], e.args[0] == UNKNOWN_RESOURCE, in order
    i = next(i for i, m in enumerate(messages) if 'Unknown resource' in m)
    rest = messages[i:]
    assert re.search(r'17', rest[0]) and 'Unknown resource' in rest[0], rest[:6]
    j = rest.index('17')
    k = rest.index('Unknown resource', j)
    assert rest.index('True', k) > k


def test_printed_exception_is_the_args_tuple(srv):
    srv.wait_out(harness.bare(r'True'), timeout=15)
    assert srv.count_out(harness.bare(r"\(17, 'Unknown resource'\)")) == 1
