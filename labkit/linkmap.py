"""Why a static program is big: the linker's map says which library member pulled in which.

A static link copies in every object file (archive *member*) of the C library that
something already linked refers to, and then what those refer to. The linker can write
a map of those choices (``-Wl,-Map=FILE``): "member X was included to satisfy a
reference by member Y to symbol S". Following it back from a member to the program's
start file shows why it is there, though the program never called it.

Example:
    >>> text = '''Archive member included to satisfy reference by file (symbol)
    ...
    ... /usr/lib/libc.a(libc-start.o)
    ...                               /usr/lib/crt1.o (__libc_start_main)
    ... /usr/lib/libc.a(assert.o)
    ...                               /usr/lib/libc.a(libc-start.o) (__assert_fail)
    ...
    ... Memory Configuration'''
    >>> [str(step) for step in chain(parse(text), "assert.o")]
    ['crt1.o needs __libc_start_main: libc-start.o', 'libc-start.o needs __assert_fail: assert.o']
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MEMBER = re.compile(r"^(\S+?)(?:\((?P<member>[^)]+)\))?$")
_REFERENCE = re.compile(r"^\s+(\S+?)(?:\((?P<member>[^)]+)\))?\s+\((?P<symbol>[^)]+)\)$")


@dataclass(frozen=True)
class Step:
    """``needed_by`` refers to ``symbol``, so the linker included ``member``."""

    needed_by: str
    symbol: str
    member: str

    def __str__(self) -> str:
        return f"{self.needed_by} needs {self.symbol}: {self.member}"


def _name(match: re.Match) -> str:
    return match.group("member") or Path(match.group(1)).name


def parse(text: str) -> dict[str, Step]:
    """Member name -> the :class:`Step` that included it, from a GNU ld map's first section."""
    lines = text.splitlines()
    try:
        start = lines.index("Archive member included to satisfy reference by file (symbol)") + 1
    except ValueError:
        return {}
    steps: dict[str, Step] = {}
    member = None
    for line in lines[start:]:
        if line and not line[0].isspace():
            if " " in line.strip():          # the next section's heading
                break
            match = _MEMBER.match(line.strip())
            member = _name(match) if match else None
            continue
        ref = _REFERENCE.match(line)
        if member and ref and member not in steps:
            steps[member] = Step(_name(ref), ref.group("symbol"), member)
    return steps


def chain(steps: dict[str, Step], member: str) -> list[Step]:
    """The steps from the program's start file to ``member`` (empty if it was not linked)."""
    out, seen = [], set()
    while member in steps and member not in seen:
        seen.add(member)
        out.append(steps[member])
        member = steps[member].needed_by
    return list(reversed(out))
