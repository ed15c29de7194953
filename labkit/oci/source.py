"""Read-only access to the files of an image tarball or folder, without unpacking it.

A member of a tarball is read through its offset in the file (``os.pread``), so
nothing is copied to disk and nothing larger than one read buffer is held in memory.

Example:
    >>> import io, tarfile, tempfile
    >>> path = tempfile.mktemp(suffix=".tar")
    >>> with tarfile.open(path, "w") as tf:
    ...     info = tarfile.TarInfo("a.json"); info.size = 2
    ...     tf.addfile(info, io.BytesIO(b"{}"))
    >>> with open_source(path) as src:
    ...     src.read_json("a.json")[0]
    {}
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import posixpath
import stat
from pathlib import Path
from typing import Iterator

from labkit.errors import BadImage
from labkit.oci.tarheader import short
from labkit.oci.tarmember import TarReader

MAX_MEMBERS = 50_000
MAX_JSON_BYTES = 16 << 20
READ_SIZE = 1 << 20


def member_name(name: str) -> str:
    """A member path as stored (no ``./``); raises ``BadImage`` when it climbs out."""
    clean = posixpath.normpath(name.lstrip("/")) if name else ""
    if name.startswith("/") or clean.startswith("..") or clean in ("", "."):
        raise BadImage(f"refusing image member path {name[:80]!r}",
                       hint="an image refers only to files inside itself")
    return clean


class Slice(io.RawIOBase):
    """A read-only, seekable file over ``size`` bytes at ``offset`` of an open descriptor."""

    def __init__(self, fd: int, offset: int, size: int, label: str, owns_fd: bool = False):
        super().__init__()
        self._fd, self._start, self._pos, self._end = fd, offset, offset, offset + size
        self.label, self._owns_fd = label, owns_fd

    def close(self) -> None:
        if self._owns_fd and not self.closed:
            os.close(self._fd)
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos - self._start

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: self._start, io.SEEK_CUR: self._pos, io.SEEK_END: self._end}[whence]
        self._pos = max(self._start, base + offset)
        return self.tell()

    def read(self, size: int = -1) -> bytes:
        wanted = self._end - self._pos if size < 0 else min(size, self._end - self._pos)
        if wanted <= 0:
            return b""
        data = os.pread(self._fd, wanted, self._pos)
        if not data:
            raise BadImage(f"{self.label} is truncated", hint="the file ends early; save it again")
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        """Read straight into ``buffer`` (no intermediate copy)."""
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._end - self._pos)
        if wanted <= 0:
            return 0
        got = os.preadv(self._fd, [view[:wanted]], self._pos)
        if not got:
            raise BadImage(f"{self.label} is truncated", hint="the file ends early; save it again")
        self._pos += got
        return got


class Source:
    """The files of an image (a tarball or a folder); use ``open_source``."""

    kind = "tar"

    def __init__(self, path: Path):
        self.path = path
        self._fd = -1
        self._members: dict[str, tuple[int, int]] = {}

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def names(self) -> list[str]:
        """Every regular file's path."""
        return list(self._members)

    def has(self, name: str) -> bool:
        return member_name(name) in self._members

    def size(self, name: str) -> int:
        return self._entry(name)[1]

    def _entry(self, name: str) -> tuple[int, int]:
        try:
            return self._members[member_name(name)]
        except KeyError:
            raise BadImage(f"{self.path.name} has no {name[:120]}",
                           hint="the image refers to a file it does not contain") from None

    def open(self, name: str) -> Slice:
        """A bounded reader of member ``name``."""
        offset, size = self._entry(name)
        return Slice(self._fd, offset, size, f"{name[:120]} in {self.path.name}")

    def read_bytes(self, name: str, limit: int = MAX_JSON_BYTES) -> bytes:
        size = self.size(name)
        if size > limit:
            raise BadImage(f"{name[:120]} declares {size} bytes, more than the {limit} allowed",
                           hint="this is not a real image file")
        with self.open(name) as f:
            data = f.read(size)
        if len(data) != size:
            raise BadImage(f"{name[:120]} in {self.path.name} is truncated")
        return data

    def read_json(self, name: str) -> tuple[object, bytes]:
        """``(parsed, raw bytes)`` of a JSON member; ``BadImage`` for bad or too deep JSON."""
        raw = self.read_bytes(name)
        return parse_json(raw, name), raw


def parse_json(raw: bytes, label: str) -> object:
    """Parse JSON, turning every way it can fail into one ``BadImage`` line."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadImage(f"{label[:120]}: JSON nested too deeply",
                       hint="this is not a real image file") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise BadImage(f"{label[:120]}: not valid JSON ({str(err).splitlines()[0][:80]})") from None


class TarSource(Source):
    """The members of an (uncompressed) image tarball, indexed by offset."""

    def __init__(self, path: Path):
        super().__init__(path)
        self._fd = os.open(path, os.O_RDONLY)
        try:
            self._index()
        except BaseException:
            self.close()
            raise

    def _index(self) -> None:
        with open(self.path, "rb") as raw:
            if raw.read(2) == b"\x1f\x8b":
                raise BadImage(f"{self.path.name} is gzip-compressed",
                               hint="decompress it first (gunzip), then inspect the .tar")
            raw.seek(0)
            file_size = os.fstat(self._fd).st_size
            reader = TarReader(raw, self.path.name, size=file_size)
            links: dict[str, str] = {}
            for count, member in enumerate(reader, 1):
                if count > MAX_MEMBERS:
                    raise BadImage(f"{self.path.name} has more than {MAX_MEMBERS} members",
                                   hint="this is not an image tarball")
                if member.data_offset + member.data_size > file_size:
                    raise BadImage(f"{short(member.name)} in {self.path.name} declares "
                                   f"{member.size} bytes past the end of the file",
                                   hint="the tarball is truncated or forged")
                name = posixpath.normpath(member.name.lstrip("/"))
                if member.typeflag in ("0", "7") and member.sparse is None:
                    self._members[name] = (member.data_offset, member.data_size)
                elif member.typeflag == "2":   # docker save (1.10-24) links a repeated layer.tar
                    links[name] = posixpath.join(posixpath.dirname(name), member.linkname)
                elif member.typeflag == "1":
                    links[name] = member.linkname
        self._resolve(links)

    def _resolve(self, links: dict[str, str]) -> None:
        """Links to members of the archive read as those members; a link that leaves the
        archive (``../../etc/passwd``) or goes nowhere stays unreadable."""
        for _ in range(8):     # chains of links, a few deep at most
            for name, target in links.items():
                found = self._members.get(posixpath.normpath(target.lstrip("/")))
                if found is not None and name not in self._members:
                    self._members[name] = found


class DirSource(Source):
    """The files of an OCI layout (or unpacked ``docker save``) folder."""

    kind = "dir"

    def has(self, name: str) -> bool:
        return (self.path / member_name(name)).is_file()

    def names(self) -> list[str]:
        return [str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file()]

    def _entry(self, name: str) -> tuple[int, int]:
        path = self.path / member_name(name)
        if not path.is_file():
            raise BadImage(f"{self.path.name} has no {name[:120]}",
                           hint="the image refers to a file it does not contain")
        return 0, path.stat().st_size

    def open(self, name: str) -> Slice:
        try:
            fd = os.open(self.path / member_name(name), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as err:  # ELOOP: a symlink, which an image folder never needs
            raise BadImage(f"cannot read {name[:120]} in {self.path.name}: {err.strerror}",
                           hint="an image folder holds plain files, not links") from None
        return Slice(fd, 0, os.fstat(fd).st_size, name[:120], owns_fd=True)


def image_path(path, ref: str | None = None) -> tuple[Path, str | None]:
    """``(path, ref)`` from ``PATH`` or ``PATH:REF`` (``img.tar:busybox:latest``).

    A path that exists is taken whole; otherwise the longest part before a ``:``
    that exists is the path and the rest the reference.

    Example:
        >>> import tempfile, pathlib
        >>> tar = pathlib.Path(tempfile.mkdtemp()) / "two.tar"
        >>> _ = tar.write_bytes(b"")
        >>> image_path(f"{tar}:busybox:latest")[1]
        'busybox:latest'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise BadImage(f"expected the path of an image, got {type(path).__name__}",
                       hint="give the path of an image tarball or folder")
    text = os.fsdecode(os.fspath(path))
    if ref is None and ":" in text and not os.path.lexists(text):
        cuts = [i for i, char in enumerate(text) if char == ":" and i and os.path.exists(text[:i])]
        if cuts:
            return Path(text[:cuts[-1]]), text[cuts[-1] + 1:] or None
    return Path(text), ref


@contextlib.contextmanager
def open_image(path, ref: str | None = None) -> Iterator[tuple[Source, str | None]]:
    """``(source, ref)`` for ``PATH`` or ``PATH:REF`` (see ``image_path``)."""
    path, ref = image_path(path, ref)
    with open_source(path) as source:
        yield source, ref


_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a fifo (named pipe)", stat.S_IFSOCK: "a socket"}


def open_source(path: str | Path) -> Source:
    """A ``Source`` for a tarball or a folder; ``BadImage`` when it is neither."""
    path, _ = image_path(path, "")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BadImage(f"{short(str(path))} does not exist",
                       hint="give the path of an image tarball or folder") from None
    except OSError as err:
        raise BadImage(f"cannot read {short(str(path))}: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        return DirSource(path)
    if not stat.S_ISREG(mode):
        raise BadImage(f"{short(str(path))} is not an image: it is "
                       f"{_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}",
                       hint="give the path of an image tarball or folder")
    return TarSource(path)
