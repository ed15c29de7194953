"""labkit.bytefields: the shape named hexdumps share, and the check that fields cover a file."""
from __future__ import annotations

import doctest

import pytest

from labkit import bytefields
from labkit.bytefields import Field, problem, totals


def test_doctests():
    assert doctest.testmod(bytefields).failed == 0


def test_totals_merge_only_consecutive_parts():
    fields = [Field(0, b"a", "pad", "x", ""), Field(1, b"bc", "data", "y", ""), Field(3, b"d", "pad", "z", "")]
    assert totals(fields) == [("pad", 1), ("data", 2), ("pad", 1)]


@pytest.mark.parametrize("fields, why", [
    ([Field(0, b"a", "p", "gap", ""), Field(2, b"c", "p", "after", "")], "does not follow"),
    ([Field(0, b"ab", "p", "overlap", ""), Field(1, b"bc", "p", "again", "")], "does not follow"),
    ([Field(0, b"xx", "p", "wrong bytes", ""), Field(2, b"c", "p", "c", "")], "does not follow"),
    ([Field(0, b"ab", "p", "short", "")], "end at byte 2 of 3"),
])
def test_problem_finds_gaps_overlaps_and_wrong_bytes(fields, why):
    assert why in problem(fields, b"abc")
