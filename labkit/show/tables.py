"""Tables and one-line notes that render as HTML in a notebook and as text elsewhere.

Example:
    >>> t = table([{"engine": "20.10.24", "layers": 1}], title="Layers")
    >>> "20.10.24" in t._repr_html_()
    True
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from labkit.show.style import PALETTE

#: A whole digest (``sha256:`` and 64 hex digits): a ``short`` table shows its first 12.
FULL_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


@dataclass
class Table:
    """A small table that renders as HTML in a notebook and as text elsewhere."""

    rows: list[dict[str, Any]]
    columns: list[str] = field(default_factory=list)
    title: str | None = None
    #: show each whole digest by its first 12 hex digits (the full value on hover).
    short: bool = False

    def _cells(self) -> list[list[str]]:
        return [[self._text(r.get(c)) for c in self.columns] for r in self.rows]

    def _text(self, value) -> str:
        text = "" if value is None else str(value)
        found = FULL_DIGEST.fullmatch(text) if self.short else None
        return found.group(1)[:12] if found else text

    def _html_cell(self, value) -> str:
        text = "" if value is None else str(value)
        if self.short and FULL_DIGEST.fullmatch(text):
            return (f"<code title='{html.escape(text)}' style='border-bottom:1px dotted #888'>"
                    f"{html.escape(self._text(text))}</code>")
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
          title: str | None = None, *, short: bool = False) -> Table:
    """A :class:`Table` of ``rows`` (dicts); ``columns`` picks and orders the keys;
    ``short`` shows whole digests by their first 12 hex digits (the full one on hover).

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
    return Table(rows, list(columns), title, short)



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
