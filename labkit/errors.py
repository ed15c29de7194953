"""One root exception for everything labkit refuses to do.

Every message is one line that says what went wrong and, where it helps, what to
do next. The command line prints ``error: <message>`` and exits with status 2.

Example:
    >>> from labkit.errors import LabkitError
    >>> try:
    ...     raise EngineUnavailable("no Docker engine answered at unix:///x.sock",
    ...                             hint="start Docker, or run the lab offline")
    ... except LabkitError as err:
    ...     print(err)
    no Docker engine answered at unix:///x.sock; start Docker, or run the lab offline
"""
from __future__ import annotations

MAX_LINE = 400   # characters of a message (or hint): a name in it can be 1 MiB long


def _one_line(text) -> str:
    """``text`` on one line, its middle cut out when it is longer than ``MAX_LINE``.

    Example:
        >>> len(_one_line("x" * 10_000)) <= MAX_LINE
        True
    """
    line = " ".join(str(text).split())
    if len(line) <= MAX_LINE:
        return line
    keep = (MAX_LINE - 5) // 2
    return f"{line[:keep]} […] {line[-keep:]}"


class LabkitError(Exception):
    """Root of every error labkit raises on purpose.

    Args:
        message: what went wrong, one line.
        hint: what to do next (optional), appended after a semicolon.
    """

    def __init__(self, message: str, hint: str | None = None):
        self.message = _one_line(message)
        self.hint = _one_line(hint) if hint else None
        super().__init__(self.message + (f"; {self.hint}" if self.hint else ""))

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it in a notebook: the one line, as the command line prints
        it, not a traceback through labkit's insides.

        Example:
            >>> LabkitError("no such image", hint="load it first")._render_traceback_()
            ['error: no such image; load it first']
        """
        return [f"error: {self}"]


class EngineUnavailable(LabkitError):
    """No Docker engine answered (or it answered something unusable)."""


class EngineError(LabkitError):
    """The engine answered but refused or failed an operation."""


class BadImage(LabkitError):
    """An image tarball or layout is malformed, truncated or inconsistent."""


class DigestMismatch(BadImage):
    """Content does not hash to the digest that names it."""


class UnsafeArchive(BadImage):
    """A tarball tries to write outside its target or create something dangerous."""


class MissingTool(LabkitError):
    """An outside program (compiler, apt, umoci...) is not installed."""


class FleetError(LabkitError):
    """Starting, querying or stopping the fleet of engines failed."""


class RegistryError(LabkitError):
    """Starting, reaching or talking to a registry failed, or it refused a request."""
