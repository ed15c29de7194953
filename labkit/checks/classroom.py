"""The class summary: who has passed which exercise, from the learners' progress files.

An instructor runs it on the class server over the progress files (each learner's
``$LABKIT_PROGRESS``; ``labkit classroom`` keeps them in ``<root>/progress/<learner>/``).
Only those small JSON files are opened -- never anyone's notebooks. A learner without
a file yet has passed nothing; a file that cannot be read is listed with the reason.

Where the files are (``source``):

- a folder of per-learner folders, each with ``progress.json`` (a classroom's
  ``progress/``, or its root: ``progress/`` is looked up), the folder named after the learner;
- a folder of ``<learner>.json`` files (e.g. what learners handed in with
  ``export_progress()``);
- a mapping learner -> path.

Example:
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ada.json").write_text(json.dumps({"passed": {"01.2": "2026-11-27 10:00 UTC"}}))
    >>> summary = class_progress(folder)
    >>> summary.passed["ada"], summary.count("01.2")
    ({'01.2': '2026-11-27 10:00 UTC'}, 1)
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping

from labkit.checks.exercises import EXERCISES
from labkit.checks.record import read_progress
from labkit.errors import LabkitError
from labkit.show import classroom as class_view

PROGRESS_NAME = "progress.json"


@dataclasses.dataclass
class ClassProgress:
    """Who passed what.

    Attributes:
        passed: learner -> {exercise id: when first passed} (``{}``: nothing yet).
        unreadable: learner -> why their file could not be read.
        files: learner -> the progress file read (or looked for).
        unverified: learner -> {exercise id: when}: judged where it could not be built or
            run ("not built here"), so neither passed nor failed.
    """

    passed: dict[str, dict[str, str]]
    unreadable: dict[str, str]
    files: dict[str, str]
    unverified: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    def count(self, exercise: str) -> int:
        """How many learners have passed ``exercise``."""
        return sum(exercise in done for done in self.passed.values())

    def learners_who_passed(self, exercise: str) -> list[str]:
        """The learners who have passed ``exercise``, sorted."""
        return sorted(k for k, done in self.passed.items() if exercise in done)

    def to_dict(self) -> dict:
        """JSON-ready: ``passed``, ``unreadable``, ``files``, ``exercises``, ``counts``."""
        return {**dataclasses.asdict(self), "exercises": dict(EXERCISES),
                "counts": {k: self.count(k) for k in EXERCISES},
                "unverified_counts": {k: sum(k in m for m in self.unverified.values()) for k in EXERCISES}}


def progress_files(source: str | os.PathLike | Mapping[str, str | os.PathLike]) -> dict[str, Path]:
    """learner -> progress file, from ``source`` (see the module's doc).

    Raises:
        LabkitError: ``source`` is not a folder or a mapping, or holds no progress files.
    """
    if isinstance(source, Mapping):
        return {str(k): Path(v) for k, v in source.items()}
    folder = Path(source)
    if (folder / "progress").is_dir() and (folder / "run").is_dir():     # a classroom's root
        folder = folder / "progress"
    if not folder.is_dir():
        raise LabkitError(f"{folder} is not a folder of progress files",
                          hint="pass a classroom's root, its progress/ folder, or a folder of <learner>.json")
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            found[entry.name] = entry / PROGRESS_NAME
        elif entry.is_file() and entry.suffix == ".json":
            found[entry.stem] = entry
    if not found:
        raise LabkitError(f"no learners' progress in {folder}",
                          hint="a folder per learner with progress.json, or <learner>.json files")
    return found


def class_progress(source) -> ClassProgress:
    """Read every learner's progress file in ``source``; see :class:`ClassProgress`."""
    files = progress_files(source)
    passed, unreadable, unverified = {}, {}, {}
    for learner, path in files.items():
        try:
            passed[learner], maybe = read_progress(path)
            if maybe:
                unverified[learner] = maybe
        except FileNotFoundError:
            passed[learner] = {}
        except (LabkitError, OSError) as err:
            unreadable[learner] = err.message if isinstance(err, LabkitError) else str(err)
    return ClassProgress(passed, unreadable, {k: str(v) for k, v in files.items()}, unverified)


def class_summary(source) -> "class_view.Table":
    """A table: one row per learner (✔ passed, ○ unverified, · open) and how many passed
    each exercise.

    Example:
        >>> import json, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "ada.json").write_text(json.dumps({"passed": {"00.1": "2026-11-27"}}))
        >>> str(class_summary(folder)).splitlines()[0]
        'Class progress: 1 learner, 1 of 22 exercises passed by at least one'
    """
    found = source if isinstance(source, ClassProgress) else class_progress(source)
    return class_view.class_table(found.passed, EXERCISES, found.unreadable, found.unverified)


def class_plot(source):
    """A bar chart: how many learners passed each exercise. Returns ``(fig, ax)``."""
    found = source if isinstance(source, ClassProgress) else class_progress(source)
    return class_view.class_plot(found.passed, EXERCISES)
