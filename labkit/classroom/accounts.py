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


def create(name: str, home: Path, groups: tuple[str, ...] = ()) -> None:
    """Create system user ``name`` with its own group and the home folder ``home`` (mode 0700).

    Raises:
        LabkitError: the user exists already (never taken over), or useradd failed.
    """
    if exists(name):
        raise LabkitError(f"user {name} exists already",
                          hint="remove it (`labkit classroom down`, or userdel) or use another root")
    argv = [_tool("useradd"), "--system", "--user-group", "--create-home", "--home-dir", str(home),
            "--shell", "/bin/bash", "--comment", "labkit classroom learner"]
    if groups:
        argv += ["--groups", ",".join(groups)]
    done = subprocess.run([*argv, name], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise LabkitError(f"useradd {name} failed: {' '.join(done.stderr.split())}",
                          hint="the classroom must run as root")
    Path(home).chmod(0o700)


def remove(name: str) -> None:
    """Remove user ``name``, its group and its home folder; a missing user is fine.

    Raises:
        LabkitError: userdel failed (e.g. a process of that user still runs).
    """
    if not exists(name):
        return
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
