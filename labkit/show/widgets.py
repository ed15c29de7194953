"""The lab's widgets: the layer explorer (the engine picker is in ``labkit.show.picker``).

The widgets only draw: ``labkit.explore`` and ``labkit.compare`` compute every number.
Stable CSS classes (``labkit-layer-explorer``, ``labkit-layer-select``,
``labkit-file-row`` ...) are the hooks the browser test uses. ipywidgets loads on first
use, so ``import labkit`` stays fast.

Example:
    >>> "width:50%" in size_bar(5, 10)
    True
"""
from __future__ import annotations

import functools
import html
from labkit.explore import Exploration, LayerChanges, explore
from labkit.show.style import PALETTE, human_bytes

CHANGE_MARKS = {"added": ("+", PALETTE[2]), "changed": ("~", PALETTE[1]), "deleted": ("−", PALETTE[3])}
MAX_FILE_ROWS = 400
#: Rows the explorer shows before "show all" (a static page shows only these).
SHOWN_ROWS = 10


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


def layers_html(x, limit: int | None = None) -> str:
    """One row per layer: index, size bar, diff_id, what created it, its change counts
    (the first ``limit`` layers, then how many more)."""
    esc = html.escape
    largest = max((layer.size for layer in x.layers), default=0)
    more = len(x.layers) - limit if limit is not None and len(x.layers) > limit else 0
    left = "style='text-align:left;vertical-align:top'"
    rows = "".join(
        f"<tr class='labkit-layer-row' data-layer='{layer.index}'>"
        f"<td {left}>{layer.index + 1}</td><td style='width:15%'>{size_bar(layer.size, largest)}</td>"
        f"<td style='text-align:left;white-space:nowrap'>{esc(human_bytes(layer.size))}</td>"
        f"<td {left}><code title='{esc(layer.diff_id)}'>{esc(layer.diff_id.split(':')[-1][:12])}</code></td>"
        f"<td {left}>{esc(layer.summary())}</td>"
        f"<td {left}><code title='{esc(layer.created_by)}'>{esc(_cut(layer.created_by, 40))}</code></td></tr>"
        for layer in x.layers[:limit])
    rows += f"<tr><td colspan='6' {left}>… and {more:,} more layers (pick them below)</td></tr>" if more else ""
    head = "".join(f"<th style='text-align:left'>{h}</th>"
                   for h in ("#", "", "size", "diff_id", "changes", "created by"))
    head = f"<tr>{head}</tr>"
    return f"<table class='labkit-layers' style='width:100%'>{head}{rows}</table>"


def _cut(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= n else text[:n - 1] + "…"


def layer_files_html(layer, limit: int = MAX_FILE_ROWS) -> str:
    """The files one layer (a ``LayerChanges``) adds, changes or deletes, with size bars:
    the first ``limit``, then how many more."""
    esc = html.escape
    largest = max((c.bar_bytes for c in layer.changes), default=0)
    rows = []
    limit = min(limit, MAX_FILE_ROWS)
    for c in layer.changes[:limit]:
        mark, colour = CHANGE_MARKS[c.change]
        shown = f"{c.path} → {c.linkname}" if c.linkname else c.path
        before = f" (was {human_bytes(c.size_before)})" if c.change == "changed" else ""
        note = f" <small>by <code>{esc(c.marker)}</code></small>" if c.marker else ""
        rows.append(
            f"<tr class='labkit-file-row' data-change='{c.change}' data-path='{esc(c.path)}'>"
            f"<td style='text-align:left;color:{colour};font-weight:bold;white-space:nowrap'>{mark} {c.change}</td>"
            f"<td style='text-align:left'><code>{esc(shown)}</code>{note}</td>"
            f"<td style='text-align:left'>{esc(c.type)}</td>"
            f"<td style='text-align:left;white-space:nowrap'>{esc(human_bytes(c.bar_bytes))}{esc(before)}</td>"
            f"<td style='width:25%'>{size_bar(c.bar_bytes, largest, colour)}</td></tr>")
    more = len(layer.changes) - limit
    if more > 0:
        how = "" if limit == MAX_FILE_ROWS else (" — run the notebook and press <b>show all</b>, or pass "
                                                  "<code>rows=</code> to <code>layer_explorer</code>")
        rows.append(f"<tr class='labkit-more-rows'><td colspan='5' style='text-align:left'>… and {more:,} more{how}"
                    "</td></tr>")
    if not rows:
        rows.append("<tr><td colspan='5'>This layer changes no files.</td></tr>")
    caption = (f"<caption style='text-align:left'><b>layer {layer.index + 1}</b>: {esc(layer.summary())}; "
               f"{human_bytes(layer.stored_bytes)} stored, {human_bytes(layer.hidden_bytes)} "
               f"hidden from below</caption>")
    return f"<table class='labkit-files' style='width:100%'>{caption}{''.join(rows)}</table>"


@functools.cache
def _widget_classes():
    """The widget classes, built on first use so ``import labkit`` stays fast."""
    import ipywidgets

    class Static:
        """A widget that also carries a static HTML rendering of its first view, so a
        notebook rendered without a kernel (nbconvert, a repository page) is not blank."""

        static_html = ""

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            if isinstance(bundle, dict) and self.static_html:
                bundle["text/html"] = self.static_html
            return bundle

    class LayerExplorer(Static, ipywidgets.VBox):
        """The layer explorer box; its text form (nbval, terminals) is the summary."""

        def __repr__(self) -> str:
            return getattr(self, "text", "LayerExplorer()")

    class EnginePicker(Static, ipywidgets.VBox):
        """The engine picker box."""

    return ipywidgets, LayerExplorer, EnginePicker


def layer_explorer(image, rows: int = SHOWN_ROWS, layer: int = 1):
    """A widget: pick a layer of ``image`` and see the files it adds, changes or deletes.

    Args:
        image: a path, a ``labkit.oci.ImageInfo`` or ``Image``, or a
            ``labkit.explore.Exploration``.
        rows: files (and layers) shown at first; a live notebook's **show all** button
            lists every file of the picked layer (a static page shows only these).
        layer: the layer picked at first (1 = the bottom one, -1 = the top one): the one
            a static page shows.

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
    widgets, LayerExplorer, _ = _widget_classes()
    x = image if isinstance(image, Exploration) else explore(image)
    select = widgets.Select(options=[(layer_label(layer), layer.index) for layer in x.layers],
                            rows=min(max(len(x.layers), 2), 8), disabled=not x.layers,
                            layout=widgets.Layout(width="auto"))
    select.add_class("labkit-layer-select")
    files = widgets.HTML()
    files.add_class("labkit-layer-files")
    show_all = widgets.ToggleButton(description="show all", value=False, layout=widgets.Layout(width="auto"),
                                    tooltip="list every file of the picked layer")
    show_all.add_class("labkit-show-all")

    def redraw(_change=None) -> None:
        limit = MAX_FILE_ROWS if show_all.value else rows
        files.value = "" if select.value is None else layer_files_html(x.layers[select.value], limit)

    first = (layer - 1 if layer > 0 else len(x.layers) + layer) if x.layers else None
    if first is not None:
        select.value = min(max(first, 0), len(x.layers) - 1)
    select.observe(redraw, names="value")
    show_all.observe(redraw, names="value")
    redraw()
    parts = [widgets.HTML(explorer_summary_html(x))]
    if x.layers:
        parts += [widgets.HTML(layers_html(x, rows)), select, files]
        if any(len(layer.changes) > rows for layer in x.layers):
            parts.append(show_all)
    box = LayerExplorer(parts)
    box.add_class("labkit-layer-explorer")
    box.static_html = (f"<div class='labkit-layer-explorer-static'>{explorer_summary_html(x)}"
                       + (layers_html(x, rows) + layer_files_html(x.layers[select.value], rows) if x.layers else "")
                       + "</div>")
    box.text = "\n".join([f"{x.source} ({x.format}): {len(x.layers)} layers"]
                         + [layer_label(layer) for layer in x.layers[:rows]]
                         + ([f"… and {len(x.layers) - rows:,} more layers"] if len(x.layers) > rows else []))
    return box




def layer_label(layer: LayerChanges) -> str:
    """A one-line name for a layer in the picker: its number (from 1, bottom first, as in
    ``labkit.show.image``), short diff_id, size, summary.

    Example:
        >>> layer_label(LayerChanges(0, "sha256:5f70bf18a086", 1024, "", ()))
        'layer 1 · 5f70bf18a086 · 1,024 B (1.0 KiB) · 0 added, 0 changed, 0 deleted'
    """
    short = layer.diff_id.split(":")[-1][:12]
    return f"layer {layer.index + 1} · {short} · {human_bytes(layer.size)} · {layer.summary()}"
