"""Small helpers the lesson notebooks need that belong to no other module.

Example:
    >>> from labkit import lessons
    >>> work = lessons.workdir("demo", root="/tmp/labkit-doctest")
    >>> list(work.iterdir())
    []
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from labkit.errors import LabkitError


def workdir(name: str, root: str | Path = "work") -> Path:
    """A fresh, empty folder ``root/name`` (relative to the notebook), emptied on every call.

    Running a notebook twice then starts from the same state, so it shows the same output.

    Raises:
        LabkitError: ``name`` is not a plain folder name (empty, absolute, or with ``..``):
            emptying it could delete something outside ``root``.

    Example:
        >>> workdir("01", root="/tmp/labkit-doctest").name
        '01'
    """
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise LabkitError(f"workdir name {name!r} is not a folder name inside {root}",
                          hint="use a plain name such as \"01\"")
    path = Path(root) / name
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def run_here(program: str | Path, timeout: float = 10) -> str:
    """Run ``program`` directly on this machine (no container) and return what it printed.

    Raises:
        LabkitError: it could not start, or exited with a non-zero status.

    Example:
        >>> from labkit import hello
        >>> run_here(hello.build("tiny", "/tmp/labkit-doctest/hello"))
        'Hello from scratch!\\n'
    """
    program = Path(program).resolve()
    try:
        done = subprocess.run([str(program)], capture_output=True, timeout=timeout)
    except OSError as err:
        raise LabkitError(f"{program.name} could not start here: {err.strerror}",
                          hint="it may be built for another processor architecture") from None
    except subprocess.TimeoutExpired:
        raise LabkitError(f"{program.name} did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        raise LabkitError(f"{program.name} exited with status {done.returncode}")
    return done.stdout.decode("utf-8", "replace")
