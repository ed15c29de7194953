"""Processes on the class server, read from ``/proc``: whose they are, how much memory
they hold, and stopping the ones a classroom started.

Example:
    >>> import os
    >>> os.getpid() in processes_of({os.getuid()})
    True
    >>> rss_bytes([os.getpid()]) > 0
    True
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def processes_of(uids: set[int], ranges=()) -> dict[int, int]:
    """pid -> real uid of every live process whose real uid is in ``uids``, or in one of
    the ``(start, count)`` ``ranges`` (a learner's subordinate ids: their containers)."""
    found = {}
    for pid in _pids():
        status = _status(pid)
        if not status or status.get("State", "").strip().startswith("Z"):
            continue
        uid = int(status.get("Uid", "-1").split()[0])
        if uid in uids or any(start <= uid < start + count for start, count in ranges):
            found[pid] = uid
    return found


def children() -> dict[int, list[int]]:
    """pid -> its live children, for every process (one pass over ``/proc``)."""
    found: dict[int, list[int]] = {}
    for pid in _pids():
        parent = _status(pid).get("PPid", "").strip()
        if parent.isdigit():
            found.setdefault(int(parent), []).append(pid)
    return found


def descendants(pid: int, tree: dict[int, list[int]] | None = None) -> list[int]:
    """``pid`` and every live process below it (``tree``: :func:`children`, read once for
    many calls).

    Example:
        >>> os.getpid() in descendants(os.getpid())
        True
    """
    tree = children() if tree is None else tree
    found, todo = [], [pid]
    while todo:
        here = todo.pop()
        if _status(here):
            found.append(here)
        todo += tree.get(here, [])
    return found


def rss_bytes(pids) -> int:
    """The resident memory of ``pids``, added up (processes that ended count 0)."""
    total = 0
    for pid in pids:
        value = _status(pid).get("VmRSS", "").split()
        total += int(value[0]) * 1024 if value else 0
    return total


def rss_by_uid(uids: set[int]) -> dict[int, int]:
    """uid -> bytes resident in all of that user's processes (server, kernels, docker CLI).

    Example:
        >>> rss_by_uid({os.getuid()})[os.getuid()] > 0
        True
    """
    pids = processes_of(uids)
    totals = dict.fromkeys(uids, 0)
    for pid, uid in pids.items():
        totals[uid] += rss_bytes([pid])
    return totals


def _ancestors() -> set[int]:
    """This process and every process above it (never stopped by :func:`with_argument`'s callers)."""
    found, pid = set(), os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        pid = int(_status(pid).get("PPid", "0").strip() or 0)
    return found


def with_argument(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (e.g. the classroom's
    root folder: its hub, proxy and servers all name it), except this process and its
    parents (the shell that ran ``labkit classroom down --root ...``)."""
    found, mine = [], _ancestors()
    for pid in _pids():
        if pid in mine:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and "Z" not in _status(pid).get("State", "Z"):
            found.append(pid)
    return found


def stop(pids, timeout: float = 20.0) -> list[int]:
    """SIGTERM ``pids``, wait up to ``timeout`` s, then SIGKILL what is left; returns the
    pids still alive after that (normally none)."""
    pids = list(pids)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            if not pids:
                return []
            time.sleep(0.2)
    return [p for p in pids if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)       # reap it if it is our child
    except ChildProcessError:
        pass
    state = _status(pid).get("State", "").strip()
    return bool(state) and not state.startswith("Z")
