"""The record of passed exercises: a small JSON file, and the table of them.

The file is ``$LABKIT_PROGRESS`` or ``~/.local/share/labkit/progress.json``.

Example:
    >>> progress_file().name
    'progress.json'
"""
from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from labkit import show
from labkit.checks.exercises import EXERCISES


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


def passed_exercises() -> dict[str, str]:
    try:
        data = json.loads(progress_file().read_text())
    except (OSError, ValueError):
        return {}
    passed = data.get("passed") if isinstance(data, dict) else None
    return {k: str(v) for k, v in passed.items() if k in EXERCISES} if isinstance(passed, dict) else {}


def remember(exercise: str) -> None:
    passed = passed_exercises()
    passed.setdefault(exercise, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"passed": passed}, indent=2, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass  # a read-only home must not spoil the exercise; the verdict still shows


def progress():
    """A table of every exercise: passed (and when) or still open.

    Example:
        >>> "01.1" in str(progress())
        True
    """
    passed = passed_exercises()
    rows = [{"exercise": k, "what": title, "status": f"passed {passed[k]}" if k in passed else "open"}
            for k, title in EXERCISES.items()]
    return show.table(rows, title=f"Your progress: {len(passed)} of {len(EXERCISES)} exercises passed")
