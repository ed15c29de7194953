"""Unpack an engine's programs into a private root and check that nothing is missing.

Two layouts: Debian packages unpacked with ``dpkg-deb -x`` (``usr/sbin/dockerd``,
``usr/bin/containerd``, ...) and Docker's static release archive
(``docker/dockerd``, ``docker/containerd``, ``docker/runc``, ``docker/ctr``,
``docker/containerd-shim-runc-v2``, ``docker/docker-init``, ``docker/docker``, ...).

Example:
    >>> from labkit.fleet import archive
    >>> archive.REQUIRED[:2]
    ('dockerd', 'containerd')
"""
from __future__ import annotations

import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import FleetError, MissingTool

REQUIRED = ("dockerd", "containerd", "containerd-shim-runc-v2", "runc", "docker-init", "docker")
BIN_DIRS = ("usr/sbin", "usr/bin", "docker")
BUILDX = "usr/libexec/docker/cli-plugins/docker-buildx"


@dataclass(frozen=True)
class Layout:
    """Where an unpacked engine's programs are.

    Attributes:
        root: the private root.
        path: directories for the daemon's PATH, in search order.
        docker_cli: the engine's own docker CLI.
        buildx: the buildx CLI plugin, or ``None``.
    """

    root: Path
    path: tuple
    docker_cli: Path
    buildx: Path | None


def layout(root: Path) -> Layout:
    """Find the programs under ``root``.

    Raises:
        FleetError: a required program is missing (the message names them).
    """
    dirs = [root / d for d in BIN_DIRS if (root / d).is_dir()]
    found = {name: next((d / name for d in dirs if (d / name).exists()), None) for name in REQUIRED}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise FleetError(f"{root} lacks {', '.join(missing)}",
                         hint="an engine needs dockerd, containerd, the runc shim, runc, "
                              "docker-init and the docker CLI")
    buildx = root / BUILDX
    return Layout(root=root, path=tuple(dirs), docker_cli=found["docker"],
                  buildx=buildx if buildx.exists() else None)


def runs(program: Path) -> str | None:
    """``None`` when ``program --version`` runs here, else why not (its first error line).

    Example:
        >>> runs(Path("/bin/true")) is None
        True
    """
    try:
        done = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]


def runc(found: Layout) -> Path:
    """The runc program of an unpacked engine."""
    return next(d / "runc" for d in found.path if (d / "runc").exists())


def _fresh(root: Path) -> Path:
    # Unpack into a sibling first so an interrupted unpack never looks complete.
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return partial


def _publish(partial: Path, root: Path) -> Layout:
    found = layout(partial)
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    return Layout(root=root, path=tuple(root / p.relative_to(partial) for p in found.path),
                  docker_cli=root / found.docker_cli.relative_to(partial),
                  buildx=root / found.buildx.relative_to(partial) if found.buildx else None)


def extract_deb(deb: Path, dest: Path) -> None:
    """``dpkg-deb -x deb dest``.

    Raises:
        MissingTool: dpkg-deb is not installed.
        FleetError: the package cannot be unpacked.
    """
    if shutil.which("dpkg-deb") is None:
        raise MissingTool("dpkg-deb is not installed", hint="apt-get install dpkg")
    done = subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], capture_output=True, text=True)
    if done.returncode != 0:
        raise FleetError(f"cannot unpack {deb.name}: {done.stderr.strip()}",
                         hint="remove it from ~/.cache/labkit/debs and retry")


def unpack_debs(debs: list[Path], root: Path) -> Layout:
    """Unpack every package into ``root`` (replacing it).

    Raises:
        MissingTool: dpkg-deb is not installed.
        FleetError: a package cannot be unpacked, or the result lacks a program.
    """
    partial = _fresh(root)
    for deb in debs:
        extract_deb(deb, partial)
    return _publish(partial, root)


def _checked(member: tarfile.TarInfo) -> tarfile.TarInfo:
    name = Path(member.name)
    if name.is_absolute() or ".." in name.parts or member.isdev() or member.mode & 0o6000 \
            or (member.issym() or member.islnk()) and (
                Path(member.linkname).is_absolute() or ".." in Path(member.linkname).parts):
        raise tarfile.TarError(f"unsafe member {member.name}")
    return member


def unpack_archive(tgz: Path, root: Path) -> Layout:
    """Unpack a static-release style archive (``docker/dockerd``...) into ``root``.

    Members are extracted with tarfile's ``data`` filter: nothing lands outside
    ``root``, no devices, no setuid bits.

    Raises:
        FleetError: not a tar archive, an unsafe member, or a required program missing.
    """
    partial = _fresh(root)
    try:
        with tarfile.open(tgz) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(partial, filter="data")
            else:                                    # Python < 3.10.12: check by hand
                tar.extractall(partial, members=[_checked(m) for m in tar.getmembers()])
    except (tarfile.TarError, OSError) as err:
        raise FleetError(f"cannot unpack {tgz}: {err}",
                         hint="expected Docker's static release layout docker/dockerd, ...") from None
    return _publish(partial, root)
