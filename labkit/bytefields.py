"""A file's bytes with names: the fields a hexdump labels (an ELF header, a tar header).

``labkit.hello.elf_fields`` and ``labkit.oci.tar_fields`` return lists of :class:`Field`,
one per named run of bytes, in file order and with no gap; ``labkit.show.hexdump`` draws
them. This module only holds the shape both use (it sits at the bottom of the layers, so
both can).

Example:
    >>> magic = Field(0, b"\\x7fELF", "ELF header", "magic", "this is an ELF file")
    >>> magic.size, magic.end
    (4, 4)
    >>> totals([magic, Field(4, b"hi", "message", "text", "what it prints")])
    [('ELF header', 4), ('message', 2)]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable



@dataclass(frozen=True)
class Field:
    """One named run of bytes in a file.

    Attributes:
        offset: where it starts in the file (bytes from the beginning).
        raw: its bytes, exactly as in the file.
        part: the larger structure it belongs to (``ELF header``, ``tar header``…);
            consecutive fields of one part are drawn together.
        name: the field's name as the format's specification spells it (``e_entry``,
            ``mode``), or the instructions (``push 1; pop rdi``).
        meaning: what the bytes say, in plain words.
    """

    offset: int
    raw: bytes
    part: str
    name: str
    meaning: str

    @property
    def size(self) -> int:
        """How many bytes the field takes."""
        return len(self.raw)

    @property
    def end(self) -> int:
        """The offset just after the field."""
        return self.offset + len(self.raw)


def totals(fields: Iterable[Field]) -> list[tuple[str, int]]:
    """``(part, bytes)`` for each run of consecutive fields of one part, in file order.

    Example:
        >>> totals([Field(0, b"ab", "a", "x", ""), Field(2, b"c", "b", "y", ""), Field(3, b"d", "b", "z", "")])
        [('a', 2), ('b', 2)]
    """
    out: list[tuple[str, int]] = []
    for field in fields:
        if out and out[-1][0] == field.part:
            out[-1] = (field.part, out[-1][1] + field.size)
        else:
            out.append((field.part, field.size))
    return out


def problem(fields: list[Field], data: bytes) -> str | None:
    """None when ``fields`` name every byte of ``data`` once, in order, each with the bytes
    the file really holds there; else the first thing wrong, in one line (the caller
    raises it as its own error: this module sits below ``labkit.errors``' users and
    imports nothing).

    Example:
        >>> problem([Field(0, b"ab", "p", "n", "")], b"ab") is None
        True
        >>> problem([Field(0, b"ab", "p", "n", "")], b"abc")
        'the fields end at byte 2 of 3'
    """
    at = 0
    for field in fields:
        if field.offset != at or data[field.offset:field.end] != field.raw:
            return f"field {field.name!r} at byte {field.offset} does not follow on at byte {at}"
        at = field.end
    return None if at == len(data) else f"the fields end at byte {at} of {len(data)}"
