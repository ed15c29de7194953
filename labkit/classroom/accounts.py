"""Learner accounts on the class server: one real system user per learner.

JupyterHub's local process spawner starts each learner's server as that learner's own
system user, but it creates no users. These functions do (``useradd``), each with a
home folder inside the classroom's root, and remove them again (``userdel``): only
users this classroom made, named ``labkit-learner-01``, ``-02``, ...

Example:
    >>> learner_names(3)
    ['labkit-learner-01', 'labkit-learner-02', 'labkit-learner-03']
    >>> exists("labkit-learner-does-not-exist")
    False
"""
from __future__ import annotations

import grp
import pwd
import shutil
import subprocess
from pathlib import Path

from labkit.errors import LabkitError

PREFIX = "labkit-learner-"


def learner_names(count: int) -> list[str]:
    """``count`` learner names, numbered from 01 (three digits from 100 learners on).

    Example:
        >>> learner_names(1)
        ['labkit-learner-01']
    """
    if count < 1:
        raise LabkitError(f"a class needs at least one learner, not {count}", hint="pass --learners 1 or more")
    width = max(2, len(str(count)))
    return [f"{PREFIX}{i:0{width}d}" for i in range(1, count + 1)]


def exists(name: str) -> bool:
    """True when the system has a user called ``name``."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def group_exists(name: str) -> bool:
    """True when the system has a group called ``name``.

    Example:
        >>> group_exists("root")
        True
    """
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def ids(name: str) -> tuple[int, int]:
    """``(uid, gid)`` of user ``name``."""
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _tool(name: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}")
                                       if Path(p).exists()), None)
    if path is None:
        raise LabkitError(f"{name} is not installed", hint="install Debian's passwd package")
    return path


def create(name: str, home: Path, groups: tuple[str, ...] = (), make_home: bool = True) -> None:
    """Create system user ``name`` with its own group and the home folder ``home`` (mode
    0700; with ``make_home=False`` the caller makes it, e.g. a filesystem of its own).

    Raises:
        LabkitError: the user exists already (never taken over), or useradd failed.
    """
    if exists(name):
        raise LabkitError(f"user {name} exists already",
                          hint="remove it (`labkit classroom down`, or userdel) or use another root")
    argv = [_tool("useradd"), "--system", "--user-group", "--create-home" if make_home else "--no-create-home",
            "--home-dir", str(home), "--shell", "/bin/bash", "--comment", "labkit classroom learner"]
    if groups:
        argv += ["--groups", ",".join(groups)]
    done = subprocess.run([*argv, name], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise LabkitError(f"useradd {name} failed: {' '.join(done.stderr.split())}",
                          hint="the classroom must run as root")
    if make_home:
        Path(home).chmod(0o700)


def remove(name: str) -> None:
    """Remove user ``name``, its group, its subordinate ids and its home folder; a missing
    user is fine.

    Raises:
        LabkitError: userdel failed (e.g. a process of that user still runs).
    """
    if not exists(name):
        return
    for start, count in subids(name):
        subprocess.run([_tool("usermod"), "--del-subuids", f"{start}-{start + count - 1}",
                        "--del-subgids", f"{start}-{start + count - 1}", name],
                       capture_output=True, text=True, timeout=60)
    done = subprocess.run([_tool("userdel"), "--remove", name], capture_output=True, text=True, timeout=60)
    # 12: the home folder could not be removed (already gone): the user is gone all the same.
    if done.returncode not in (0, 12) or exists(name):
        raise LabkitError(f"userdel {name} failed: {' '.join(done.stderr.split())}",
                          hint="stop that user's processes first")


def create_group(name: str) -> None:
    """Create system group ``name`` (e.g. the one that may open the class's own engine).

    Raises:
        LabkitError: it exists already, or groupadd failed.
    """
    if group_exists(name):
        raise LabkitError(f"group {name} exists already", hint="a classroom is up somewhere: `labkit classroom down`")
    done = subprocess.run([_tool("groupadd"), "--system", name], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise LabkitError(f"groupadd {name} failed: {' '.join(done.stderr.split())}")


def remove_group(name: str) -> None:
    """Remove group ``name``; a missing group is fine."""
    if group_exists(name):
        subprocess.run([_tool("groupdel"), name], capture_output=True, text=True, timeout=60)


#: Subordinate ids per learner: a user namespace maps its uids 1..65535 there.
SUBID_COUNT = 65536
#: The lowest subordinate id a classroom hands out (above the ranges useradd would give).
SUBID_FLOOR = 1_000_000
SUBID_FILES = (Path("/etc/subuid"), Path("/etc/subgid"))


def _ranges(files=SUBID_FILES) -> list[tuple[str, int, int]]:
    """``(owner, start, count)`` of every range in ``/etc/subuid`` and ``/etc/subgid``."""
    found = []
    for path in files:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.strip().split(":")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                found.append((parts[0], int(parts[1]), int(parts[2])))
    return found


def subids(name: str, files=SUBID_FILES) -> list[tuple[int, int]]:
    """The subordinate id ranges ``(start, count)`` of user ``name`` (uids and gids alike).

    Example:
        >>> subids("labkit-learner-does-not-exist")
        []
    """
    return sorted({(start, count) for owner, start, count in _ranges(files) if owner == name})


def free_subids(count: int, files=SUBID_FILES) -> list[int]:
    """Starts of ``count`` ranges of :data:`SUBID_COUNT` ids that overlap no range any user
    has now (above all of them and :data:`SUBID_FLOOR`), one after the other.

    Example:
        >>> free_subids(2, files=())           # 1,000,000 rounded up to a multiple of 65,536
        [1048576, 1114112]
    """
    top = max([SUBID_FLOOR] + [start + n for _, start, n in _ranges(files)])
    top = -(-top // SUBID_COUNT) * SUBID_COUNT
    return [top + i * SUBID_COUNT for i in range(count)]


def grant_subids(name: str, start: int) -> None:
    """Give user ``name`` the subordinate uids and gids ``start`` .. ``start + 65535``.

    Raises:
        LabkitError: usermod refused.
    """
    span = f"{start}-{start + SUBID_COUNT - 1}"
    done = subprocess.run([_tool("usermod"), "--add-subuids", span, "--add-subgids", span, name],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise LabkitError(f"usermod --add-subuids {span} {name} failed: {' '.join(done.stderr.split())}",
                          hint="the passwd package's usermod 4.13 or later can")
