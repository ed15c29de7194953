"""Tables and one-line notes that render as HTML in a notebook and as text elsewhere.

A cell value made by :func:`short` shows shortened (a digest: 12 hex digits) and keeps
its full text, which the HTML table shows on hover.

Example:
    >>> t = table([{"engine": "20.10.24", "layers": 1}], title="Layers")
    >>> "20.10.24" in t._repr_html_()
    True
    >>> print(table([{"diff_id": short("sha256:" + "ab" * 32)}]))
    diff_id
    ------------
    abababababab
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from labkit.show.style import PALETTE

#: A whole digest (``sha256:`` and 64 hex digits): a ``short`` table shows its first 12.
FULL_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


class Short(str):
    """A value shown shortened, its full text kept in ``full`` (a hover in HTML tables)."""

    full: str


def short(value, n: int = 12):
    """``value`` shortened for a table, the full text kept for the hover: a digest to its
    first ``n`` hex digits, other text longer than ``n`` to ``n - 1`` characters and "…".
    ``None`` stays ``None`` (a table shows its ``missing`` mark).

    Example:
        >>> s = short("sha256:afb7b93b28f36ab5aa810b703e6d444fc3c8e15850f96fc9233faa52f91d866d")
        >>> s, s.full[:19]
        ('afb7b93b28f3', 'sha256:afb7b93b28f3')
        >>> short("exit 0: Hello from scratch!", 16)
        'exit 0: Hello f…'
    """
    if value is None:
        return None
    text = str(value)
    algorithm, _, hexdigits = text.rpartition(":")
    if len(hexdigits) >= 32 and all(c in "0123456789abcdef" for c in hexdigits) and " " not in algorithm:
        shown = hexdigits[:n]
    else:
        shown = text if len(text) <= n else text[:n - 1] + "…"
    out = Short(shown)
    out.full = text
    return out


@dataclass
class Table:
    """A small table that renders as HTML in a notebook and as text elsewhere.

    ``missing`` is what a cell whose value is ``None`` shows (lesson tables use "—").
    """

    rows: list[dict[str, Any]]
    columns: list[str] = field(default_factory=list)
    title: str | None = None
    #: show each whole digest by its first 12 hex digits (the full value on hover).
    short: bool = False
    missing: str = ""

    def _cells(self) -> list[list[str]]:
        return [[self._text(r.get(c)) for c in self.columns] for r in self.rows]

    def _text(self, value) -> str:
        text = self.missing if value is None else str(value)
        found = FULL_DIGEST.fullmatch(text) if self.short and value is not None else None
        return found.group(1)[:12] if found else text

    def _html_cell(self, value) -> str:
        text = self._text(value)
        full = getattr(value, "full", None) or (str(value) if value is not None else text)
        if full != text:                 # shortened (a ``short`` value, or a short table's digest)
            return (f"<code title='{html.escape(full)}' style='border-bottom:1px dotted #888'>"
                    f"{html.escape(text)}</code>")
        return f"<code>{html.escape(text)}</code>"

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
            "<tr>" + "".join(f"<td style='text-align:left'>{self._html_cell(r.get(c))}</td>" for c in self.columns)
            + "</tr>" for r in self.rows
        )
        caption = f"<caption style='text-align:left;font-weight:bold'>{esc(self.title)}</caption>" if self.title else ""
        return f"<table class='labkit-table'>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None,
          title: str | None = None, missing: str = "", *, short: bool = False) -> Table:
    """A :class:`Table` of ``rows`` (dicts); ``columns`` picks and orders the keys;
    ``missing`` is shown for ``None``; ``short`` shows whole digests by their first 12 hex
    digits (the full one on hover).

    Example:
        >>> print(table([{"a": 1, "b": 2}], columns=["b", "a"]))
        b  a
        -  -
        2  1
        >>> print(table([{"digest": "sha256:" + "ab" * 32}], short=True))
        digest
        ------------
        abababababab
    """
    rows = [dict(r) for r in rows]
    if columns is None:
        columns = []
        for r in rows:
            columns += [k for k in r if k not in columns]
    return Table(rows, list(columns), title, short=short, missing=missing)



@dataclass(frozen=True)
class Note:
    """A line of text (or a few) that renders highlighted in a notebook."""

    text: str
    colour: str = PALETTE[0]

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (f"<div class='labkit-note' style='border-left:4px solid {self.colour};padding:2px 8px'>"
                f"{'<br>'.join(html.escape(line) for line in self.text.splitlines())}</div>")
