"""labkit.compare over recorded observations (no engine needed)."""
from __future__ import annotations

import copy
import io

import matplotlib
import pytest

from labkit import compare, observe, oci, scenarios, show
from labkit.errors import LabkitError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def recorded():
    return observe.recorded()


def _with_modern_headers(obs: observe.Observation) -> observe.Observation:
    """A copy of ``obs`` whose hello layer has the headers labkit predicts for 26+."""
    other = observe.from_dict(copy.deepcopy(obs.to_dict()))
    other.name = "modern-prediction"
    layer = io.BytesIO()
    scenarios._hello_image("modern").write_layer(0, layer)
    case = other["hello-legacy"].main
    case.extra["layer_tar_headers"] = oci.tar_headers(layer.getvalue())
    case.diff_ids = scenarios._hello_image("modern").diff_ids
    return other


def test_table_has_one_row_per_engine_and_case(recorded):
    table = compare.table(recorded)
    cases = sum(len(r.cases) for o in recorded for r in o.results.values())
    assert len(table.rows) == cases
    assert {row["engine"] for row in table.rows} == {o.name for o in recorded}
    assert "recorded on Docker 20.10.24" in table.title


def test_table_of_one_scenario_drops_the_scenario_column():
    table = compare.table([observe.reference()], "empty-import")
    assert [row["case"] for row in table.rows] == ["empty-1024", "gnu-tar-10240"]
    assert "scenario" not in table.columns
    assert table.rows[0]["diff_ids"] == "5f70bf18a086"


def test_rows_keep_full_values_for_json():
    rows = compare.rows([observe.reference()], "hello-legacy")
    assert rows[0]["diff_ids"][0].startswith("sha256:") and len(rows[0]["diff_ids"][0]) == 71
    assert rows[0]["run"]["stdout"] == "Hello from scratch!\n"


def test_plot_sizes_draws_one_bar_per_variant_and_engine(recorded):
    fig, ax = compare.plot_sizes(recorded)
    variants = list(observe.reference()["hello-variants"].cases)
    assert [t.get_text() for t in ax.get_xticklabels()] == variants
    assert len(ax.patches) == len(variants) * len(recorded)
    assert ax.get_yscale() == "log"
    assert any("official hello-world" in t.get_text() for t in ax.get_legend().get_texts())


def test_plot_sizes_refuses_an_unknown_field():
    with pytest.raises(LabkitError, match="cannot plot 'layers'"):
        compare.plot_sizes([observe.reference()], field="layers")


def test_plot_layers_shows_the_two_layer_era_1_4_image():
    fig, ax = compare.plot_layers([observe.reference()], ["empty-labkit", "era-1.4"])
    assert [p.get_height() for p in ax.patches] == [0, 2]


def test_tar_header_diff_shows_mode_and_owner_names():
    ref = observe.reference()
    diff = compare.tar_header_diff(ref, _with_modern_headers(ref))
    fields = [row["field"] for row in diff.rows]
    assert {"mode", "uname", "gname"} <= set(fields)
    assert "name" not in fields and "mtime" not in fields
    mode = next(row for row in diff.rows if row["field"] == "mode")
    assert mode[ref.name] == "'0100755'" and mode["modern-prediction"] == "'0000755'"
    assert fields[-1] == "layer diff_id"


def test_tar_header_diff_needs_recorded_headers():
    ref = observe.reference()
    broken = observe.from_dict(copy.deepcopy(ref.to_dict()))
    broken["hello-legacy"].main.extra["layer_tar_headers"] = []
    with pytest.raises(LabkitError, match="recorded no layer headers"):
        compare.tar_header_diff(ref, broken)


def test_recorded_engines_differ_in_mode_and_owner_names_only():
    """The committed 20.10.24 and 26.1.5 recordings: same file, different header fields."""
    old = observe.load(observe.DATA_DIR / "20.10.24.json")
    new = observe.load(observe.DATA_DIR / "26.1.5.json")
    for scenario in ("hello-legacy", "hello-buildkit"):
        diff = compare.tar_header_diff(old, new, scenario)
        assert [row["field"] for row in diff.rows] == ["mode", "chksum", "uname", "gname",
                                                       "layer diff_id"]


def test_table_cells_read_as_the_lesson_tables_do(recorded):
    # One formatter for a case's cells: compare.table once had its own, which dropped the
    # build-time mark, printed sizes without a unit and ran stdout and stderr differently.
    ours = {(r["engine"], r["case"]): r for r in compare.table(recorded, "hello-legacy").rows}
    lesson = show.across(recorded, "hello-legacy")
    for row in lesson.rows:
        mine = ours[row["engine"], row["case"]]
        assert [mine[c] for c in ("image", "run", "size (inspect)", "diff_ids")] == \
               [row[c] for c in ("image", "run", "size (inspect)", "diff_ids")]
