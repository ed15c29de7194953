"""labkit.show.picker: the engine explorer shows ten rows at a time, a scenario at a time,
and its static rendering stays short (issue 17: no output over 40 rows, fits 1,000 px)."""
from __future__ import annotations

import re

import pytest

from labkit import compare, observe, show


@pytest.fixture(scope="module")
def recorded():
    found = observe.recorded()
    if len(found) < 2:
        pytest.skip("needs the recorded observations in data/observations/")
    return found


def find(widget, css_class):
    """The first widget under ``widget`` with ``css_class``."""
    if css_class in getattr(widget, "_dom_classes", ()):
        return widget
    for child in getattr(widget, "children", ()):
        hit = find(child, css_class)
        if hit is not None:
            return hit
    return None


def test_page_clamps_and_counts_from_one():
    rows = list(range(23))
    assert compare.page(rows, 0) == (list(range(10)), 1, 10, 3)
    assert compare.page(rows, 7)[1:] == (21, 23, 3)
    assert compare.page(rows, -2)[1] == 1


def test_explorer_table_shows_at_most_ten_rows_with_full_values_on_hover(recorded):
    every = compare.explorer_rows(recorded)
    assert len(every) > 100
    t = show.explorer_table(recorded)
    assert len(t.rows) == 10 and t.title.endswith(f"rows 1–10 of {len(every)}")
    html = t._repr_html_()
    ids = re.findall(r"<code title='(sha256:[0-9a-f]{64})[^']*'[^>]*>([0-9a-f]{12})</code>", html)
    assert ids and all(full[7:19] == shown for full, shown in ids)
    assert max(len(line) for line in str(t).splitlines()) <= 150     # narrow enough to wrap on a page
    assert "—" in str(show.explorer_table(recorded, "empty-dockerfile"))


def test_one_scenario_drops_the_scenario_column(recorded):
    t = show.explorer_table(recorded, "hello-legacy")
    assert "scenario" not in t.columns and [str(r["engine"]) for r in t.rows] == [o.name for o in recorded]


def test_next_and_previous_turn_the_page(recorded, capsys):
    box = show.engine_picker(recorded)
    more, back = find(box, "labkit-page-next"), find(box, "labkit-page-back")
    assert back.disabled and not more.disabled
    capsys.readouterr()
    more.click()
    assert "rows 11–20 of" in capsys.readouterr().out and not back.disabled
    back.click()
    assert "rows 1–10 of" in capsys.readouterr().out


def test_picking_a_scenario_starts_again_on_its_first_page(recorded, capsys):
    box = show.engine_picker(recorded)
    find(box, "labkit-page-next").click()
    capsys.readouterr()
    find(box, "labkit-scenario-select").value = "era-1.4"
    out = capsys.readouterr().out
    assert f"era-1.4 on {len(recorded)} engine(s): rows 1–{len(recorded)} of {len(recorded)}" in out
    assert find(box, "labkit-page-next").disabled


def test_static_rendering_is_the_first_page_only(recorded):
    box = show.engine_picker(recorded)
    rows = box.static_html.count("<tr>")
    assert 0 < rows <= 11 and "next 10" in box.static_html      # header row + ten rows
