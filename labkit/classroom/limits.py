"""Limits per learner, set by the class server as root on everything the learner runs: their
Jupyter server and kernels and, with ``--engine rootless``, their whole engine and its
containers.

- **pids, memory, CPU**: a control group per learner, made inside the class server's own
  group (never outside it). cgroup v2 where the machine has it (one ``pids``, ``memory``,
  ``cpu`` tree), v1 otherwise (a tree per controller: ``/sys/fs/cgroup/pids/...``). A
  rootless engine on a v1 machine cannot give each container a group of its own (it
  ignores ``--memory`` and ``--pids-limit``), so the limit sits on the learner's whole tree:
  every process started there stays in it.
- **disk**: a filesystem of the learner's own, a sparse ext4 image (``disks/NN.img``)
  loop-mounted as their home, which holds their notebooks' ``work/`` and their rootless
  engine's data root: writes stop at its size (``No space left on device``), the machine's
  disk is not touched.

A limit the machine cannot set is reported *off*, with the reason, by :func:`setup`
(``labkit classroom status`` shows it); nothing else fails.

Example:
    >>> Limits.parse(pids="512", memory="1.5G", cpus="1", disk="1G").memory
    1610612736
    >>> size("1G"), size("512M")
    (1073741824, 536870912)
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from labkit.errors import LabkitError

CGROUP = Path("/sys/fs/cgroup")
V1 = ("pids", "memory", "cpu")
#: v1 trees the learner's processes join to be counted (CPU time used), not limited.
COUNTED = ("cpuacct",)
#: Not ``nosuid,nodev``: a rootless engine's BuildKit bind-mounts read-only from its data
#: root, which a user namespace may not do on a mount with locked flags (measured: "failed
#: to mount ... rbind ro: operation not permitted"). Nothing is lost: a learner can make
#: neither a setuid-root file nor a device node (their engine's root is their own uid).
MOUNT_OPTIONS = "loop"


def size(text: str | int) -> int:
    """Bytes from ``1G``, ``512M``, ``1.5G``, ``2048K`` or a plain number.

    Raises:
        LabkitError: not a size.
    """
    text = str(text).strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    try:
        return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)
    except (ValueError, IndexError):
        raise LabkitError(f"{text!r} is not a size", hint="write it like 1G or 512M") from None


@dataclasses.dataclass(frozen=True)
class Limits:
    """What each learner may use (0 = no limit).

    Attributes:
        pids: processes and threads, all told (their server, kernels, engine, containers).
        memory: bytes of memory (page cache included, as the kernel counts it).
        cpus: cores' worth of CPU time.
        disk: bytes of their home filesystem.
    """

    pids: int = 1024
    memory: int = 3 << 29          # 1.5 GiB
    cpus: float = 1.0
    disk: int = 1 << 30

    @classmethod
    def parse(cls, pids=None, memory=None, cpus=None, disk=None) -> "Limits":
        """Limits from command-line words; None keeps the default."""
        base = cls()
        return cls(pids=int(pids) if pids is not None else base.pids,
                   memory=size(memory) if memory is not None else base.memory,
                   cpus=float(cpus) if cpus is not None else base.cpus,
                   disk=size(disk) if disk is not None else base.disk)

    def to_dict(self) -> dict:
        """The limits as a JSON-ready dict."""
        return dataclasses.asdict(self)


def version() -> str:
    """``"v2"`` (one unified tree with the controllers), ``"v1"`` or ``"none"``.

    Example:
        >>> version() in ("v1", "v2", "none")
        True
    """
    if (CGROUP / "cgroup.controllers").is_file():
        return "v2"
    if all((CGROUP / c / "cgroup.procs").is_file() for c in V1 + COUNTED):
        return "v1"
    return "none"


def _own(controller: str) -> str:
    """This process's group in ``controller``'s v1 tree (``""`` for v2's unified one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, names, path = line.split(":", 2)
        if (controller == "" and number == "0") or controller in names.split(","):
            return path.lstrip("/")
    return ""


def class_dirs(root) -> list[Path]:
    """The class's group in each tree: inside this process's own group, named after ``root``
    (``up`` keeps them in the settings: ``down`` may run in another group)."""
    tag = "labkit-class-" + hashlib.sha1(str(Path(root).absolute()).encode()).hexdigest()[:8]
    if version() == "v2":
        return [CGROUP / _own("") / tag]
    return [CGROUP / c / _own(c) / tag for c in V1 + COUNTED] if version() == "v1" else []


def groups(dirs, name: str) -> list[Path]:
    """Learner ``name``'s group in each of the class's groups ``dirs`` (``.../NN``).

    Example:
        >>> groups(["/sys/fs/cgroup/pids/labkit-class-1"], "labkit-learner-07")
        [PosixPath('/sys/fs/cgroup/pids/labkit-class-1/07')]
    """
    return [Path(folder) / name.rsplit("-", 1)[-1] for folder in dirs]


def procs_files(dirs, name: str) -> list[str]:
    """The ``cgroup.procs`` files a process writes its pid to, to join learner ``name``'s groups."""
    return [str(group / "cgroup.procs") for group in groups(dirs, name)]


def join(files) -> None:
    """Move this process into the groups of ``files`` (as root; its children follow)."""
    for path in files:
        with open(path, "w") as out:
            out.write(str(os.getpid()))


def _write(path: Path, value) -> None:
    path.write_text(f"{value}\n")


def cgroups(dirs, name: str, limits: Limits) -> dict[str, str]:
    """Make learner ``name``'s groups in the class's ``dirs`` (:func:`class_dirs`) with
    ``limits``; returns limit -> ``"on"`` or ``"off: why"``."""
    kind = version()
    if kind == "none":
        return dict.fromkeys(("pids", "memory", "cpu"), "off: this machine mounts no cgroup tree")
    state = {}
    try:
        for folder in map(Path, dirs):
            folder.mkdir(exist_ok=True)
            if kind == "v2":
                for level in (folder.parent, folder):
                    _write(level / "cgroup.subtree_control", "+pids +memory +cpu")
        for group in groups(dirs, name):
            group.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        why = f"off: cannot make a control group ({err.strerror}; cgroup {kind})"
        return dict.fromkeys(("pids", "memory", "cpu"), why)
    found = groups(dirs, name)
    where = dict(zip(V1, found)) if kind == "v1" else dict.fromkeys(V1, found[0])
    values = {"v1": {"pids": ("pids.max", limits.pids or "max"),
                     "memory": ("memory.limit_in_bytes", limits.memory or -1),
                     "cpu": ("cpu.cfs_quota_us", int(limits.cpus * 100_000) if limits.cpus else -1)},
              "v2": {"pids": ("pids.max", limits.pids or "max"),
                     "memory": ("memory.max", limits.memory or "max"),
                     "cpu": ("cpu.max", f"{int(limits.cpus * 100_000)} 100000" if limits.cpus else "max")}}[kind]
    for limit, (filename, value) in values.items():
        try:
            if limit == "cpu" and kind == "v1":
                _write(where["cpu"] / "cpu.cfs_period_us", 100_000)
            _write(where[limit] / filename, value)
            state[limit] = "on"
        except OSError as err:
            state[limit] = f"off: cannot write {filename} ({err.strerror}; cgroup {kind})"
    return state


def members(dirs, name: str) -> set[int]:
    """Pids in learner ``name``'s groups (their server, kernels, engine, containers)."""
    found: set[int] = set()
    for group in groups(dirs, name):
        try:
            found |= {int(p) for p in (group / "cgroup.procs").read_text().split()}
        except OSError:
            continue
    return found


def usage(dirs, name: str) -> dict[str, int]:
    """What learner ``name``'s groups count now (0 where the machine does not count it):
    ``pids`` (now), ``pids_peak``, ``pids_refused`` (forks refused at the limit),
    ``memory`` (bytes), ``oom_kills`` (processes the kernel killed there for memory),
    ``throttled`` (CPU periods held back) and ``cpu_ns`` (CPU time used)."""
    found = dict.fromkeys(("pids", "pids_peak", "pids_refused", "memory", "oom_kills", "throttled", "cpu_ns"), 0)
    numbers = (("pids", "pids.current", 1), ("pids_peak", "pids.peak", 1), ("memory", "memory.usage_in_bytes", 1),
               ("memory", "memory.current", 1), ("cpu_ns", "cpuacct.usage", 1))
    fields = (("pids_refused", "pids.events", "max", 1), ("oom_kills", "memory.oom_control", "oom_kill", 1),
              ("oom_kills", "memory.events", "oom_kill", 1), ("throttled", "cpu.stat", "nr_throttled", 1),
              ("cpu_ns", "cpu.stat", "usage_usec", 1000))
    for group in groups(dirs, name):
        for key, filename, scale in numbers:
            try:
                found[key] = max(found[key], int((group / filename).read_text()) * scale)
            except (OSError, ValueError):
                continue
        for key, filename, field, scale in fields:
            try:
                counts = dict(line.split()[:2] for line in (group / filename).read_text().splitlines())
                found[key] = max(found[key], int(counts.get(field, 0)) * scale)
            except (OSError, ValueError):
                continue
    return found


def kill(dirs, name: str, timeout: float = 20.0) -> set[int]:
    """SIGKILL every process in learner ``name``'s groups until none is left; returns
    the pids still there after ``timeout`` (normally none)."""
    deadline = time.monotonic() + timeout
    while (left := members(dirs, name)) and time.monotonic() < deadline:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.2)
    return members(dirs, name)


def remove(dirs, names: list[str]) -> None:
    """Remove the learners' groups and the class's (each must be empty: :func:`kill` first)."""
    for name in names:
        for group in groups(dirs, name):
            try:
                group.rmdir()
            except OSError:
                pass
    for folder in map(Path, dirs):
        try:
            folder.rmdir()
        except OSError:
            pass


# --- disk -------------------------------------------------------------------------------
def disk_image(root, name: str) -> Path:
    """Learner ``name``'s filesystem image: ``<root>/disks/NN.img``."""
    return Path(root) / "disks" / f"{name.rsplit('-', 1)[-1]}.img"


def make_disk(root, name: str, home: Path, uid: int, gid: int, limit: int) -> str:
    """A ``limit``-byte ext4 filesystem mounted as learner ``name``'s ``home`` (0700, theirs).

    Returns:
        ``"on"``, or ``"off: why"`` (then ``home`` is a plain folder on the machine's disk).
    """
    home.mkdir(parents=True, exist_ok=True)
    why = None
    if not limit:
        why = "off: no disk limit asked for"
    elif not shutil.which("mkfs.ext4") and not Path("/sbin/mkfs.ext4").exists():
        why = "off: mkfs.ext4 is missing (Debian: e2fsprogs)"
    if why is None:
        image = disk_image(root, name)
        image.parent.mkdir(mode=0o700, exist_ok=True)
        with open(image, "wb") as out:
            out.truncate(limit)                       # sparse: costs only what is written
        steps = [[shutil.which("mkfs.ext4") or "/sbin/mkfs.ext4", "-q", "-F", "-m", "0",
                  "-E", f"root_owner={uid}:{gid}", str(image)],
                 ["mount", "-o", MOUNT_OPTIONS, str(image), str(home)]]
        for argv in steps:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                why = f"off: {Path(argv[0]).name} failed: {' '.join(done.stderr.split())[:160]}"
                image.unlink(missing_ok=True)
                break
    if why is None:
        shutil.rmtree(home / "lost+found", ignore_errors=True)
    os.chown(home, uid, gid)
    home.chmod(0o700)
    return why or "on"


def mounted(path: Path) -> bool:
    """True when something is mounted at ``path``."""
    target = str(Path(path).absolute())
    try:
        return any(line.split()[1] == target for line in Path("/proc/self/mounts").read_text().splitlines())
    except OSError:
        return False


def drop_disk(root, name: str, home: Path) -> None:
    """Unmount learner ``name``'s filesystem (lazily, if still busy) and delete its image."""
    if mounted(home):
        done = subprocess.run(["umount", str(home)], capture_output=True, timeout=60)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(home)], capture_output=True, timeout=60)
    disk_image(root, name).unlink(missing_ok=True)
