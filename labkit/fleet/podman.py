"""A Podman engine in the fleet: a Debian root made with ``mmdebstrap``, and ``podman system
service`` chrooted in it, answering the Docker API on its own socket.

Podman's programs (podman, conmon, runc, netavark) link the libraries of their own suite,
so each Podman engine gets a root of that suite: ``mmdebstrap --variant=essential`` with
the pinned packages (the ``.deb`` files the fleet downloaded, from the machine's own
Debian archive) and what they depend on. The service runs in a private mount namespace
(``unshare --mount``): the root is bind-mounted onto itself (without that, loading an
image fails with "remount /: invalid argument"), ``/proc``, ``/sys`` and ``/dev`` go in,
and the engine's run and data folders are bind-mounted at their own paths, so the socket,
storage root and run root have the same names inside and out. Everything it mounts goes
away with its last process. runc, not crun: trixie's crun refuses this machine's hybrid
cgroups (v1). The learner's commands run through the root's own ``podman`` as a remote
client, started by the root's dynamic loader with the root's libraries (:func:`write_cli`).

Example:
    >>> from pathlib import Path
    >>> ServiceDirs(Path("/run/labkit/fleet/podman-4.3.1"), Path("/d")).base_url
    'unix:///run/labkit/fleet/podman-4.3.1/podman.sock'
"""
from __future__ import annotations

import os
import resource
import shlex
import shutil
import subprocess
from pathlib import Path

from labkit.errors import FleetError, MissingTool
from labkit.fleet.archive import Layout
from labkit.fleet.daemon import EngineDirs, _spawn, _wait_ready, ping

#: How every Podman engine's root is made: Debian's essential packages, the catalog's pins
#: and what they depend on, and ``mount`` (``umount``, to let go of this machine's tree).
VARIANT = "essential"
EXTRA = ("mount",)
#: Where this machine's tree goes while the namespace's root changes (then detached).
OLD_ROOT = ".labkit-host"
#: RLIMIT_NPROC Podman 4.3.1 sets for itself at start (``setrlimit(RLIMIT_NPROC, 32768)``,
#: measured with strace): a container's default may not exceed it without CAP_SYS_RESOURCE.
PODMAN_NPROC = 32768

CONTAINERS_CONF = """\
# Written by labkit for this engine only (CONTAINERS_CONF); see labkit/fleet/podman.py.
[containers]
# Podman 4.3.1 gives containers RLIMIT_NOFILE and RLIMIT_NPROC of 1048576 unless told, and
# root here lacks CAP_SYS_RESOURCE to raise a limit: "error setting rlimit". These are within
# this machine's hard limits (5.x clamps by itself).
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
"""


class ServiceDirs(EngineDirs):
    """The folders of a Podman engine: as a Docker engine's, with ``podman.sock``."""

    @property
    def sock(self) -> Path:
        return self.run / "podman.sock"

    @property
    def log(self) -> Path:
        return self.run / "podman.log"

    @property
    def containers_conf(self) -> Path:
        return self.run / "containers.conf"


def layout(root: Path) -> Layout:
    """The programs of a Podman root (``docker_cli``: the remote-client wrapper of
    :func:`write_cli`, next to the root).

    Raises:
        FleetError: the root has no podman or runc.
    """
    missing = [p for p in ("usr/bin/podman", "usr/sbin/runc") if not (root / p).exists()]
    if missing:
        raise FleetError(f"{root} lacks {', '.join(missing)}",
                         hint="remove it; `labkit fleet up` makes it again")
    return Layout(root=root, path=(root / "usr" / "bin",), docker_cli=root.parent / "bin" / "podman",
                  buildx=None)


def make_root(suite: str, debs: list[Path], root: Path, uri: str, keyring: str | None) -> Layout:
    """``mmdebstrap`` a root of Debian ``suite`` with ``debs`` installed, at ``root``.

    Raises:
        MissingTool: mmdebstrap is not installed.
        FleetError: it failed (its last lines).
    """
    if shutil.which("mmdebstrap") is None:
        raise MissingTool("mmdebstrap is not installed", hint="apt-get install mmdebstrap")
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    option = f"[signed-by={keyring}] " if keyring else "[trusted=yes] "
    cmd = ["mmdebstrap", f"--variant={VARIANT}", "--mode=root", "--aptopt=Acquire::Languages \"none\"",
           f"--include={','.join(EXTRA)}", *[f"--include={deb.resolve()}" for deb in debs], suite, str(partial),
           f"deb {option}{uri} {suite} main"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise FleetError(f"mmdebstrap of a {suite} root failed: {tail}",
                         hint="check the network and the machine's apt sources")
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    found = layout(root)
    write_cli(root, found.docker_cli)
    return found


def _loader(root: Path) -> tuple[Path, list[Path]]:
    """The root's dynamic loader and its library folders."""
    loaders = sorted(root.glob("usr/lib*/ld-linux*.so.*")) + sorted(root.glob("usr/lib/*/ld-linux*.so.*"))
    libraries = sorted(p.parent for p in root.glob("usr/lib/*/libc.so.6"))
    if not loaders or not libraries:
        raise FleetError(f"{root} has no dynamic loader or C library",
                         hint="remove it; `labkit fleet up` makes it again")
    return loaders[0], libraries


def write_cli(root: Path, path: Path) -> Path:
    """Write ``path``: a ``podman`` that runs the root's podman on this machine with the
    root's loader and libraries (a remote client needs nothing else of the root)."""
    loader, libraries = _loader(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n# Written by labkit: the podman of the Debian root next to this folder,\n"
        "# with that root's own libraries (use it as a remote client: --url).\n"
        f"CONTAINERS_CONF={shlex.quote(str(root / 'usr/share/containers/containers.conf'))} "
        f"exec {shlex.quote(str(loader))} --library-path "
        f"{shlex.quote(':'.join(map(str, libraries)))} {shlex.quote(str(root / 'usr/bin/podman'))} \"$@\"\n")
    path.chmod(0o755)
    return path


def containers_conf() -> str:
    """This engine's containers.conf: default ulimits within this process's hard limits.

    Example:
        >>> "default_ulimits" in containers_conf()
        True
    """
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nofile = 1048576 if nofile == resource.RLIM_INFINITY else min(nofile, 1048576)
    nproc = PODMAN_NPROC if nproc == resource.RLIM_INFINITY else min(nproc, PODMAN_NPROC)
    return CONTAINERS_CONF.format(nofile=nofile, nproc=nproc)


def service_script(root: Path, dirs: ServiceDirs, flags: tuple = ()) -> str:
    """The shell lines, run in a new mount namespace, that make ``root`` that namespace's
    root and start the service in it (``exec``: the service keeps the pid).

    ``pivot_root``, not ``chroot``: a process that joins a container's mount namespace
    (``podman exec``) starts at the namespace's top, which a chroot leaves at this
    machine's own ``/`` (measured: ``podman exec … sh`` then ran the host's shell). The
    root must be a mount point for that, hence the bind mount onto itself; this
    machine's tree is detached afterwards.
    """
    q = lambda p: shlex.quote(str(p))                                  # noqa: E731
    inside = lambda p: q(f"{root}{p}")                                 # noqa: E731
    return "\n".join([
        "set -e",
        f"mount --bind {q(root)} {q(root)}",
        f"mount -t proc proc {inside('/proc')}",
        f"mount --rbind /sys {inside('/sys')}",
        f"mount --rbind /dev {inside('/dev')}",
        f"mkdir -p {inside(dirs.run)} {inside(dirs.data)} {inside('/' + OLD_ROOT)}",
        f"mount --bind {q(dirs.run)} {inside(dirs.run)}",
        f"mount --bind {q(dirs.data)} {inside(dirs.data)}",
        f"cd {q(root)}",
        f"pivot_root . {OLD_ROOT}",
        "cd /",
        f"umount -l /{OLD_ROOT}",
        " ".join(["exec podman", "--root", q(dirs.data / "storage"), "--runroot", q(dirs.run / "storage"),
                  "--tmpdir", q(dirs.run / "libpod"), "--storage-driver", "overlay",
                  *map(shlex.quote, flags), "system service --time=0", q(dirs.base_url)]),
    ])


def start(dirs: ServiceDirs, root: Path, flags: tuple = (), timeout: float = 60.0) -> int:
    """Start ``podman system service`` chrooted in ``root``; wait until it answers ``/_ping``.

    Returns:
        the service's pid.

    Raises:
        MissingTool: no ``unshare`` (util-linux) here.
        FleetError: it exited or did not answer in time (its log's last lines).
    """
    if shutil.which("unshare") is None:
        raise MissingTool("unshare is not installed", hint="apt-get install util-linux")
    dirs.run.mkdir(parents=True, exist_ok=True)
    dirs.data.mkdir(parents=True, exist_ok=True)
    dirs.containers_conf.write_text(containers_conf())
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOCKER_", "CONTAINER", "PODMAN_", "BUILDAH_", "XDG_"))}
    env.update(PATH="/usr/sbin:/usr/bin:/sbin:/bin", HOME="/root",
               CONTAINERS_CONF=str(dirs.containers_conf), PODMAN_IGNORE_CGROUPSV1_WARNING="1")
    proc = _spawn(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   service_script(root, dirs, flags)], env, dirs.log, dirs.run)
    dirs.pidfile.write_text(f"{proc.pid}\n")
    _wait_ready(proc, lambda: ping(dirs.sock, timeout=1.0), f"podman for {dirs.run.name}",
                dirs.log, timeout, dirs)
    return proc.pid
