"""What a scenario works with and what it returns: ``Lab``, ``Case`` and ``Scenario``.

Example:
    >>> Case("labkit", ok=False, error="no such image").to_dict()["error"]
    'no such image'
"""
from __future__ import annotations

import dataclasses
import shlex
import subprocess
from pathlib import Path
from typing import Any, Callable, Sequence

from labkit.engine import base
from labkit.engine.commands import CommandRun, engine_ids, masked
from labkit.errors import LabkitError

#: Every image a scenario makes is tagged ``<namespace>/<scenario>:<case>``; the namespace
#: is ``lab`` unless ``LABKIT_NAMESPACE`` says otherwise (a learner's own, on a shared
#: engine). It lives with the engine, which also labels its containers with it.
DEFAULT_NAMESPACE = base.DEFAULT_NAMESPACE
namespace = base.namespace


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
    commands: list[dict] = dataclasses.field(default_factory=list)

    def command_runs(self) -> list[CommandRun]:
        """The docker commands behind this case, as typed, with what they printed."""
        return [CommandRun.from_dict(c) for c in self.commands]

    @property
    def built_now(self) -> bool:
        """True when the engine set the image ID at build time (it holds the date)."""
        return "image_id" in self.engine_assigned

    def varying_ids(self) -> set[str]:
        """IDs in the commands' output that differ on every run: those the engine printed
        while building, and the image's own ID when it was set at build time."""
        ids = engine_ids(self.command_runs())
        if self.built_now and self.image_id:
            ids |= {self.image_id.split(":")[-1], self.image_id.split(":")[-1][:12]}
        return ids

    def masked_commands(self) -> list[dict]:
        """The commands with every varying part of their output replaced by ``<varies>``
        (what a fresh recording must reproduce)."""
        ids = self.varying_ids()
        return [{**run.to_dict(), "output": masked(run, ids, built_now=self.built_now,
                                                   sizes_vary=self.sizes_vary)}
                for run in self.command_runs()]

    @property
    def sizes_vary(self) -> bool:
        """True when the sizes the engine lists follow the build's date (see ``describe_image``)."""
        return "size_listed" in self.engine_assigned

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



def unsupported(lab: "Lab", case_name: str, builder: str, reason: str) -> Case:
    """A case the engine cannot make by design (Podman has no BuildKit, and does not load
    the pre-1.10 layout): ``reason`` in one line, as ``error`` and as ``NOT_HERE`` (so a
    lesson shows the recorded case instead, labelled), with the commands that tried.

    Example:
        >>> unsupported(Lab(None, Path("/tmp/w"), "x"), "buildkit", "buildkit", "no BuildKit").extra
        {'not_here': 'no BuildKit'}
    """
    return Case(builder=builder, ok=False, error=reason, extra={NOT_HERE: reason},
                commands=[r.to_dict() for r in lab.transcript(case_name)])


def builder_name(engine, builder: str) -> str:
    """What built an image for the lesson's tables: ``legacy`` and ``buildkit`` on Docker;
    on Podman the one builder behind its build API, ``buildah``.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> builder_name(NS(facts=NS(family="podman")), "legacy")
        'buildah'
    """
    return "buildah" if engine.facts.family == "podman" and builder == "legacy" else builder


def no_buildkit(engine) -> str:
    """Why a BuildKit case cannot be made on a Podman engine, in one line."""
    return f"{engine.facts.label} has no BuildKit: its one builder is Buildah (podman build)"


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
        >>> lab = Lab(None, Path("/tmp/w"), "hello-legacy")
        >>> lab.tag("legacy")
        'lab/hello-legacy:legacy'
    """

    engine: Any
    workdir: Path
    scenario: str
    tags: list[str] = dataclasses.field(default_factory=list)
    transcripts: dict[str, list[CommandRun]] = dataclasses.field(default_factory=dict)

    def tag(self, case: str) -> str:
        """A tag for ``case``'s image, remembered so :func:`run` removes it."""
        tag = f"{namespace()}/{self.scenario}:{case}"
        self.tags.append(tag)
        return tag

    def transcript(self, case: str) -> list[CommandRun]:
        """The docker commands run so far for ``case`` (a list to append to)."""
        return self.transcripts.setdefault(case, [])

    def docker(self, case: str, args: Sequence[str], **kwargs) -> CommandRun:
        """Run ``docker ARGS`` in the scenario's folder for ``case``; keep it in its
        transcript (see ``labkit.engine.Engine.docker`` for ``kwargs``)."""
        run = self.engine.docker(args, cwd=kwargs.pop("cwd", self.workdir), **kwargs)
        self.transcript(case).append(run)
        return run

    def local(self, case: str, argv: Sequence[str]) -> CommandRun:
        """Run a program of this machine (not docker: ``tar``, ``file``, ``gcc`` …) in the
        scenario's folder; keep it in ``case``'s transcript, as a learner would type it."""
        try:
            done = subprocess.run(list(argv), cwd=self.workdir, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=120)
            run = CommandRun(shlex.join(argv), done.returncode, done.stdout.decode("utf-8", "replace"))
        except (OSError, subprocess.TimeoutExpired) as err:
            run = CommandRun(shlex.join(argv), None, f"(labkit: {argv[0]} did not run: {err})\n")
        self.transcript(case).append(run)
        return run
