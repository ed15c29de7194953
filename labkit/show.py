"""Tables, plots and widgets for the notebooks, in one consistent look.

Everything here only displays: the numbers come from the other labkit modules.

Example:
    >>> from labkit import show
    >>> t = show.table([{"engine": "20.10.24", "layers": 1}], title="Layers")
    >>> "20.10.24" in t._repr_html_()
    True
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
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
