"""The engine picker: choose engines and a scenario, read ten rows at a time.

Every recorded (or live) engine x scenario x case is a row of ``labkit.compare``'s
``explorer_rows`` -- over a hundred of them -- so the explorer shows one scenario at a
time and at most :data:`labkit.compare.PAGE_ROWS` rows, with buttons for the next and
previous ten; IDs and long outputs are shortened, the full value on hover, and the
static rendering (a notebook read without a kernel) shows the first page and says how
to see more. ``labkit.compare`` computes every value; this module only draws.

Example:
    >>> from labkit import observe
    >>> t = explorer_table(observe.recorded(), "hello-legacy")
    >>> len(t.rows), t.rows[0]["image"], t.rows[-1]["engine"]
    (5, 'c0f498ec5715', '28.5.2-containerd')
"""
from __future__ import annotations

import html
from typing import Mapping

from labkit import compare
from labkit.show.plots import plot_layers
from labkit.show.tables import Table, short, table
from labkit.show.widgets import _widget_classes

#: The explorer's columns (``scenario`` too when all scenarios are listed).
COLUMNS = ("engine", "scenario", "case", "layers", "image", "size: inspect / images", "save format", "run")
ALL = "all scenarios"


def observation_label(item) -> str:
    """A picker label: ``name`` (an Observation's), else its provenance's engine version.

    Example:
        >>> observation_label({"name": "28.5.2-containerd"})
        '28.5.2-containerd'
    """
    get = (lambda k: item.get(k)) if isinstance(item, Mapping) else (lambda k: getattr(item, k, None))
    if get("name"):
        return str(get("name"))
    provenance = get("provenance") or {}
    version = provenance.get("engine_version") if isinstance(provenance, Mapping) else None
    return f"Docker {version}" if version else str(item)


def explorer_table(observations, scenario: str | None = None, number: int = 0) -> Table:
    """Page ``number`` (from 0) of the explorer's rows for ``scenario`` (None: all), at most
    ten rows, IDs to 12 digits, errors and outputs to about 20 characters (full values on
    hover).

    Example:
        >>> from labkit import observe
        >>> explorer_table(observe.recorded(), None, 1).title
        'all scenarios on 5 engine(s): rows 11–20 of 155'
    """
    rows = compare.explorer_rows(observations, scenario)
    chosen, first, last, _ = compare.page(rows, number)
    shown = []
    for row in chosen:
        image = short(row["image"], 20 if str(row["image"]).startswith("error") else 12)
        if row["set at build time"] and image is not None:
            image.full += " (set at build time: differs on every build)"
        sizes = (row["size (inspect)"], row["size (docker images)"])
        shown.append({**row, "case": short(row["case"], 20), "image": image, "run": short(row["run"], 28),
                      "save format": short(row["save format"], 16),
                      "size: inspect / images": None if sizes == (None, None) else
                      " / ".join("—" if s is None else s for s in sizes)})
    columns = [c for c in COLUMNS if c != "scenario" or scenario is None]
    engines = len({row["engine"] for row in rows})
    return table(shown, columns, missing="—",
                 title=f"{scenario or ALL} on {engines} engine(s): rows {first}–{last} of {len(rows)}")


def _explorer(items, widgets, scenario: str | None):
    """The explorer's own controls (a scenario menu, page buttons), its render function,
    and a one-item list the picker fills with its redraw function."""
    names = list(dict.fromkeys(n for obs in items for n in getattr(obs, "results", {})))
    pick = widgets.Dropdown(options=[ALL, *names], value=scenario if scenario in names else ALL,
                            description="scenario")
    pick.add_class("labkit-scenario-select")
    back, more = widgets.Button(description="◀ previous 10"), widgets.Button(description="next 10 ▶")
    back.add_class("labkit-page-back")
    more.add_class("labkit-page-next")
    state, redraw = {"page": 0}, [lambda: None]

    def render(chosen):
        name = None if pick.value == ALL else pick.value
        _, _, _, pages = compare.page(compare.explorer_rows(chosen, name), state["page"])
        state["page"] = min(state["page"], pages - 1)
        back.disabled, more.disabled = state["page"] == 0, state["page"] >= pages - 1
        return [explorer_table(chosen, name, state["page"]), plot_layers(chosen, [name] if name else None)[0]]

    def turn(step: int):
        def go(_button=None) -> None:
            state["page"] = max(0, state["page"] + step)
            redraw[0]()
        return go

    def restart(_change=None) -> None:
        state["page"] = 0
        redraw[0]()

    back.on_click(turn(-1))
    more.on_click(turn(1))
    pick.observe(restart, names="value")
    return [pick, widgets.HBox([back, more])], render, redraw


def engine_picker(observations, render=None, label=observation_label, scenario: str | None = None):
    """A multi-select of engines that redraws a comparison each time the choice changes.

    With the default ``render`` it is the lab's explorer: a scenario menu and ten rows at a
    time (:func:`explorer_table`, with "next 10" / "previous 10" buttons) above the layer
    plot of the engines chosen.

    Args:
        observations: ``labkit.observe`` Observations (live and recorded may mix), or
            any items.
        render: ``render(chosen_items)`` -> something to display, or a list of them
            (tables, matplotlib figures ...); default: the explorer.
        label: names an item in the picker.
        scenario: the explorer's first scenario (default: all of them).

    Returns:
        An ipywidgets ``VBox`` (CSS class ``labkit-engine-picker``).

    Example:
        >>> from labkit.show import table
        >>> box = engine_picker([{"name": "20.10.24"}, {"name": "28.5.2"}],
        ...                     render=lambda chosen: table(chosen, ["name"]))
        name
        --------
        20.10.24
        28.5.2
        >>> box.children[0].value
        (0, 1)
    """
    widgets, _, EnginePicker = _widget_classes()
    from IPython.display import display

    items = list(observations)
    select = widgets.SelectMultiple(options=[(label(item), i) for i, item in enumerate(items)],
                                    value=tuple(range(len(items))),
                                    rows=min(max(len(items), 2), 6), description="engines")
    select.add_class("labkit-engine-select")
    controls, holder = [], [lambda: None]
    if render is None:
        controls, render, holder = _explorer(items, widgets, scenario)
    view = widgets.Output()
    view.add_class("labkit-engine-view")

    first: list = []      # what the first view showed: the static rendering's content

    def redraw(_change=None) -> None:
        chosen = [items[i] for i in select.value]
        view.outputs = ()
        with view:
            if not chosen:
                print("Pick at least one engine (Ctrl/Shift-click to pick several).")
                return
            shown = render(chosen)
            if not first:
                first.append(shown)
            for thing in shown if isinstance(shown, (list, tuple)) else [shown]:
                display(thing)
                if hasattr(thing, "savefig"):  # a matplotlib figure: shown once, then freed
                    import matplotlib.pyplot as plt

                    plt.close(thing)

    holder[0] = redraw
    select.observe(redraw, names="value")
    redraw()
    box = EnginePicker([select, *controls, view])
    box.add_class("labkit-engine-picker")
    box.static_html = ("<div class='labkit-engine-picker-static'><p><em>All engines, the first rows; in a "
                       "running notebook, pick engines and a scenario, and page with “next 10”.</em></p>"
                       + "".join(_static(thing) for thing in _listed(first[0] if first else []))
                       + "</div>")
    return box


def _listed(shown) -> list:
    return list(shown) if isinstance(shown, (list, tuple)) else [shown]


def _static(thing) -> str:
    """HTML for one thing a picker shows: its own HTML, or a figure as a PNG."""
    if hasattr(thing, "savefig"):
        import base64
        import io

        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        thing.savefig(buffer, format="png", dpi=80)
        plt.close(thing)
        return f"<img src='data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}'>"
    if hasattr(thing, "_repr_html_"):
        return thing._repr_html_()
    return f"<pre>{html.escape(str(thing))}</pre>"


__all__ = ["ALL", "COLUMNS", "engine_picker", "explorer_table", "observation_label"]
