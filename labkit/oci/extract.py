"""Unpack an image's merged root filesystem, refusing anything that could escape.

Layers are applied in order into a fresh folder next to ``dest`` (so nothing is ever
written outside it), which is renamed to ``dest`` only when every layer was applied
and verified. Refused, with one line naming the member:

* absolute member names and names with ``..``;
* writing through a symlink (``link/evil`` where ``link`` is a symlink);
* symlinks whose target climbs out (``..`` is allowed only at the start of a
  relative target, and no further up than the root);
* hard links to anything but a regular file written earlier;
* device nodes, fifos, and setuid/setgid bits;
* more than ``max_bytes`` of uncompressed layer content in all (a gzip bomb).

Absolute symlink targets are not refused but rewritten relative to the link
(``/bin/sh -> /bin/busybox`` becomes ``bin/sh -> busybox``): real images are full of
them (busybox applets, ``/etc/alternatives``), they mean "inside the image's root",
and a relative link is what keeps them meaning that -- and landing inside ``dest``
-- when the host follows them. The link itself is always written inside ``dest``.

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
import tarfile
import tempfile
from pathlib import Path

from labkit.errors import LabkitError, UnsafeArchive
from labkit.oci.layerscan import TarEntry
from labkit.oci.reader import plan, read_layer
from labkit.oci.source import open_source

COPY_SIZE = 1 << 20
MAX_EXTRACT_BYTES = 8 << 30       # default bound on uncompressed layer content, all layers


class _Root:
    """The folder being filled, and what each path in it is."""

    def __init__(self, top: Path, max_bytes: int):
        self.top = top
        self.kinds: dict[str, str] = {}
        self.max_bytes = max_bytes
        self.unpacked = 0         # bytes of layer tar (headers + contents) met so far

    def count(self, info: tarfile.TarInfo) -> None:
        """Add a member to ``unpacked``, refusing it before it takes us over ``max_bytes``."""
        self.unpacked += tarfile.BLOCKSIZE + (info.size if info.isreg() else 0)
        if self.unpacked > self.max_bytes:
            raise UnsafeArchive(f"refusing {info.name[:120]!r}: the layers unpack to more than "
                                f"{self.max_bytes:,} bytes", hint="a decompression bomb? if you "
                                "trust the image, pass a larger max_bytes to extract()")

    def host(self, path: str) -> Path:
        return self.top / path

    def check_parents(self, path: str, raw_name: str) -> None:
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            kind = self.kinds.get(parent)
            if kind == "symlink":
                raise UnsafeArchive(f"refusing {raw_name[:120]!r}: it would be written through "
                                    f"the symlink /{parent}", hint="the image is hostile")
            if kind not in (None, "dir"):
                self.remove(parent)
            if kind != "dir":
                os.makedirs(self.host(parent), exist_ok=True)
                self.kinds[parent] = "dir"

    def remove(self, path: str) -> None:
        host = self.host(path)
        if host.is_symlink() or host.is_file():
            host.unlink()
        elif host.is_dir():
            shutil.rmtree(host)
        prefix = path + "/"
        for name in [n for n in self.kinds if n == path or n.startswith(prefix)]:
            del self.kinds[name]

    def clear(self, folder: str) -> None:
        prefix = "" if folder == "." else folder + "/"
        for name in [n for n in self.kinds if n.startswith(prefix) and "/" not in n[len(prefix):]]:
            self.remove(name)


def _refuse(info: tarfile.TarInfo, why: str) -> UnsafeArchive:
    return UnsafeArchive(f"refusing {info.name[:120]!r}: {why}", hint="the image is hostile or broken")


def _safe_symlink_target(entry: TarEntry, info: tarfile.TarInfo) -> str:
    target = entry.linkname
    if not target:
        raise _refuse(info, "empty symlink target")
    if target.startswith("/"):
        inside = posixpath.normpath(target).lstrip("/") or "."
        return posixpath.relpath(inside, posixpath.dirname(entry.path) or ".")
    parts = [p for p in target.split("/") if p not in ("", ".")]
    leading = next((i for i, p in enumerate(parts) if p != ".."), len(parts))
    if ".." in parts[leading:]:
        raise _refuse(info, f"symlink target {target[:80]!r} has '..' after a name")
    if leading > entry.path.count("/"):
        raise _refuse(info, f"symlink target {target[:80]!r} climbs out of the root")
    return target


def _apply(root: _Root, entry: TarEntry, tf: tarfile.TarFile, info: tarfile.TarInfo) -> None:
    root.count(info)
    raw = info.name
    if raw.startswith("/") or ".." in raw.split("/"):
        raise _refuse(info, "absolute path or '..'")
    if entry.type in ("char", "block", "fifo", "other"):
        raise _refuse(info, f"a {entry.type} device or special file")
    if entry.mode & 0o6000:
        raise _refuse(info, "setuid/setgid bit")
    path = entry.path
    if path == ".":
        return
    root.check_parents(path, raw)
    if entry.opaque:
        root.clear(posixpath.dirname(path) or ".")
        return
    if entry.whiteout:
        if entry.target in root.kinds:
            root.remove(entry.target)
        return
    existing = root.kinds.get(path)
    if existing and not (existing == "dir" and entry.type == "dir"):
        root.remove(path)
    host = root.host(path)
    if entry.type == "dir":
        os.makedirs(host, exist_ok=True)
        os.chmod(host, entry.mode & 0o1777 | 0o700)
    elif entry.type == "file":
        _write_file(host, tf.extractfile(info), entry.mode)
    elif entry.type == "hardlink":
        target = posixpath.normpath(entry.linkname.lstrip("/")) if entry.linkname else ""
        if entry.linkname.startswith("/") or target.startswith("..") or \
                root.kinds.get(target) != "file":
            raise _refuse(info, f"hard link to {entry.linkname[:80]!r}, not a file written before")
        os.link(root.host(target), host, follow_symlinks=False)
    elif entry.type == "symlink":
        os.symlink(_safe_symlink_target(entry, info), host)
    root.kinds[path] = entry.type if entry.type != "hardlink" else "file"


def _write_file(host: Path, data, mode: int) -> None:
    fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := data.read(COPY_SIZE):
            out.write(chunk)
    os.chmod(host, mode & 0o1777)


def extract(path: str | Path, dest: str | Path, *, max_bytes: int = MAX_EXTRACT_BYTES) -> list[Path]:
    """Unpack the merged root filesystem of the image at ``path`` into ``dest``.

    ``dest`` must not exist or be an empty folder. Returns the paths written.
    ``max_bytes`` bounds the uncompressed layer tars (headers and contents, all
    layers together); nothing is left behind when it is exceeded.

    Raises:
        UnsafeArchive: a member would escape ``dest`` or create something dangerous.
        BadImage, DigestMismatch: as ``inspect``.
    """
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise LabkitError(f"{dest} exists and is not an empty folder",
                          hint="extract into a new folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open_source(path) as source:
        found = plan(source)
        top = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        root = _Root(top, max_bytes)
        try:
            for number, ref in enumerate(found.layers, 1):
                read_layer(source, ref, number, lambda e, tf, i: _apply(root, e, tf, i))
            if dest.exists():
                dest.rmdir()
            os.chmod(top, 0o755)
            top.rename(dest)
        except BaseException:
            shutil.rmtree(top, ignore_errors=True)
            raise
    return [dest / name for name in sorted(root.kinds)]
