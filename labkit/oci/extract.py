"""Unpack an image's merged root filesystem as Docker would, never writing outside it.

Layers are applied in order (``labkit.oci.merge``: the rule ``inspect`` uses too) into
a fresh folder next to ``dest``, which is renamed to ``dest`` only when every layer was
applied and verified. What Docker keeps is kept: file and folder modes (a folder's
mode and date are set after it is filled, so ``0555`` folders work), modification
times, symlink targets exactly as written (``/usr/bin/mawk`` stays absolute),
hard-link groups, and as root also owners, setuid/setgid bits and device nodes.
Safety comes from never following a link while writing: every path is created
below real folders of the tree being built, never through a symlink.

Refused, with one line naming the member (as Docker refuses them, unless noted):

* names that climb out of the root (``../x``; ``/x`` is taken as ``x``, as Docker does);
* writing through a symlink (``link/evil`` where ``link`` is a symlink; Docker resolves
  it inside the image's root instead);
* relative symlink targets that climb out (``../../etc`` from ``/link``);
* hard links to a path that climbs out, or to anything but a non-folder written before;
* more than ``max_bytes`` in all (headers, and files at their logical size: a gzip
  bomb or a 60 GB sparse file).

Not kept, and listed in ``Extracted.summary()`` (one line): device nodes, setuid and
setgid bits and owners other than root when not running as root; members of a type
labkit does not unpack (GNU volume headers and the like). Not written: extended
attributes (file capabilities). A folder a layer implies without an entry of its own
keeps the mode and date it had (overlay2 would show 0755 and the time of the pull).

Example:
    >>> import tempfile, pathlib
    >>> from labkit.oci.image import Image
    >>> from labkit.oci.tarlayer import Entry
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> tar = Image([[Entry.file("hello", b"hi")]]).write(tmp / "img.tar")
    >>> [p.name for p in extract(tar, tmp / "root")]
    ['hello']
"""
from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
from pathlib import Path

from labkit.errors import LabkitError, UnsafeArchive
from labkit.oci.layerscan import TarEntry
from labkit.oci.merge import Step, Tree
from labkit.oci.plan import plan
from labkit.oci.reader import read_layer
from labkit.oci.source import open_image
from labkit.oci.tarheader import short

MAX_EXTRACT_BYTES = 8 << 30       # default bound on what the layers unpack to, all layers
_NODES = {"char": stat.S_IFCHR, "block": stat.S_IFBLK, "fifo": stat.S_IFIFO}


class Extracted(list):
    """The paths written (a list of ``Path``), and ``skipped``: reason -> paths not kept."""

    def __init__(self, paths: list[Path], skipped: dict[str, list[str]]):
        super().__init__(paths)
        self.skipped = skipped

    def summary(self) -> str:
        """One line naming what was not kept ("" when everything was).

        Example:
            >>> Extracted([], {"device nodes (not root)": ["dev/null"]}).summary()
            'not kept: device nodes (not root): 1 (/dev/null)'
        """
        parts = []
        for reason, paths in self.skipped.items():
            shown = ", ".join("/" + short(p, 60) for p in paths[:3])
            more = f" and {len(paths) - 3:,} more" if len(paths) > 3 else ""
            parts.append(f"{reason}: {len(paths):,} ({shown}{more})")
        return "not kept: " + "; ".join(parts) if parts else ""


def _refuse(entry: TarEntry, why: str) -> UnsafeArchive:
    return UnsafeArchive(f"refusing {short(entry.name or entry.path)!r}: {why}",
                         hint="the image is hostile or broken")


def _climbs_out(path: str) -> bool:
    return path == ".." or path.startswith("../")


class _Writer:
    """The folder being filled, the merged tree it mirrors, and what was not kept."""

    def __init__(self, top: Path, max_bytes: int, as_root: bool):
        self.top, self.max_bytes, self.as_root = top, max_bytes, as_root
        self.tree = Tree()
        self.unpacked = 0
        self.folders: dict[str, TarEntry] = {}   # folder entries: metadata set at the end
        self.implied: set[str] = set()           # folders no entry named
        self.skipped: dict[str, list[str]] = {}

    def note(self, reason: str, path: str) -> None:
        self.skipped.setdefault(reason, []).append(path)

    def count(self, entry: TarEntry) -> None:
        """Add a member to ``unpacked``, refusing it before it takes us over ``max_bytes``."""
        self.unpacked += 512 + (entry.size if entry.type == "file" else 0)
        if self.unpacked > self.max_bytes:
            raise UnsafeArchive(f"refusing {short(entry.name or entry.path)!r}: the layers unpack "
                                f"to more than {self.max_bytes:,} bytes", hint="a decompression "
                                "bomb? if you trust the image, pass a larger max_bytes to extract()")

    def host(self, path: str) -> Path:
        return self.top / path

    def change(self, step: Step) -> None:
        """Make the disk follow the tree: remove what left it, make the implied folders."""
        for path in step.removed:
            host = self.host(path)
            if host.is_dir() and not host.is_symlink():
                shutil.rmtree(host)
            elif os.path.lexists(host):
                host.unlink()
        for path in step.gone:
            self.folders.pop(path, None)
            self.implied.discard(path)
        for path in step.made:
            os.mkdir(self.host(path), 0o700)
            self.implied.add(path)

    def metadata(self, host: Path, entry: TarEntry, link: bool = False) -> None:
        """Owner (as root), mode and time, in Docker's order (chown clears setuid: chmod after)."""
        if self.as_root:
            os.chown(host, entry.uid, entry.gid, follow_symlinks=False)
        elif (entry.uid, entry.gid) != (0, 0):
            self.note("owners other than root (not root)", entry.path)
        if link:
            return
        mode = entry.mode & 0o7777
        if mode & 0o6000 and not self.as_root:
            self.note("setuid/setgid bits (not root)", entry.path)
            mode &= ~0o6000
        os.chmod(host, mode)
        when = int(entry.mtime * 1_000_000_000)
        os.utime(host, ns=(when, when), follow_symlinks=False)

    def finish(self) -> None:
        """Folder modes, owners and dates, once nothing more is written into them."""
        for path in self.implied:
            os.chmod(self.host(path), 0o755)
        for path, entry in self.folders.items():
            self.metadata(self.host(path), entry)


def _check(w: _Writer, entry: TarEntry) -> str | None:
    """Refuse what may not be written; for a hard link, its target's path."""
    if _climbs_out(posixpath.normpath(entry.name or ".")):
        raise _refuse(entry, "its name climbs out of the root ('..')")
    link = w.tree.link_in_the_way(entry.path)
    if link is not None:
        raise _refuse(entry, f"it would be written through the symlink /{link}")
    if entry.type == "symlink":
        if not entry.linkname:
            raise _refuse(entry, "empty symlink target")
        where = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), entry.linkname))
        if not entry.linkname.startswith("/") and _climbs_out(where):
            raise _refuse(entry, f"symlink target {short(entry.linkname, 80)!r} climbs out of the root")
    if entry.type != "hardlink":
        return None
    target = posixpath.normpath(entry.linkname).lstrip("/") if entry.linkname else ""
    if not target or _climbs_out(target) or w.tree.kind(target) in (None, "dir") or \
            target == entry.path or target.startswith(entry.path + "/"):
        raise _refuse(entry, f"hard link to {short(entry.linkname, 80)!r}, not a file written before")
    return target


def _apply(w: _Writer, entry: TarEntry, content) -> None:
    w.count(entry)
    target = _check(w, entry)
    path = entry.path
    if path == ".":
        return
    if entry.type == "other":
        w.note("entries of a type labkit does not unpack", path)
        return
    if entry.type in ("char", "block") and not w.as_root:
        w.note("device nodes (not root)", path)
        return
    w.change(w.tree.apply(entry))
    if entry.whiteout:
        return
    host = w.host(path)
    if entry.type == "dir":
        if not os.path.lexists(host):
            os.mkdir(host, 0o700)
        w.folders[path] = entry
        w.implied.discard(path)
    elif entry.type == "file":
        _write_file(host, content(), entry.size)
        w.metadata(host, entry)
    elif entry.type == "symlink":
        os.symlink(entry.linkname, host)
        w.metadata(host, entry, link=True)
        when = int(entry.mtime * 1_000_000_000)
        os.utime(host, ns=(when, when), follow_symlinks=False)
    elif entry.type == "hardlink":
        os.link(w.host(target), host, follow_symlinks=False)
        w.metadata(host, entry, link=w.tree.kind(target) == "symlink")
    else:
        try:
            os.mknod(host, _NODES[entry.type] | 0o600, os.makedev(entry.devmajor, entry.devminor))
        except PermissionError:
            w.change(w.tree.forget(path))
            w.note("device nodes (not permitted here)", path)
            return
        w.metadata(host, entry)


def _visit(w: _Writer, entry: TarEntry, content) -> None:
    try:
        _apply(w, entry, content)
    except OSError as err:   # e.g. a name longer than the file system allows
        raise UnsafeArchive(f"cannot write /{short(entry.path)}: {err.strerror or err}",
                            hint="the image holds what this file system cannot") from None


def _write_file(host: Path, pieces, size: int) -> None:
    """Write ``(offset, bytes)`` pieces; holes between them stay holes."""
    fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        for offset, piece in pieces:
            view = memoryview(piece)
            while view:
                done = os.pwrite(fd, view, offset)
                view, offset = view[done:], offset + done
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def extract(path: str | Path, dest: str | Path, *, ref: str | None = None,
            max_bytes: int = MAX_EXTRACT_BYTES, as_root: bool | None = None) -> Extracted:
    """Unpack the merged root filesystem of the image at ``path`` into ``dest``.

    ``dest`` must not exist or be an empty folder. ``ref`` picks one image of several
    (as ``inspect``). ``max_bytes`` bounds what the layers unpack to (headers and file
    sizes, all layers together); nothing is left behind when it is exceeded.
    ``as_root`` (default: running as root) keeps owners, setuid/setgid bits and
    device nodes; without it they are listed in ``.summary()`` instead.

    Returns:
        The paths written (an ``Extracted`` list, with ``.skipped`` and ``.summary()``).

    Raises:
        UnsafeArchive: a member would escape ``dest`` or create something dangerous.
        BadImage, DigestMismatch: as ``inspect``.
    """
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise LabkitError(f"{dest} exists and is not an empty folder",
                          hint="extract into a new folder")
    as_root = os.geteuid() == 0 if as_root is None else as_root
    with open_image(path, ref) as (source, ref):
        found = plan(source, ref)
        dest.parent.mkdir(parents=True, exist_ok=True)
        top = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        w = _Writer(top, max_bytes, as_root)
        try:
            for number, layer in enumerate(found.layers, 1):
                w.tree.begin_layer()
                read_layer(source, layer, number, lambda entry, content: _visit(w, entry, content))
            w.finish()
            if dest.exists():
                dest.rmdir()
            os.chmod(top, 0o755)
            top.rename(dest)
        except BaseException:
            shutil.rmtree(top, ignore_errors=True)
            raise
    return Extracted([dest / name for name in sorted(w.tree.nodes)], w.skipped)
