"""What a scenario works with and what it returns: ``Lab``, ``Case`` and ``Scenario``.

Example:
    >>> Case("labkit", ok=False, error="no such image").to_dict()["error"]
    'no such image'
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from labkit.errors import LabkitError

#: Every image a scenario makes is tagged ``labkit-observe:<scenario>-<case>``.
REPOSITORY = "labkit-observe"
#: ``Case.extra`` key of a case that cannot be made on this machine (no compiler or
#: busybox for the engine's architecture here): its value says why, and
#: ``labkit.observe.scenario`` shows the recorded case instead, labelled.
NOT_HERE = "not_here"


@dataclasses.dataclass
class Case:
    """One image (or one attempt to make one) and what the engine says about it.

    Example:
        >>> Case("labkit", ok=False, error="no such image").to_dict()["error"]
        'no such image'
    """

    builder: str
    ok: bool = True
    error: str | None = None
    image_id: str | None = None
    id_kind: str | None = None
    layers: int | None = None
    diff_ids: list[str] = dataclasses.field(default_factory=list)
    size_inspect: int | None = None
    size_listed: int | None = None
    history: list[dict] = dataclasses.field(default_factory=list)
    run: dict | None = None
    save: dict | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    engine_assigned: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Case":
        """The inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named measurement: ``func(lab) -> {case name: Case}``."""

    name: str
    description: str
    func: Callable[["Lab"], dict[str, Case]]



def engine_words(error: LabkitError | str | None, ref: str) -> str | None:
    """The engine's own words: labkit's "cannot save <ref>: " prefix and hint removed.

    Example:
        >>> engine_words("cannot save x:1: empty export - not implemented", "x:1")
        'empty export - not implemented'
    """
    if error is None:
        return None
    text = error.message if isinstance(error, LabkitError) else str(error)
    for marker in (f"{ref} failed: ", f"{ref}: "):
        if marker in text:
            return text.split(marker, 1)[1]
    return text


@dataclasses.dataclass
class Lab:
    """What a scenario works with: the engine, a scratch directory, the tags it made.

    Example:
        >>> lab = Lab(eng, Path("/tmp/w"), "empty-labkit")  # doctest: +SKIP
        >>> lab.tag("labkit")                                 # doctest: +SKIP
        'labkit-observe:empty-labkit-labkit'
    """

    engine: Any
    workdir: Path
    scenario: str
    tags: list[str] = dataclasses.field(default_factory=list)

    def tag(self, case: str) -> str:
        """A tag for ``case``'s image, remembered so :func:`run` removes it."""
        tag = f"{REPOSITORY}:{self.scenario}-{case}"
        self.tags.append(tag)
        return tag
