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

import io
import json
import os
import posixpath
import tarfile
from pathlib import Path

from labkit.errors import BadImage

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
        try:
            with open(self.path, "rb") as raw:
                if raw.read(2) == b"\x1f\x8b":
                    raise BadImage(f"{self.path.name} is gzip-compressed",
                                   hint="decompress it first (gunzip), then inspect the .tar")
            file_size = os.fstat(self._fd).st_size
            with tarfile.open(self.path, "r:") as tf:
                count = 0
                while (info := tf.next()) is not None:
                    count += 1
                    if count > MAX_MEMBERS:
                        raise BadImage(f"{self.path.name} has more than {MAX_MEMBERS} members",
                                       hint="this is not an image tarball")
                    if info.isreg():
                        if info.offset_data + info.size > file_size:
                            raise BadImage(f"{info.name[:120]} in {self.path.name} declares "
                                           f"{info.size} bytes past the end of the file",
                                           hint="the tarball is truncated or forged")
                        name = posixpath.normpath(info.name.lstrip("/"))
                        self._members[name] = (info.offset_data, info.size)
                    tf.members.clear()
        except (tarfile.TarError, EOFError) as err:
            raise BadImage(f"{self.path.name} is not a readable tar archive ({err})",
                           hint="give a docker save tarball, an OCI archive or an OCI folder") from None


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


def open_source(path: str | Path) -> Source:
    """A ``Source`` for a tarball or a folder; ``BadImage`` when it is neither."""
    path = Path(path)
    if path.is_dir():
        return DirSource(path)
    if not path.is_file():
        raise BadImage(f"{path} does not exist", hint="give the path of an image tarball or folder")
    return TarSource(path)
