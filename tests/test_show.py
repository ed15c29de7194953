"""labkit.show: tables, the lab's plot style, the widgets (without a browser) and Binder links."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from labkit import oci, show
from labkit.explore import explore
from labkit.oci import Entry

ROOT = Path(__file__).resolve().parents[1]


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
        if path.name == "show.py":
            text = text.split("def figure(", 1)[0] + text.split("return fig, ax", 1)[-1]
        offenders += [f"{path.relative_to(ROOT)}" for _ in PLOT_CALLS.finditer(text)]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        offenders += [f"{path.relative_to(ROOT)}" for _ in PLOT_CALLS.finditer(source)]
    assert offenders == [], "use labkit.show.figure() for every plot"


def test_layer_files_html_marks_each_change(two_layers):
    x = explore(two_layers)
    assert Rows(show.layer_files_html(x.layers[0])).rows == [
        {"change": "added", "path": "etc/motd"}, {"change": "added", "path": "hello"}]
    html = show.layer_files_html(x.layers[1])
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
    assert [label.split(" · ")[0] for label, _ in select.options] == ["layer 0", "layer 1"]
    assert select.value == 0
    assert [r["path"] for r in Rows(files.value).rows] == ["etc/motd", "hello"]
    select.value = 1
    assert [(r["change"], r["path"]) for r in Rows(files.value).rows] == [
        ("deleted", "etc/motd"), ("added", "note")]
    summary = box.children[0].value
    assert "2 layers" in summary and "3 B hidden" in summary
    assert str(box).splitlines()[0] == "two.tar (docker-archive): 2 layers"


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
    from labkit import observe

    recorded = observe.recorded()
    if len(recorded) < 2:
        pytest.skip("needs two recorded observations in data/observations/")
    box = show.engine_picker(recorded[:2])  # outside a kernel the Output widget prints
    names = [o.name for o in recorded[:2]]
    assert [label for label, _ in find(box, "labkit-engine-select").options] == names
    shown = capsys.readouterr().out
    assert all(name in shown for name in names) and "Figure(" in shown

