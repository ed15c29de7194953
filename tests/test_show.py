"""labkit.show: tables, the lab's plot style, the widgets (without a browser) and Binder links."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import copy
import io

import matplotlib

from labkit import observe, oci, scenarios, show
from labkit.errors import LabkitError
from labkit.show import widgets
from labkit.explore import explore
from labkit.oci import Entry

ROOT = Path(__file__).resolve().parents[1]
matplotlib.use("Agg")


class Rows(HTMLParser):
    """Collects the ``labkit-file-row`` rows of explorer HTML as dicts of their data- attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "labkit-file-row" in (attrs.get("class") or "").split():
            self.rows.append({k[5:]: v for k, v in attrs.items() if k.startswith("data-")})


@pytest.fixture()
def two_layers(tmp_path):
    img = oci.Image([[Entry.file("hello", b"h" * 2000), Entry.file("etc/motd", b"hi\n")],
                     [Entry.whiteout("etc/motd"), Entry.file("note", b"n")]], cmd=["/hello"])
    return img.write(tmp_path / "two.tar")


def find(widget, css_class):
    """The first widget in ``widget``'s tree that carries ``css_class``."""
    if css_class in widget._dom_classes:
        return widget
    for child in getattr(widget, "children", ()):
        found = find(child, css_class)
        if found is not None:
            return found
    return None


def test_human_bytes_gives_exact_bytes_then_a_readable_size():
    assert show.human_bytes(13376) == "13,376 B (13.1 KiB)"
    assert show.human_bytes(512) == "512 B"
    assert show.human_bytes(None) == "—"


def test_table_renders_as_text_and_html():
    t = show.table([{"engine": "20.10.24", "layers": 1}, {"engine": "28.5.2", "layers": 1}], title="Layers")
    assert str(t).splitlines()[:2] == ["Layers", "engine    layers"]
    assert t._repr_html_().count("<tr>") == 3


def test_figure_has_the_lab_style():
    fig, ax = show.figure("Image sizes", xlabel="image", ylabel="bytes")
    try:
        assert (ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()) == ("Image sizes", "image", "bytes")
        line, = ax.plot([0, 1], [0, 1])
        assert line.get_color().lower() == show.PALETTE[0].lower()
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


PLOT_CALLS = re.compile(r"\bplt\.(subplots|figure)\(|\.add_subplot\(")


def test_every_lab_plot_uses_the_lab_figure():
    """Plots in labkit and in the notebooks go through show.figure (titles, units, palette)."""
    offenders = []
    for path in sorted((ROOT / "labkit").rglob("*.py")):
        text = path.read_text()
        if path.relative_to(ROOT).as_posix() == "labkit/show/plots.py":
            text = text.split("def figure(", 1)[0] + text.split("return fig, ax", 1)[-1]
        offenders += [f"{path.relative_to(ROOT)}" for _ in PLOT_CALLS.finditer(text)]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        offenders += [f"{path.relative_to(ROOT)}" for _ in PLOT_CALLS.finditer(source)]
    assert offenders == [], "use labkit.show.figure() for every plot"


def test_layer_files_html_marks_each_change(two_layers):
    x = explore(two_layers)
    assert Rows(widgets.layer_files_html(x.layers[0])).rows == [
        {"change": "added", "path": "etc/motd"}, {"change": "added", "path": "hello"}]
    html = widgets.layer_files_html(x.layers[1])
    assert Rows(html).rows == [{"change": "deleted", "path": "etc/motd"},
                               {"change": "added", "path": "note"}]
    assert "etc/.wh.motd" in html and "− deleted" in html


def test_size_bars_are_relative_to_the_largest():
    assert "width:100%" in show.size_bar(10, 10)
    assert "width:1%" in show.size_bar(1, 10_000)  # tiny but visible
    assert "width:0%" in show.size_bar(0, 10)


def test_layer_explorer_shows_the_picked_layer(two_layers):
    box = show.layer_explorer(two_layers)
    assert "labkit-layer-explorer" in box._dom_classes
    select, files = find(box, "labkit-layer-select"), find(box, "labkit-layer-files")
    assert [label.split(" · ")[0] for label, _ in select.options] == ["layer 1", "layer 2"]
    assert select.value == 0
    assert [r["path"] for r in Rows(files.value).rows] == ["etc/motd", "hello"]
    select.value = 1
    assert [(r["change"], r["path"]) for r in Rows(files.value).rows] == [
        ("deleted", "etc/motd"), ("added", "note")]
    summary = box.children[0].value
    assert "2 layers" in summary and "3 B hidden" in summary
    assert str(box).splitlines()[0] == "two.tar (docker-archive): 2 layers"


def test_layer_explorer_shows_ten_files_and_every_one_on_show_all(tmp_path):
    many = oci.Image([[Entry.file(f"f{n:02}", b"x") for n in range(25)]]).write(tmp_path / "many.tar")
    box = show.layer_explorer(many)
    files, button = find(box, "labkit-layer-files"), find(box, "labkit-show-all")
    assert len(Rows(files.value).rows) == 10 and "… and 15 more" in files.value
    assert "… and 15 more" in box.static_html and box.static_html.count("labkit-file-row") == 10
    button.value = True
    assert len(Rows(files.value).rows) == 25 and "more" not in files.value
    assert len(Rows(find(show.layer_explorer(many, rows=30), "labkit-layer-files").value).rows) == 25
    assert find(show.layer_explorer(tmp_path / "many.tar", rows=30), "labkit-show-all") is None


def test_layer_explorer_can_open_on_another_layer(two_layers):
    box = show.layer_explorer(two_layers, layer=-1)
    assert find(box, "labkit-layer-select").value == 1 and "etc/.wh.motd" in box.static_html
    assert find(show.layer_explorer(two_layers, layer=2), "labkit-layer-select").value == 1
    assert find(show.layer_explorer(two_layers), "labkit-layer-select").value == 0


def test_layer_explorer_text_lists_at_most_the_rows_asked(tmp_path):
    tall = oci.Image([[Entry.file(f"f{n}", b"x")] for n in range(12)]).write(tmp_path / "tall.tar")
    lines = str(show.layer_explorer(tall, rows=3)).splitlines()
    assert lines[1].startswith("layer 1 ·") and lines[-1] == "… and 9 more layers" and len(lines) == 5


def test_layer_explorer_of_a_zero_layer_image_says_it_is_empty(tmp_path):
    box = show.layer_explorer(oci.Image().write(tmp_path / "empty.tar"))
    assert find(box, "labkit-layer-select") is None
    assert "0 layers" in box.children[0].value and "empty" in box.children[0].value


def test_layer_explorer_accepts_image_info_and_oci_layouts(tmp_path):
    path = oci.Image([[Entry.file("a", b"1")]]).write(tmp_path / "layout", format="oci-dir")
    box = show.layer_explorer(oci.inspect(path))
    assert "(oci-layout)" in box.children[0].value


def test_engine_picker_redraws_with_the_chosen_items():
    seen = []
    box = show.engine_picker([{"name": "20.10.24"}, {"name": "28.5.2-containerd"}],
                             render=lambda chosen: seen.append([o["name"] for o in chosen]) or [])
    select = find(box, "labkit-engine-select")
    assert "labkit-engine-picker" in box._dom_classes
    assert [label for label, _ in select.options] == ["20.10.24", "28.5.2-containerd"]
    select.value = (1,)
    select.value = ()
    assert seen == [["20.10.24", "28.5.2-containerd"], ["28.5.2-containerd"]]


def test_observation_label_falls_back_to_the_engine_version():
    class Obs:
        name = None
        provenance = {"engine_version": "26.1.5+dfsg1"}

    assert show.observation_label(Obs()) == "Docker 26.1.5+dfsg1"


def test_binder_links_use_the_one_repository_slug():
    settings = json.loads((ROOT / "labkit" / "binder.json").read_text())
    url = show.binder_url("notebooks/01-the-empty-image.ipynb")
    assert url == (f"{settings['binder']}/v2/gh/{settings['repository']}/{settings['ref']}"
                   "?urlpath=lab/tree/notebooks/01-the-empty-image.ipynb")
    badge = show.binder_badge("01-the-empty-image.ipynb")
    assert badge.url == url and "labkit-binder-badge" in badge._repr_html_()
    assert badge._repr_markdown_() == f"[![Binder]({settings['badge']})]({url})"


def test_engine_picker_draws_labkit_compare_by_default(capsys):
    recorded = observe.recorded()
    if len(recorded) < 2:
        pytest.skip("needs two recorded observations in data/observations/")
    box = show.engine_picker(recorded[:2])  # outside a kernel the Output widget prints
    names = [o.name for o in recorded[:2]]
    assert [label for label, _ in find(box, "labkit-engine-select").options] == names
    shown = capsys.readouterr().out
    assert all(name in shown for name in names) and "Figure(" in shown


# --- comparison tables and plots over observations ------------------------------------------
@pytest.fixture(scope="module")
def recorded():
    return observe.recorded()


def _with_modern_headers(obs: observe.Observation) -> observe.Observation:
    """A copy of ``obs`` whose hello layer has the headers labkit predicts for 26+."""
    other = observe.from_dict(copy.deepcopy(obs.to_dict()))
    other.name = "modern-prediction"
    layer = io.BytesIO()
    scenarios.hello_image("modern").write_layer(0, layer)
    case = other["hello-legacy"].main
    case.extra["layer_tar_headers"] = oci.tar_headers(layer.getvalue())
    case.diff_ids = scenarios.hello_image("modern").diff_ids
    return other


def test_comparison_has_one_row_per_engine_and_case(recorded):
    table = show.comparison(recorded)
    cases = sum(len(r.cases) for o in recorded for r in o.results.values())
    assert len(table.rows) == cases
    assert {row["engine"] for row in table.rows} == {o.name for o in recorded}
    assert "recorded on Docker 20.10.24" in table.title


def test_comparison_of_one_scenario_drops_the_scenario_column():
    table = show.comparison([observe.reference()], "empty-import")
    assert [row["case"] for row in table.rows] == ["empty-1024", "gnu-tar-10240"]
    assert "scenario" not in table.columns
    assert table.rows[0]["diff_ids"] == "5f70bf18a086"


def test_plot_sizes_draws_one_bar_per_variant_and_engine(recorded):
    fig, ax = show.plot_sizes(recorded)
    variants = list(observe.reference()["hello-variants"].cases)
    assert [t.get_text() for t in ax.get_xticklabels()] == variants
    assert len(ax.patches) == len(variants) * len(recorded)
    assert ax.get_yscale() == "log"
    assert any("official hello-world" in t.get_text() for t in ax.get_legend().get_texts())


def test_plot_sizes_refuses_an_unknown_field():
    with pytest.raises(LabkitError, match="cannot plot 'layers'"):
        show.plot_sizes([observe.reference()], field="layers")


def test_plot_layers_shows_the_three_layer_era_1_4_image():
    fig, ax = show.plot_layers([observe.reference()], ["empty-labkit", "era-1.4"])
    assert [p.get_height() for p in ax.patches] == [0, 3]


def test_tar_header_diff_shows_mode_and_owner_names():
    ref = observe.reference()
    diff = show.tar_header_diff(ref, _with_modern_headers(ref))
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
        show.tar_header_diff(ref, broken)


def test_recorded_engines_differ_in_mode_and_owner_names_only():
    """The committed 20.10.24 and 26.1.5 recordings: same file, different header fields."""
    old = observe.load(observe.DATA_DIR / "20.10.24.json")
    new = observe.load(observe.DATA_DIR / "26.1.5.json")
    for scenario in ("hello-legacy", "hello-buildkit"):
        diff = show.tar_header_diff(old, new, scenario)
        assert [row["field"] for row in diff.rows] == ["mode", "chksum", "uname", "gname",
                                                       "layer diff_id"]


def test_comparison_cells_read_as_the_lesson_tables_do(recorded):
    # One formatter for a case's cells: the comparison table once had its own, which dropped the
    # build-time mark, printed sizes without a unit and ran stdout and stderr differently.
    ours = {(r["engine"], r["case"]): r for r in show.comparison(recorded, "hello-legacy").rows}
    lesson = show.across(recorded, "hello-legacy")
    for row in lesson.rows:
        mine = ours[row["engine"], row["case"]]
        assert [mine[c] for c in ("image", "run", "size (inspect)", "diff_ids")] == \
               [row[c] for c in ("image", "run", "size (inspect)", "diff_ids")]


def test_a_short_table_shows_twelve_digits_of_each_whole_digest_and_the_rest_on_hover():
    digest = "sha256:" + "0123456789ab" + "cd" * 26
    rows = [{"digest": digest, "bare": "f" * 64, "note": "sha256:short"}]
    t = show.table(rows, short=True)
    assert str(t).splitlines()[-1].split() == ["0123456789ab", "ffffffffffff", "sha256:short"]
    assert f"title='{digest}'" in t._repr_html_() and ">0123456789ab</code>" in t._repr_html_()
    assert digest in str(show.table(rows))                       # opt-in: other tables unchanged
