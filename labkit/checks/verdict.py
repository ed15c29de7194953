"""A checker's answer: :class:`Verdict`, and the helpers every checker shares.

Example:
    >>> print(Verdict("01.2", True, "That is the empty tar's digest."))
    ✔ 01.2 That is the empty tar's digest.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

from labkit import oci
from labkit.checks.record import remember
from labkit.errors import LabkitError


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``passed`` is True, False, or None (not answered yet).

    Example:
        >>> print(Verdict("01.2", True, "That is the empty tar's digest."))
        ✔ 01.2 That is the empty tar's digest.
    """

    exercise: str
    passed: bool | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        mark = {True: "✔", False: "✘", None: "…"}[self.passed]
        text = f"{mark} {self.exercise} {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {True: "#009E73", False: "#D55E00", None: "#0072B2"}[self.passed]
        hint = f"<br><b>Hint:</b> {html.escape(self.hint)}" if self.hint else ""
        return (f"<div style='border-left:4px solid {colour};padding:2px 8px'>"
                f"<b>{html.escape(str(self).splitlines()[0])}</b>{hint}</div>")


def verdict(exercise: str, passed: bool | None, message: str, hint: str | None = None) -> Verdict:
    """A :class:`Verdict`; a passed one is remembered (see ``labkit.checks.progress``)."""
    if passed:
        remember(exercise)
    return Verdict(exercise, passed, message, hint)


def unanswered(exercise: str, what: str) -> Verdict:
    """The verdict for an answer still ``None``: what to write instead."""
    return Verdict(exercise, None, f"Not answered yet: replace None with {what}, then run the cell again.")


def inspect_answer(exercise: str, path, what: str):
    """``labkit.oci.inspect(path)`` or a failing Verdict that says why it could not be read."""
    if not isinstance(path, (str, os.PathLike)):
        return None, verdict(exercise, False, f"{path!r} is not a path.",
                              f"pass the path (a string or pathlib.Path) you wrote {what} to")
    if not Path(path).exists():
        return None, verdict(exercise, False, f"There is nothing at {path}.",
                              f"write {what} there first, then pass the same path")
    try:
        return oci.inspect(path), None
    except LabkitError as err:
        return None, verdict(exercise, False, f"labkit could not read {path}: {err}",
                              f"write {what} with labkit.oci.Image(...).write(path, ...)")


def norm_path(path: str) -> str:
    """``"/etc/x"``, ``"./etc/x"`` and ``"etc/x"`` all become ``"etc/x"``."""
    path = str(path).strip()
    while path.startswith(("./", "/")):
        path = path[1:] if path.startswith("/") else path[2:]
    return path
