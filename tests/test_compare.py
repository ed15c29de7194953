"""labkit.compare over recorded observations (no engine needed)."""
from __future__ import annotations

import pytest

from labkit import compare, observe


@pytest.fixture(scope="module")
def recorded():
    return observe.recorded()


def test_rows_keep_full_values_for_json():
    rows = compare.rows([observe.reference()], "hello-legacy")
    assert rows[0]["diff_ids"][0].startswith("sha256:") and len(rows[0]["diff_ids"][0]) == 71
    assert rows[0]["run"]["stdout"] == "Hello from scratch!\n"


def test_header_differences_are_rows_of_data():
    old = observe.load(observe.DATA_DIR / "20.10.24.json")
    new = observe.load(observe.DATA_DIR / "26.1.5.json")
    rows = compare.header_differences(old, new)
    assert rows[0] == {"field": "mode", "20.10.24": "'0100755'", "26.1.5": "'0000755'"}
    assert rows[-1]["field"] == "layer diff_id"


def test_across_rows_name_what_is_the_same_on_every_engine(recorded):
    rows, varying, same = compare.across_rows(recorded, "hello-legacy", ["layers", "diff_ids"])
    assert len(rows) == len(recorded) and "layers" in same and "diff_ids" in varying
    one, varying, same = compare.across_rows(recorded[:1], "hello-legacy", ["layers"])
    assert same == [] and varying == ["engine", "case", "layers"]
