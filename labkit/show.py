"""Tables, plots and widgets for the notebooks, in one consistent look.

Everything here only displays: the numbers come from the other labkit modules.

Example:
    >>> from labkit import show
    >>> t = show.table([{"engine": "20.10.24", "layers": 1}], title="Layers")
    >>> "20.10.24" in t._repr_html_()
    True
"""
from __future__ import annotations

import functools
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def human_bytes(n: int | float | None) -> str:
    """``13376`` -> ``"13,376 B (13.1 KiB)"``; exact bytes first, then a readable size.

    Example:
        >>> human_bytes(1024)
        '1,024 B (1.0 KiB)'
    """
    if n is None:
        return "—"
    n = int(n)
    if n < 1024:
        return f"{n:,} B"
    size, unit = float(n), "B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024:
            break
    return f"{n:,} B ({size:.1f} {unit})"


@dataclass
class Table:
    """A small table that renders as HTML in a notebook and as text elsewhere."""

    rows: list[dict[str, Any]]
    columns: list[str] = field(default_factory=list)
    title: str | None = None

    def _cells(self) -> list[list[str]]:
        return [["" if r.get(c) is None else str(r.get(c)) for c in self.columns] for r in self.rows]

    def __str__(self) -> str:
        cells = self._cells()
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]
        line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
        out = [self.title] if self.title else []
        out += [line(self.columns), line(["-" * w for w in widths])]
        out += [line(row) for row in cells]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'><code>{esc(v)}</code></td>" for v in row) + "</tr>"
            for row in self._cells()
        )
        caption = f"<caption style='text-align:left;font-weight:bold'>{esc(self.title)}</caption>" if self.title else ""
        return f"<table class='labkit-table'>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None,
          title: str | None = None) -> Table:
    """A :class:`Table` of ``rows`` (dicts); ``columns`` picks and orders the keys.

    Example:
        >>> print(table([{"a": 1, "b": 2}], columns=["b", "a"]))
        b  a
        -  -
        2  1
    """
    rows = [dict(r) for r in rows]
    if columns is None:
        columns = []
        for r in rows:
            columns += [k for k in r if k not in columns]
    return Table(rows, list(columns), title)


def figure(title: str, xlabel: str | None = None, ylabel: str | None = None,
           size: tuple[float, float] = (7.5, 3.6)):
    """A matplotlib ``(fig, ax)`` in the lab's style: titled, labelled, palette set.

    Example:
        >>> fig, ax = figure("Image sizes", ylabel="bytes")
        >>> ax.get_title(loc="left")
        'Image sizes'
    """
    import matplotlib.pyplot as plt
    from cycler import cycler

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    ax.set_prop_cycle(cycler(color=PALETTE))
    ax.set_title(title, loc="left", fontweight="bold")
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x" if size[0] < size[1] else "y", alpha=0.3)
    return fig, ax


# --- widgets: the layer explorer, the engine picker, Binder links -----------------------
# The widgets only draw: labkit.explore computes every number. Stable CSS classes
# (``labkit-layer-explorer``, ``labkit-layer-select``, ``labkit-file-row`` ...) are the
# hooks the browser test uses.
CHANGE_MARKS = {"added": ("+", PALETTE[2]), "changed": ("~", PALETTE[1]), "deleted": ("−", PALETTE[3])}
MAX_FILE_ROWS = 400


def progress(items: Sequence, description: str):
    """Iterate ``items`` behind a progress bar: a widget in a notebook, tqdm elsewhere.

    In a notebook the bar is displayed as a widget alone (no text copy), so a cell's
    saved text output is the same whether or not the slow path ran.

    Example:
        >>> [n for n in progress([1, 2], "counting")]
        [1, 2]
    """
    bar = _notebook_bar(len(items), description)
    if bar is None:
        from tqdm import tqdm

        yield from tqdm(items, desc=description, disable=None)  # None: off when not a tty
        return
    for item in items:
        yield item
        bar.value += 1
    bar.bar_style = "success"


def _notebook_bar(total: int, description: str):
    try:
        from IPython import get_ipython
        from IPython.display import display
        import ipywidgets
    except ImportError:
        return None
    if getattr(get_ipython(), "kernel", None) is None:
        return None
    bar = ipywidgets.IntProgress(value=0, max=max(total, 1), description=description,
                                 style={"description_width": "initial"})
    bundle = bar._repr_mimebundle_()
    bundle.pop("text/plain", None)
    display(bundle, raw=True)
    return bar


def size_bar(n: int, largest: int, colour: str = PALETTE[0]) -> str:
    """An HTML bar whose width is ``n`` relative to ``largest`` (at least a sliver if n > 0).

    Example:
        >>> "width:50%" in size_bar(5, 10)
        True
    """
    percent = 0 if n <= 0 or largest <= 0 else max(1, round(100 * n / largest))
    return (f"<div class='labkit-bar' title='{n:,} B' style='width:{percent}%;min-height:0.8em;"
            f"background:{colour};border-radius:2px'></div>")


def explorer_summary_html(x) -> str:
    """The explorer's header: what the image is and its totals (an ``Exploration``)."""
    esc = html.escape
    if not x.layers:
        body = ("<b>0 layers</b>: the root filesystem is empty. A container of this image "
                "sees only what the runtime mounts (<code>/proc</code>, <code>/dev</code>, "
                "<code>/etc/hosts</code> …).")
    else:
        t = x.totals()
        body = (f"<b>{t['layers']} layer{'s' * (t['layers'] != 1)}</b>, "
                f"{human_bytes(t['layer_bytes'])} of layer tars = "
                f"{human_bytes(t['content_bytes'])} of visible files + "
                f"{human_bytes(t['hidden_bytes'])} hidden (overwritten or deleted) + "
                f"{human_bytes(t['tar_overhead_bytes'])} of tar headers and padding.")
    return (f"<div class='labkit-explorer-summary'><b>{esc(x.source)}</b> "
            f"<span style='color:#555'>({esc(x.format)})</span><br>{body}</div>")


def layers_html(x) -> str:
    """One row per layer: index, size bar, diff_id, what created it, its change counts."""
    esc = html.escape
    largest = max((layer.size for layer in x.layers), default=0)
    rows = "".join(
        f"<tr class='labkit-layer-row' data-layer='{layer.index}'>"
        f"<td>{layer.index}</td><td style='width:20%'>{size_bar(layer.size, largest)}</td>"
        f"<td style='white-space:nowrap'>{esc(human_bytes(layer.size))}</td>"
        f"<td><code>{esc(layer.diff_id[:19])}…</code></td>"
        f"<td style='white-space:nowrap'>{esc(layer.summary())}</td>"
        f"<td><code>{esc(layer.created_by[:80])}</code></td></tr>"
        for layer in x.layers)
    head = "".join(f"<th style='text-align:left'>{h}</th>"
                   for h in ("#", "size", "", "diff_id", "changes", "created by"))
    head = f"<tr>{head}</tr>"
    return f"<table class='labkit-layers' style='width:100%'>{head}{rows}</table>"


def layer_files_html(layer) -> str:
    """The files one layer (a ``LayerChanges``) adds, changes or deletes, with size bars."""
    esc = html.escape
    largest = max((c.bar_bytes for c in layer.changes), default=0)
    rows = []
    for c in layer.changes[:MAX_FILE_ROWS]:
        mark, colour = CHANGE_MARKS[c.change]
        shown = f"{c.path} → {c.linkname}" if c.linkname else c.path
        before = f" (was {human_bytes(c.size_before)})" if c.change == "changed" else ""
        note = f" <small>by <code>{esc(c.marker)}</code></small>" if c.marker else ""
        rows.append(
            f"<tr class='labkit-file-row' data-change='{c.change}' data-path='{esc(c.path)}'>"
            f"<td style='color:{colour};font-weight:bold'>{mark} {c.change}</td>"
            f"<td><code>{esc(shown)}</code>{note}</td><td>{esc(c.type)}</td>"
            f"<td style='white-space:nowrap'>{esc(human_bytes(c.bar_bytes))}{esc(before)}</td>"
            f"<td style='width:25%'>{size_bar(c.bar_bytes, largest, colour)}</td></tr>")
    more = len(layer.changes) - MAX_FILE_ROWS
    if more > 0:
        rows.append(f"<tr><td colspan='5'>… and {more:,} more</td></tr>")
    if not rows:
        rows.append("<tr><td colspan='5'>This layer changes no files.</td></tr>")
    caption = (f"<caption style='text-align:left'><b>layer {layer.index}</b>: {esc(layer.summary())}; "
               f"{human_bytes(layer.stored_bytes)} stored, {human_bytes(layer.deleted_bytes)} "
               f"hidden from below</caption>")
    return f"<table class='labkit-files' style='width:100%'>{caption}{''.join(rows)}</table>"


@functools.cache
def _widget_classes():
    """The widget classes, built on first use so ``import labkit`` stays fast."""
    import ipywidgets

    class LayerExplorer(ipywidgets.VBox):
        """The layer explorer box; its text form (nbval, terminals) is the summary."""

        def __repr__(self) -> str:
            return getattr(self, "text", "LayerExplorer()")

    return ipywidgets, LayerExplorer


def layer_explorer(image):
    """A widget: pick a layer of ``image`` and see the files it adds, changes or deletes.

    Args:
        image: a path, a ``labkit.oci.ImageInfo`` or ``Image``, or a
            ``labkit.explore.Exploration``.

    Returns:
        An ipywidgets ``VBox`` (CSS class ``labkit-layer-explorer``) whose text form
        lists the layers, so it also reads well outside a browser.

    Example:
        >>> from labkit import oci
        >>> import tempfile, pathlib
        >>> box = layer_explorer(oci.Image().write(pathlib.Path(tempfile.mkdtemp()) / "e.tar"))
        >>> print(box)
        e.tar (docker-archive): 0 layers
    """
    from labkit.explore import Exploration, explore

    widgets, LayerExplorer = _widget_classes()
    x = image if isinstance(image, Exploration) else explore(image)
    select = widgets.Select(options=[(layer.label(), layer.index) for layer in x.layers],
                            rows=min(max(len(x.layers), 2), 8), disabled=not x.layers,
                            layout=widgets.Layout(width="auto"))
    select.add_class("labkit-layer-select")
    files = widgets.HTML()
    files.add_class("labkit-layer-files")

    def redraw(_change=None) -> None:
        files.value = "" if select.value is None else layer_files_html(x.layers[select.value])

    select.observe(redraw, names="value")
    redraw()
    parts = [widgets.HTML(explorer_summary_html(x))]
    if x.layers:
        parts += [widgets.HTML(layers_html(x)), select, files]
    box = LayerExplorer(parts)
    box.add_class("labkit-layer-explorer")
    box.text = "\n".join([f"{x.source} ({x.format}): {len(x.layers)} layers"]
                         + [layer.label() for layer in x.layers])
    return box


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


def _default_render(items):
    from labkit import compare

    return [compare.table(items), compare.plot_layers(items)[0]]


def engine_picker(observations, render=None, label=observation_label):
    """A multi-select of engines that redraws a comparison each time the choice changes.

    Args:
        observations: ``labkit.observe`` Observations (live and recorded may mix), or
            any items.
        render: ``render(chosen_items)`` -> something to display, or a list of them
            (tables, matplotlib figures ...); defaults to ``labkit.compare``'s table
            and layer plot.
        label: names an item in the picker.

    Returns:
        An ipywidgets ``VBox`` (CSS class ``labkit-engine-picker``).

    Example:
        >>> box = engine_picker([{"name": "20.10.24"}, {"name": "28.5.2"}],
        ...                     render=lambda chosen: table(chosen, ["name"]))
        name
        --------
        20.10.24
        28.5.2
        >>> box.children[0].value
        (0, 1)
    """
    widgets, _ = _widget_classes()
    from IPython.display import display

    items = list(observations)
    render = render or _default_render
    select = widgets.SelectMultiple(options=[(label(item), i) for i, item in enumerate(items)],
                                    value=tuple(range(len(items))),
                                    rows=min(max(len(items), 2), 8), description="engines")
    select.add_class("labkit-engine-select")
    view = widgets.Output()
    view.add_class("labkit-engine-view")

    def redraw(_change=None) -> None:
        chosen = [items[i] for i in select.value]
        view.outputs = ()
        with view:
            if not chosen:
                print("Pick at least one engine (Ctrl/Shift-click to pick several).")
                return
            shown = render(chosen)
            for thing in shown if isinstance(shown, (list, tuple)) else [shown]:
                display(thing)
                if hasattr(thing, "savefig"):  # a matplotlib figure: shown once, then freed
                    import matplotlib.pyplot as plt

                    plt.close(thing)

    select.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([select, view])
    box.add_class("labkit-engine-picker")
    return box


BINDER_SETTINGS = Path(__file__).with_name("binder.json")


def _binder_settings() -> dict:
    """``labkit/binder.json``: the Binder site, repository slug, ref and badge image."""
    return json.loads(BINDER_SETTINGS.read_text())


def binder_url(notebook: str | None = None) -> str:
    """The "open in Binder" address of ``notebook`` (a name in ``notebooks/``), or of the lab.

    The repository slug lives in one place, ``labkit/binder.json``.

    Example:
        >>> binder_url("00-start-here.ipynb").endswith("urlpath=lab/tree/notebooks/00-start-here.ipynb")
        True
    """
    settings = _binder_settings()
    path = "notebooks" + (f"/{Path(notebook).name}" if notebook else "")
    return f"{settings['binder']}/v2/gh/{settings['repository']}/{settings['ref']}?urlpath=lab/tree/{path}"


@dataclass(frozen=True)
class BinderBadge:
    """An "open in Binder" badge: a link image in a notebook, Markdown in text."""

    url: str
    badge: str

    def _repr_html_(self) -> str:
        return (f"<a class='labkit-binder-badge' href='{html.escape(self.url)}' target='_blank'>"
                f"<img src='{html.escape(self.badge)}' alt='Open in Binder'></a>")

    def _repr_markdown_(self) -> str:
        return f"[![Binder]({self.badge})]({self.url})"

    __str__ = _repr_markdown_


def binder_badge(notebook: str | None = None) -> BinderBadge:
    """The badge that opens ``notebook`` on Binder (see :func:`binder_url`).

    Example:
        >>> str(binder_badge("01-the-empty-image.ipynb"))[:12]
        '[![Binder](h'
    """
    return BinderBadge(binder_url(notebook), _binder_settings()["badge"])


# --- lesson views ------------------------------------------------------------------------
# What the lesson notebooks display. Every view renders the same text live and offline,
# except the parts notebooks/sanitize.cfg normalises: the mode line, the "live … /
# recorded on … (date)" source, and IDs the engine sets at build time (marked below).
BUILD_TIME_MARK = "(set at build time)"


@dataclass(frozen=True)
class Note:
    """One line of text that renders as a highlighted line in a notebook."""

    text: str
    colour: str = PALETTE[0]

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (f"<div class='labkit-note' style='border-left:4px solid {self.colour};padding:2px 8px'>"
                f"{html.escape(self.text)}</div>")


def mode_banner(engine=None) -> Note:
    """The one line saying whether engine cells run live or show the reference recording.

    Args:
        engine: a ``labkit.engine.Engine``; default: whatever answers at DOCKER_HOST.

    Example:
        >>> str(mode_banner()).startswith("Mode: ")
        True
    """
    from labkit import engine as engine_mod, observe

    eng = engine or engine_mod.try_connect()
    if eng is not None:
        version = observe.short_version(eng.facts.version)
        return Note(f"Mode: live — Docker {version} answers at {eng.base_url}; "
                    "engine cells build and run on it now.")
    ref = observe.reference().provenance
    return Note(f"Mode: offline — no Docker engine answered; engine cells show what Docker "
                f"{observe.short_version(ref['engine_version'])} did, recorded on {ref['date']}; "
                "labkit's own builder runs here.")


def case_value(case, column: str):
    """One cell of a case (a ``labkit.observe`` ``Case``) as every lesson table shows it;
    ``column`` is one of those :func:`scenario` lists."""
    if column == "image":
        if not case.ok:
            return f"error: {case.error}"
        short = case.image_id.split(":")[-1][:12] if case.image_id else None
        return f"{short} {BUILD_TIME_MARK}" if "image_id" in case.engine_assigned else short
    if column == "run":
        run = case.run or {}
        if run.get("error"):
            return f"error: {run['error']}"
        output = (run.get("stdout") or "") + (run.get("stderr") or "")
        text = " / ".join(line.strip() for line in output.splitlines() if line.strip())
        return f"exit {run['exit_code']}: {text}" if run else None
    if column == "save format":
        save = case.save or {}
        return save.get("format") or (f"error: {save['error']}" if save.get("error") else None)
    if column == "history":
        return " | ".join(f"{row.get('created_by') or '(no command)'} [{row.get('size', 0):,} B]"
                          for row in case.history) or None
    if column == "diff_ids":
        return ", ".join(d.split(":")[-1][:12] for d in case.diff_ids) or None
    if column in ("size (inspect)", "size (docker images)"):
        value = case.size_inspect if column == "size (inspect)" else case.size_listed
        return None if value is None else f"{value:,} B"
    if column in ("layers", "builder", "id_kind"):
        return getattr(case, column)
    value = case.extra.get(column)
    if isinstance(value, str) and value.startswith("sha256:"):
        return value.split(":")[-1][:12]  # as short as the image column
    return f"{value:,} B" if column.endswith("_size") and isinstance(value, int) else value


@dataclass(frozen=True)
class ScenarioView:
    """A scenario result as the lessons show it: its source line, then one row per case."""

    source: str
    table: Table

    def __str__(self) -> str:
        return f"{self.source}\n{self.table}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self.source)}</em></p>{self.table._repr_html_()}"


def scenario(result, columns: Sequence[str] = ("builder", "image", "layers", "size (inspect)",
                                                 "size (docker images)", "run"),
             title: str | None = None) -> ScenarioView:
    """One ``labkit.observe`` result: a row per case, the columns a lesson needs.

    Columns: ``builder``, ``image`` (short ID, marked when the engine sets it at build
    time), ``layers``, ``diff_ids``, ``size (inspect)``, ``size (docker images)``,
    ``history``, ``run``, ``save format``, ``id_kind``, or any key of the case's ``extra``.

    Example:
        >>> from labkit import observe
        >>> print(scenario(observe.scenario("empty-labkit"), ["layers"]))  # doctest: +ELLIPSIS
        recorded on Docker 20.10.24 (...)
        ...
    """
    rows = [{"case": name, **{c: case_value(case, c) for c in columns}}
            for name, case in result.cases.items()]
    return ScenarioView(result.source, table(rows, ["case", *columns],
                                             title or f"{result.scenario}: {result.description}"))


def _close(fig):
    """Detach ``fig`` from pyplot so a notebook shows it once, as the cell's value."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig


def one_file_layer_size(n: int) -> int:
    """Bytes of the smallest layer tar holding one ``n``-byte file: a 512-byte header, the
    content padded to 512-byte blocks, and the 1,024-byte end marker.

    Example:
        >>> one_file_layer_size(170)
        2048
    """
    return 512 + -(-n // 512) * 512 + 1024


def hello_sizes(result):
    """Bar chart (log scale, bytes): each hello variant's program and the layer tar that
    carries it, next to the official hello-world program.

    Args:
        result: ``labkit.observe.scenario("hello-variants", ...)``.
    """
    from labkit import hello

    bars = []
    for name, case in result.cases.items():
        if case.ok:
            size = case.extra["binary_size"]
            bars += [(f"{name}: program", size, PALETTE[0]),
                     (f"{name}: layer tar", one_file_layer_size(size), PALETTE[1])]
    bars.append(("official hello-world program", hello.OFFICIAL_HELLO_WORLD["size"], PALETTE[3]))
    fig, ax = figure("Hello programs and the layers that carry them", xlabel="bytes (log scale)",
                     size=(8.5, 0.32 * len(bars) + 1.2))
    labels, sizes, colours = zip(*reversed(bars))
    ax.barh(labels, sizes, color=colours)
    ax.set_xscale("log")
    for y, size in enumerate(sizes):
        ax.annotate(f"{size:,}", (size, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _close(fig)


def image(path) -> ScenarioView:
    """What an image file holds: its layers (diff_id, tar size, entries) and the merged files.

    Example:
        >>> import tempfile, pathlib
        >>> from labkit import oci
        >>> print(image(oci.Image().write(pathlib.Path(tempfile.mkdtemp()) / "e.tar")))  # doctest: +ELLIPSIS
        docker-archive, image id sha256:...
    """
    from labkit import oci

    info = path if isinstance(path, oci.ImageInfo) else oci.inspect(path)
    rows = [{"layer": n, "diff_id": layer.diff_id, "tar size": f"{layer.size:,} B",
             "entries": ", ".join(_entry_text(e) for e in layer.entries) or "(none)"}
            for n, layer in enumerate(info.layers, 1)]
    title = f"{len(info.layers)} layer(s); merged files: " + (
        ", ".join(f"/{p} ({s:,} B)" for p, s in sorted(info.files.items())) or "none")
    return ScenarioView(f"{info.format}, image id {info.image_id}",
                        table(rows, ["layer", "diff_id", "tar size", "entries"], title))


def _entry_text(entry) -> str:
    if entry.whiteout:
        return f"{entry.path} (whiteout)"
    if entry.linkname:
        return f"{entry.path} -> {entry.linkname}"
    return f"{entry.path}/" if entry.type == "dir" else f"{entry.path} ({entry.size:,} B)"


def engines(observations) -> Table:
    """Who measured: one row per observation (version, API, storage, image store, date).

    Example:
        >>> from labkit import observe
        >>> "20.10.24" in str(engines(observe.recorded()))
        True
    """
    rows = [{"engine": obs.name, "Docker": obs.provenance.get("engine_version"),
             "API": obs.provenance.get("api_version"),
             "storage driver": obs.provenance.get("storage_driver"),
             "image store": obs.provenance.get("image_store"),
             "builders": ", ".join(obs.provenance.get("builders", [])),
             "source": obs.source}
            for obs in observations]
    return table(rows, title="Docker engines in this comparison")


def header_diff(entry, eras: Sequence[str] = ("20.10", "modern")) -> Table:
    """The tar header labkit writes for ``entry`` in each era, field by field, and the
    resulting layer diff_id: where the eras differ, the digest differs.

    Example:
        >>> from labkit import oci
        >>> [row["field"] for row in header_diff(oci.Entry.file("hello", b"hi")).rows if row["differs"]]
        ['mode', 'chksum', 'uname', 'gname', 'layer diff_id']
    """
    from labkit import oci

    layers = {era: oci.layer_tar([entry], era=era) for era in eras}
    headers = {era: oci.tar_headers(layer)[0] for era, layer in layers.items()}
    first = headers[eras[0]]
    rows = [{"field": name, "differs": "yes" if any(h.get(name) != first.get(name) for h in headers.values())
             else "", **{era: repr(h.get(name)) for era, h in headers.items()}}
            for name in first if name != "offset"]
    digests = {era: oci.Image([[entry]], era=era).diff_ids[0][:19] + "…" for era in eras}
    rows.append({"field": "layer diff_id", "differs": "yes" if len(set(digests.values())) > 1 else "",
                 **digests})
    return table(rows, ["field", *eras, "differs"], title=f"The tar header of /{entry.path}, as each era writes it")


def across(observations, scenario_name: str,
           columns: Sequence[str] = ("builder", "image", "id_kind", "layers", "diff_ids",
                                     "size (inspect)", "size (docker images)", "save format", "run")) -> Table:
    """One scenario on several engines: a row per engine and case, the columns of
    :func:`scenario` (IDs the engine set at build time are marked, as there).

    So that the table fits a notebook column, a column whose value is the same in every
    row (of two or more) is said once in the title instead; ``rows`` keep every column.

    Example:
        >>> from labkit import observe
        >>> t = across(observe.recorded(), "era-1.4", ["layers"])
        >>> t.rows[0]["layers"]
        2
        >>> print(across(observe.recorded(), "hello-legacy", ["layers", "diff_ids"]).title)
        hello-legacy on 5 engine(s); the same on every one: case legacy, layers 1
    """
    chosen = [obs for obs in observations if scenario_name in obs.results]
    rows = [{"engine": obs.name, "case": name, **{c: case_value(case, c) for c in columns}}
            for obs in chosen for name, case in obs.results[scenario_name].cases.items()]
    title = f"{scenario_name} on {len(chosen)} engine(s)"
    same = [c for c in ("case", *columns) if len(rows) > 1 and len({str(r[c]) for r in rows}) == 1]
    if same:
        title += "; the same on every one: " + ", ".join(
            f"{c} {'—' if rows[0][c] is None else rows[0][c]}" for c in same)
    return Table(rows, [c for c in ("engine", "case", *columns) if c not in same], title)
