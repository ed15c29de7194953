"""A hexdump whose fields are named: one row per field, grouped by the part it belongs to.

Draws what ``labkit.hello.elf_fields`` and ``labkit.oci.tar_fields`` return (lists of
``labkit.bytefields.Field``): the offset, the bytes in hexadecimal (long runs shortened,
every byte on hover), the field's name and what it says. The title adds the parts up, so
a reader sees where every byte of the file goes.

Example:
    >>> from labkit.hello import elf_fields, tiny_elf
    >>> print(hexdump(elf_fields(tiny_elf())).title)
    170 bytes = ELF header 64 + program header 56 + instructions 30 + message 20
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

from labkit.bytefields import Field, totals
from labkit.show.style import PALETTE

#: Bytes shown in full; a longer field shows its first ``SHOWN`` bytes and a count of the rest.
FULL = 12
SHOWN = 8
#: The most bytes a row's hover text lists.
HOVER = 256


def hex_bytes(raw: bytes, shown: int = SHOWN) -> str:
    """``raw`` in hexadecimal, a long run of one byte at the end written ``+ N × 00``.

    Example:
        >>> hex_bytes(b"hello" + bytes(95))
        '68 65 6c 6c 6f + 95 × 00'
        >>> hex_bytes(bytes(range(20)))
        '00 01 02 03 04 05 06 07 … +12 bytes'
        >>> hex_bytes(b"\\x78\\x00\\x40\\x00\\x00\\x00\\x00\\x00")
        '78 00 40 00 00 00 00 00'
    """
    if len(raw) <= max(shown, FULL):
        return raw.hex(" ")
    body = raw.rstrip(raw[-1:])
    run = len(raw) - len(body)
    if run < 4:
        body, run = raw, 0
    text = body[:shown].hex(" ")
    if len(body) > shown:
        text += f" … +{len(body) - shown:,} bytes"
    if run:
        text += f"{' ' if text else ''}+ {run:,} × {raw[-1:].hex()}"
    return text.strip()


@dataclass(frozen=True)
class Hexdump:
    """Named fields, drawn as a table (HTML in a notebook, text elsewhere)."""

    fields: tuple[Field, ...]
    title: str

    def rows(self) -> list[dict]:
        """One dict per field: ``offset``, ``bytes``, ``field``, ``what it says``, ``part``."""
        return [{"offset": f.offset, "bytes": hex_bytes(f.raw), "field": f.name, "what it says": f.meaning,
                 "part": f.part} for f in self.fields]

    def runs(self) -> list[tuple[str, int, list[Field]]]:
        """``(part, bytes, fields)`` for each run of consecutive fields of one part."""
        out: list[tuple[str, int, list[Field]]] = []
        for f in self.fields:
            if out and out[-1][0] == f.part:
                out[-1] = (f.part, out[-1][1] + f.size, out[-1][2] + [f])
            else:
                out.append((f.part, f.size, [f]))
        return out

    def __str__(self) -> str:
        cols = ("offset", "bytes", "field")
        cells = {f: (str(f.offset), hex_bytes(f.raw), f.name) for f in self.fields}
        widths = [max(len(c), *(len(v[i]) for v in cells.values())) for i, c in enumerate(cols)]

        def line(values: tuple[str, ...], meaning: str) -> str:
            return ("  ".join(v.ljust(w) for v, w in zip(values, widths)) + "  " + meaning).rstrip()
        out = [self.title, line(cols, "what it says")]
        for part, size, fields in self.runs():
            out.append(f"── {part} ({size:,} bytes)")
            out += [line(cells[f], f.meaning) for f in fields]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        colours: dict[str, str] = {}
        body = []
        for part, size, fields in self.runs():
            colour = colours.setdefault(part, PALETTE[len(colours) % (len(PALETTE) - 1)])
            body.append(f"<tr><td colspan='4' style='text-align:left;border-left:6px solid {colour};"
                        f"font-weight:bold;padding-top:6px'>{esc(part)} · {size:,} bytes</td></tr>")
            for f in fields:
                full = f.raw[:HOVER].hex(" ") + (f" … ({f.size:,} bytes)" if f.size > HOVER else "")
                body.append(
                    f"<tr><td style='text-align:right;border-left:6px solid {colour}'><code>{f.offset}</code></td>"
                    f"<td style='text-align:left;white-space:nowrap' title='{esc(full)}'>"
                    f"<code style='white-space:nowrap'>{esc(hex_bytes(f.raw))}</code></td>"
                    f"<td style='text-align:left'><code>{esc(f.name)}</code></td>"
                    f"<td style='text-align:left'>{esc(f.meaning)}</td></tr>")
        head = "".join(f"<th style='text-align:left'>{c}</th>" for c in ("offset", "bytes", "field", "what it says"))
        return (f"<table class='labkit-table labkit-hexdump'><caption style='text-align:left;font-weight:bold'>"
                f"{esc(self.title)}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def hexdump(fields: Sequence[Field], title: str | None = None) -> Hexdump:
    """Draw named fields (``labkit.hello.elf_fields(path)``, ``labkit.oci.tar_fields(layer)``).

    Args:
        fields: every byte of a file, named, in order.
        title: default: the file's size as the sum of its parts.

    Example:
        >>> from labkit.oci import Entry, layer_tar, tar_fields
        >>> print(hexdump(tar_fields(layer_tar([Entry.file("hello", b"hi")]))).title)
        2,048 bytes = tar header 512 + content 2 + padding 510 + end of archive 1,024
    """
    fields = tuple(fields)
    if title is None:
        parts = totals(fields)
        title = f"{sum(n for _, n in parts):,} bytes = " + " + ".join(f"{p} {n:,}" for p, n in parts)
    return Hexdump(fields, title)
