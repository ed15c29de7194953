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
from labkit.checks.exercises import EXERCISES, IDS_VERSION, OLD_IDS, current_ids
from labkit.errors import LabkitError

EXPORT_NAME = "labkit-progress.json"
EXPORT_FORMAT = "labkit-progress/2"
#: Exports written before the renumbering: their ids are the old ones (OLD_IDS).
OLD_EXPORT_FORMAT = "labkit-progress/1"


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
    return _mine()[0]


def unverified() -> dict[str, str]:
    """Exercise id -> when it was last judged without the truth at hand ("not built
    here": no engine, a base that cannot be pulled ...): not passed, not failed.

    Example:
        >>> isinstance(unverified(), dict)
        True
    """
    return _mine()[1]


def _mine() -> tuple[dict[str, str], dict[str, str]]:
    try:
        return read_progress(progress_file())
    except (LabkitError, OSError):
        return {}, {}


def read_passed(path: str | os.PathLike) -> dict[str, str]:
    """Exercise id -> date from the progress file at ``path`` (a learner's, for the class
    summary), in today's ids (a file from before the renumbering is mapped); unknown
    exercise ids are left out.

    Raises:
        FileNotFoundError: there is no file (the learner has passed nothing yet).
        LabkitError: it cannot be read, or is not a progress file.

    Example:
        >>> read_passed("/nonexistent/progress.json")
        Traceback (most recent call last):
        FileNotFoundError: /nonexistent/progress.json
    """
    return read_progress(path)[0]


def read_progress(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, str]]:
    """``(passed, unverified)`` from the progress file at ``path``: exercise id -> date,
    in today's ids; an exercise passed is never also unverified.

    Raises:
        FileNotFoundError, LabkitError: as :func:`read_passed`.
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
    done = {k: str(v) for k, v in current_ids(found, data.get("ids")).items()}
    maybe = data.get("unverified") if isinstance(data.get("unverified"), dict) else {}
    return done, {k: str(v) for k, v in current_ids(maybe, data.get("ids")).items() if k not in done}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _write(path: Path, data: dict) -> None:
    data = {"ids": IDS_VERSION, **data}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def remember(exercise: str, verified: bool = True) -> None:
    """Note ``exercise`` as passed (the first date stays) or, with ``verified=False``, as
    judged without the truth at hand (the last date); never fails a check.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, LABKIT_PROGRESS=os.path.join(tempfile.mkdtemp(), "p.json")):
        ...     remember("02.3", verified=False)
        ...     remember("00.2")
        ...     sorted(passed()), sorted(unverified())
        (['00.2'], ['02.3'])
    """
    done, maybe = _mine()
    if verified:
        done.setdefault(exercise, _now())
    elif exercise not in done:
        maybe[exercise] = _now()
    try:
        _write(progress_file(), {"passed": done, "unverified": {k: v for k, v in maybe.items() if k not in done}})
    except OSError:
        pass  # a read-only home must not spoil the exercise; the verdict still shows


def progress():
    """A table of every exercise: passed (and when), unverified (judged where nothing
    could build or run it), or still open.

    Example:
        >>> "01.1" in str(progress())
        True
    """
    done, maybe = _mine()
    rows = [{"exercise": k, "what": title,
             "status": f"passed {done[k]}" if k in done else
             (f"unverified {maybe[k]}: not built here, check it again where an engine answers"
              if k in maybe else "open")}
            for k, title in EXERCISES.items()]
    more = f" ({len(maybe)} more unverified)" if maybe else ""
    return show.table(rows, title=f"Your progress: {len(done)} of {len(EXERCISES)} exercises passed{more}")


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
    done, maybe = _mine()
    data = {"format": EXPORT_FORMAT, "exported": _now(), "passed": done, "unverified": maybe}
    try:
        _write(target, data)
    except OSError as err:
        raise LabkitError(f"cannot write {target}: {err.strerror or err}",
                          hint="pass a path in a folder you can write to") from None
    return target


def _read_export(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(passed, unverified)`` of an exported file, or one clear LabkitError."""
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
    old = data.get("format") == OLD_EXPORT_FORMAT or data.get("ids") != IDS_VERSION
    for exercise, when in found.items():
        if exercise not in (OLD_IDS if old else EXERCISES) or not isinstance(when, str):
            raise LabkitError(f"{path}: {exercise!r} is not an exercise of this lab", hint=hint)
    maybe = data.get("unverified") if isinstance(data.get("unverified"), dict) else {}
    ids = None if old else IDS_VERSION
    return current_ids(found, ids), {k: str(v) for k, v in current_ids(maybe, ids).items()}


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
    found, found_maybe = _read_export(Path(path))
    done, maybe = _mine()
    for exercise, when in found.items():
        done[exercise] = min(when, done.get(exercise, when))
    for exercise, when in found_maybe.items():
        maybe[exercise] = max(when, maybe.get(exercise, when))
    try:
        _write(progress_file(), {"passed": done, "unverified": {k: v for k, v in maybe.items() if k not in done}})
    except OSError as err:
        raise LabkitError(f"cannot write {progress_file()}: {err.strerror or err}",
                          hint="set LABKIT_PROGRESS to a file you can write") from None
    return progress()
