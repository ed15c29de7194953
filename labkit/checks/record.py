"""A learner's progress: which exercises they passed, kept in one small JSON file.

A passed exercise is remembered in ``$LABKIT_PROGRESS`` or
``~/.local/share/labkit/progress.json``. A Binder session is temporary: when it is shut
down its files are gone, this one included. :func:`export_progress` writes a copy next
to the notebooks, to download from JupyterLab's file browser; :func:`import_progress`
merges it back in a new session. ``labkit.checks`` exports all of this.

Example:
    >>> import os, tempfile
    >>> from unittest import mock
    >>> folder = tempfile.mkdtemp()
    >>> with mock.patch.dict(os.environ, LABKIT_PROGRESS=os.path.join(folder, "progress.json")):
    ...     remember("01.2")
    ...     saved = export_progress(os.path.join(folder, "mine.json"))
    ...     os.remove(progress_file())              # a new session: nothing passed yet
    ...     "Your progress: 1 of" in str(import_progress(saved))
    True
"""
from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from labkit import show
from labkit.checks.exercises import EXERCISES
from labkit.errors import LabkitError

EXPORT_NAME = "labkit-progress.json"
EXPORT_FORMAT = "labkit-progress/1"


def progress_file() -> Path:
    """Where passed exercises are remembered (``$LABKIT_PROGRESS`` wins).

    Example:
        >>> progress_file().name
        'progress.json'
    """
    if os.environ.get("LABKIT_PROGRESS"):
        return Path(os.environ["LABKIT_PROGRESS"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "labkit" / "progress.json"


def passed() -> dict[str, str]:
    """Exercise id -> when it was first passed; empty when the file is missing or unreadable.

    Example:
        >>> isinstance(passed(), dict)
        True
    """
    try:
        return read_passed(progress_file())
    except (LabkitError, OSError):
        return {}


def read_passed(path: str | os.PathLike) -> dict[str, str]:
    """Exercise id -> date from the progress file at ``path`` (a learner's, for the class
    summary); unknown exercise ids are left out.

    Raises:
        FileNotFoundError: there is no file (the learner has passed nothing yet).
        LabkitError: it cannot be read, or is not a progress file.

    Example:
        >>> read_passed("/nonexistent/progress.json")
        Traceback (most recent call last):
        FileNotFoundError: /nonexistent/progress.json
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(str(path)) from None
    except OSError as err:
        raise LabkitError(f"cannot read {path}: {err.strerror or err}") from None
    except ValueError:
        raise LabkitError(f"{path} is not a progress file (not JSON)") from None
    found = data.get("passed") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise LabkitError(f"{path} is not a progress file (no \"passed\" exercises)")
    return {k: str(v) for k, v in found.items() if k in EXERCISES}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def remember(exercise: str) -> None:
    """Note ``exercise`` as passed (the first date stays); never fails a check.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, LABKIT_PROGRESS=os.path.join(tempfile.mkdtemp(), "p.json")):
        ...     remember("00.2")
        ...     "00.2" in passed()
        True
    """
    done = passed()
    done.setdefault(exercise, _now())
    try:
        _write(progress_file(), {"passed": done})
    except OSError:
        pass  # a read-only home must not spoil the exercise; the verdict still shows


def progress():
    """A table of every exercise: passed (and when) or still open.

    Example:
        >>> "01.1" in str(progress())
        True
    """
    done = passed()
    rows = [{"exercise": k, "what": title, "status": f"passed {done[k]}" if k in done else "open"}
            for k, title in EXERCISES.items()]
    return show.table(rows, title=f"Your progress: {len(done)} of {len(EXERCISES)} exercises passed")


def export_progress(path: str | os.PathLike | None = None) -> Path:
    """Write your progress to a small file you can download, and return its path.

    Args:
        path: where to write; default ``labkit-progress.json`` in the current folder
            (the notebook's folder, so JupyterLab's file browser shows it).

    Example:
        >>> import tempfile, pathlib
        >>> export_progress(pathlib.Path(tempfile.mkdtemp()) / "mine.json").name
        'mine.json'
    """
    target = Path(path if path is not None else EXPORT_NAME).absolute()
    data = {"format": EXPORT_FORMAT, "exported": _now(), "passed": passed()}
    try:
        _write(target, data)
    except OSError as err:
        raise LabkitError(f"cannot write {target}: {err.strerror or err}",
                          hint="pass a path in a folder you can write to") from None
    return target


def _read_export(path: Path) -> dict[str, str]:
    """The ``passed`` mapping of an exported file, or one clear LabkitError."""
    hint = "pass the file export_progress() wrote"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise LabkitError(f"cannot read {path}: {err.strerror or err}",
                          hint="upload it with JupyterLab's file browser first") from None
    except ValueError:
        raise LabkitError(f"{path} is not a labkit progress file (not JSON)", hint=hint) from None
    found = data.get("passed") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise LabkitError(f"{path} is not a labkit progress file (no \"passed\" exercises)", hint=hint)
    for exercise, when in found.items():
        if exercise not in EXERCISES or not isinstance(when, str):
            raise LabkitError(f"{path}: {exercise!r} is not an exercise of this lab", hint=hint)
    return found


def import_progress(path: str | os.PathLike):
    """Merge a file :func:`export_progress` wrote into your progress; returns the new table.

    An exercise passed in either keeps the earlier date. A file that is not a progress
    file raises :class:`~labkit.errors.LabkitError` and changes nothing.

    Example:
        >>> import os, tempfile, pathlib
        >>> from unittest import mock
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> with mock.patch.dict(os.environ, LABKIT_PROGRESS=str(folder / "progress.json")):
        ...     saved = export_progress(folder / "mine.json")
        ...     "exercises passed" in str(import_progress(saved))
        True
    """
    found = _read_export(Path(path))
    done = passed()
    for exercise, when in found.items():
        done[exercise] = min(when, done.get(exercise, when))
    try:
        _write(progress_file(), {"passed": done})
    except OSError as err:
        raise LabkitError(f"cannot write {progress_file()}: {err.strerror or err}",
                          hint="set LABKIT_PROGRESS to a file you can write") from None
    return progress()
