"""A checker's answer: :class:`Verdict`, and the helpers every checker shares.

Example:
    >>> print(Verdict("01.2", True, "That is the empty tar's digest."))
    ✔ 01.2 That is the empty tar's digest.
"""
from __future__ import annotations

import html
import numbers
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from labkit import oci
from labkit.checks.record import remember
from labkit.errors import LabkitError


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``passed`` is True, False, or None (not answered yet;
    or, with ``unverified``, judged where the truth could not be had: "not built here").

    Example:
        >>> print(Verdict("01.2", True, "That is the empty tar's digest."))
        ✔ 01.2 That is the empty tar's digest.
    """

    exercise: str
    passed: bool | None
    message: str
    hint: str | None = None
    unverified: bool = False

    def __str__(self) -> str:
        mark = "?" if self.unverified else {True: "✔", False: "✘", None: "…"}[self.passed]
        text = f"{mark} {self.exercise} {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#E69F00" if self.unverified else {True: "#009E73", False: "#D55E00", None: "#0072B2"}[self.passed]
        hint = f"<br><b>Hint:</b> {html.escape(self.hint)}" if self.hint else ""
        return (f"<div style='border-left:4px solid {colour};padding:2px 8px'>"
                f"<b>{html.escape(str(self).splitlines()[0])}</b>{hint}</div>")


def verdict(exercise: str, passed: bool | None, message: str, hint: str | None = None) -> Verdict:
    """A :class:`Verdict`; a passed one is remembered (see ``labkit.checks.progress``)."""
    if passed:
        remember(exercise)
    return Verdict(exercise, passed, message, hint)


def not_verified(exercise: str, reason: str, reading: str, hint: str | None = None) -> Verdict:
    """The verdict when the truth cannot be had here for a reason outside the answer (no
    engine, a base that cannot be pulled, no network): "not built here: <reason>", then
    what a reading of the answer can say. Remembered as unverified, never as passed.

    Example:
        >>> print(not_verified("02.3", "no Docker engine answers", "It reads well."))  # doctest: +ELLIPSIS
        ? 02.3 Not built here: no Docker engine answers. It reads well. ...
    """
    remember(exercise, verified=False)
    return Verdict(exercise, None, f"Not built here: {reason}. {reading} Recorded as unverified, not as "
                   "passed: check it again where an engine answers.", hint, unverified=True)


def unanswered(exercise: str, what: str) -> Verdict:
    """The verdict for an answer still ``None``: what to write instead."""
    return Verdict(exercise, None, f"Not answered yet: replace None with {what}, then run the cell again.")


def inspect_answer(exercise: str, path, what: str):
    """``labkit.oci.inspect(path)`` or a failing Verdict that says why it could not be read."""
    if not isinstance(path, (str, os.PathLike)):
        return None, verdict(exercise, False, f"{path!r} is not a path.",
                              f"pass the path (a string or pathlib.Path) you wrote {what} to")
    if not exists(path):
        return None, verdict(exercise, False, f"There is nothing at {_short(os.fspath(path))}.",
                              f"write {what} there first, then pass the same path")
    try:
        return oci.inspect(path), None
    except LabkitError as err:
        return None, verdict(exercise, False, f"labkit could not read {path}: {err}",
                              f"write {what} with labkit.oci.Image(...).write(path, ...)")
    except (OSError, ValueError) as err:
        return None, verdict(exercise, False, f"labkit could not read {path}: {getattr(err, 'strerror', None) or err}",
                              f"write {what} with labkit.oci.Image(...).write(path, ...)")


def exists(path) -> bool:
    """``Path(path).exists()``, False for what cannot be a path here (too long, NUL)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError, TypeError):
        return False


def norm_path(path: str) -> str:
    """``"/etc/x"``, ``"./etc/x"`` and ``"etc/x"`` all become ``"etc/x"``."""
    path = str(path).strip()
    while path.startswith(("./", "/")):
        path = path[1:] if path.startswith("/") else path[2:]
    return path


def text_answer(exercise: str, value, expected: str) -> tuple[str | None, Verdict | None]:
    """``value`` as text (a ``str``, or ``bytes`` as UTF-8), or a failing Verdict that
    says what was expected.

    Example:
        >>> text_answer("05.3", b"etc/.wh.motd", "a path")[0]
        'etc/.wh.motd'
        >>> print(text_answer("05.3", 3, "a path, as a string")[1])
        ✘ 05.3 3 is a number; the answer is a path, as a string.
    """
    if isinstance(value, str):
        return value, None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace"), None
    if isinstance(value, os.PathLike):
        return os.fspath(value), None
    kind = "a number" if isinstance(value, (numbers.Number, Decimal)) else f"a {type(value).__name__}"
    return None, verdict(exercise, False, f"{_short(value)} is {kind}; the answer is {expected}.")


_NUMBER = re.compile(r"^\s*([+-]?[\d][\d,_ \u202f\u00a0']*(?:\.\d+)?)\s*(b|bytes?|rows?)?\s*$", re.I)


def number_answer(exercise: str, value, expected: str) -> tuple[int | float | None, Verdict | None]:
    """``value`` as a number: any numeric type (``int``, numpy's, an integral ``float``,
    ``Decimal``, ``Fraction``) or a text that is plainly one (``"1,066,258"``, ``"3 rows"``);
    whole values come back as ``int``. Else a failing Verdict that says what was expected.

    Example:
        >>> number_answer("06.1", 2048.0, "a number of bytes")[0], number_answer("06.1", "1_024 B", "")[0]
        (2048, 1024)
        >>> print(number_answer("dd.1", True, "a number")[1])
        ✘ dd.1 True is a truth value; the answer is a number.
    """
    if _is_bool(value):
        return None, verdict(exercise, False, f"{value!r} is a truth value; the answer is {expected}.")
    if isinstance(value, (str, bytes)):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        match = _NUMBER.match(text)
        if not match:
            return None, verdict(exercise, False, f"{_short(value)} is not a number; the answer is {expected}.")
        digits = re.sub(r"[,_ \u202f\u00a0']", "", match.group(1))
        value = Decimal(digits)
    if isinstance(value, (numbers.Number, Decimal)) and not isinstance(value, complex):
        try:
            exact = Fraction(value) if isinstance(value, (Decimal, Fraction, numbers.Rational)) else Fraction(float(value))
        except (TypeError, ValueError, OverflowError):
            return None, verdict(exercise, False, f"{_short(value)} is not a finite number; the answer is {expected}.")
        return (int(exact) if exact.denominator == 1 else float(exact)), None
    if hasattr(value, "__index__"):
        return value.__index__(), None
    return None, verdict(exercise, False, f"{_short(value)} is a {type(value).__name__}; the answer is {expected}.")


def bool_answer(exercise: str, value) -> tuple[bool | None, Verdict | None]:
    """``value`` as True or False: a ``bool`` (numpy's too), or the words ``"True"``,
    ``"yes"``, ``"False"``, ``"no"``; else a failing Verdict.

    Example:
        >>> bool_answer("01.1", " no ")[0], bool_answer("01.1", False)[0]
        (False, False)
    """
    if _is_bool(value):
        return bool(value), None
    if isinstance(value, str):
        word = value.strip().strip(".!").lower()
        if word in ("true", "yes", "y"):
            return True, None
        if word in ("false", "no", "n"):
            return False, None
    return None, verdict(exercise, False, f"{_short(value)} is neither True nor False.", "write True or False")


def _is_bool(value) -> bool:
    """True for ``True``/``False`` and numpy's booleans."""
    return isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"))


def _short(value) -> str:
    """``repr(value)``, cut to one short line."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def in_work(path) -> bool:
    """True when ``path`` lies in a ``work`` folder (``work/01/ex1``): where the lessons
    have learners write what they make.

    Example:
        >>> in_work("work/01/mine"), in_work("/tmp/mine")
        (True, False)
    """
    return "work" in Path(os.path.abspath(path)).parts
