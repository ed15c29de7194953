"""The learner's own commands, as typed at a terminal: run live, or replayed from a recording.

A lesson cell that starts with ``%%terminal`` holds the lines a learner would type
(``docker load -i work/02/hello.tar``). When every program they need is here -- and an
engine answers, for ``docker`` -- they run for real, one shell for the whole cell (so
``cd`` and variables carry from line to line), in the notebook's folder, against the
engine the lab uses. Otherwise -- or on an engine a class's learners share, where the
image names the lines type would be everyone's -- the cell shows what the same lines
printed on the lab's reference engine, from ``data/terminal/<lesson>.json``, and says
so: the source reads
``recorded on Docker 20.10.24 (date)``, a line the lab never ran says "not recorded", and
where a ``work/...`` file a line names is not the file the recording used (the learner
changed it, or built it on another machine) the line says that too, instead of
pretending. Running with ``LABKIT_RECORD_TERMINAL=1`` (``make execute``) records the
live lines. One module per job: :mod:`~labkit.terminal.shell` (reading the lines),
:mod:`~labkit.terminal.session` (running them), :mod:`~labkit.terminal.recording`.

Example:
    >>> print(run("echo hello", folder="/tmp"))
    live on this machine
    $ echo hello
    hello
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from labkit import engine as engine_mod
from labkit.engine.commands import CommandRun
from labkit.engine.images import SHARED_ENV
from labkit.terminal import recording as recording_mod
from labkit.terminal.recording import SCHEMA, find, record, recording, replay, stable_ids
from labkit.terminal.session import Line, Session, eng_cli, live, short_version
from labkit.terminal.shell import (PACKAGES, SHELL, built_by, digest_path, lines, programs, unset_variables,
                                   work_files, words)

__all__ = ["PACKAGES", "RECORD_ENV", "SCHEMA", "CommandRun", "Line", "Session", "built_by", "digest_path",
           "find", "lines", "missing_inputs", "programs", "record", "recording", "replay", "run",
           "short_version", "stable_ids", "unset_variables", "use_lesson", "work_files", "words"]

#: Set to 1 to write what live cells printed into the recordings (``make execute``).
RECORD_ENV = "LABKIT_RECORD_TERMINAL"

_lesson: str | None = None
#: IDs the engine made up in this kernel (a build's image ID, a container's): marked as
#: varying wherever a later cell prints them.
_made_up: set[str] = set()
#: Images built in this kernel by ``docker build -t``/``import``/``commit`` (their IDs vary).
_built: set[str] = set()


def use_lesson(name: str) -> None:
    """Make ``name`` (``"02"``) the lesson whose recording later cells read and write.

    ``labkit.lessons.workdir`` calls it, so a notebook never has to.
    """
    global _lesson
    _lesson = name


def missing_inputs(todo: list[str], folder: Path, lesson: str | None) -> list[str]:
    """``work/`` files the recording's lines read that are not here now, and that no
    earlier line of the cell names (so none of them makes it): a file this machine could
    not make (no compiler for it, say).

    Example:
        >>> missing_inputs(["docker load -i work/nowhere.tar"], Path("/tmp"), "no-such-lesson")
        []
    """
    gone, named = [], set()
    for line in todo:
        entry = find(line, lesson)
        for path in (entry[0].get("inputs", {}) if entry else {}):
            if path not in named and not (folder / path).exists() and path not in gone:
                gone.append(path)
        named.update(w for w in words(line) if w.startswith("work/"))
    return gone


def run(script: str, engine=None, *, folder: str | Path = ".", lesson: str | None = None) -> Session:
    """Run a cell's command lines live, or replay them from the recording.

    Args:
        script: the cell's text (one command a line).
        engine: a ``labkit.engine.Engine`` or None (default: whatever answers, for lines
            that run ``docker``).
        folder: where the lines run and ``work/...`` paths are read (the notebook's).
        lesson: the recording to read and write (default: the lesson ``use_lesson`` set).

    Example:
        >>> print(run("echo hello", folder="/tmp"))
        live on this machine
        $ echo hello
        hello
    """
    folder, lesson = Path(folder), lesson or _lesson
    todo = lines(script)
    needs_engine = any("docker" in programs(line) for line in todo)
    eng = engine if engine is not None or not needs_engine else engine_mod.try_connect()
    missing = sorted({p for line in todo for p in programs(line)
                      if p not in SHELL and p != "docker" and shutil.which(p) is None})
    why = ""
    if shutil.which("sh") is None:
        why = "no POSIX shell here (sh): this is what the same commands printed on the lab's reference engine"
    elif needs_engine and eng is None:
        why = "no Docker engine answered: this is what the same commands printed on the lab's reference engine"
    elif needs_engine and eng_cli(eng) is None:
        why = "no docker command here (install the docker CLI): this is what it printed on the reference engine"
    elif needs_engine and os.environ.get(SHARED_ENV) == "1":
        why = ("this class's learners share one Docker engine, where the names these lines give images "
               "(hello:labkit) would be everyone's: this is the recorded output (with an engine of your "
               "own, as in a rootless class, they run live)")
    elif unset_variables(todo):
        why = ("not set here: " + ", ".join(f"${n}" for n in unset_variables(todo))
               + " (an earlier step sets it when it runs live); this is the recorded output")
    elif missing_inputs(todo, folder, lesson):
        why = ("not here: " + ", ".join(missing_inputs(todo, folder, lesson))
               + " (an earlier step could not make it on this machine); this is the recorded output")
    elif missing:
        why = "not installed here: " + ", ".join(
            f"{p} (apt-get install {PACKAGES.get(p, p)})" for p in missing) + "; this is the recorded output"
    if why:
        return replay(todo, folder, lesson, why)
    recording_on = os.environ.get(RECORD_ENV) == "1" and lesson
    before = {line: work_files(line, folder) for line in todo} if recording_on else {}
    session = live(todo, eng, folder, _made_up, _built, stable_ids(todo, lesson))
    if recording_on:
        recorder = eng or engine_mod.try_connect()
        if recorder is not None:
            record(session, recorder, folder, lesson, todo, before)
    return session
