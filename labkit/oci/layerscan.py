"""Read one layer blob in a single streaming pass: hash it, decompress it, list it.

The blob digest (of the bytes as stored) and the diff_id (of the uncompressed tar)
are computed while the tar is read; for an uncompressed layer they are one hash.
Memory stays bounded by the read size whatever the layer's size.

Example:
    >>> import io
    >>> from labkit.oci.tarlayer import Entry, layer_tar
    >>> scan = scan_layer(io.BytesIO(layer_tar([Entry.file("a", b"x")])))
    >>> scan.size, [e.path for e in scan.entries]
    (2048, ['a'])
"""
from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import tarfile
import zlib
from typing import BinaryIO, Callable

from labkit.errors import BadImage
from labkit.oci.tarlayer import OPAQUE, WHITEOUT_PREFIX

READ_SIZE = 1 << 20
MAX_ENTRIES = 1_000_000
_KINDS = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
          tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
          tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}


@dataclasses.dataclass(frozen=True)
class TarEntry:
    """One member of a layer, as read (path normalized, no leading ``/`` or ``./``)."""

    path: str
    type: str  # file | dir | symlink | hardlink | char | block | fifo | other
    size: int
    mode: int
    linkname: str
    whiteout: bool

    @property
    def target(self) -> str | None:
        """The path a whiteout deletes (``None`` for an opaque marker or a normal entry)."""
        head, name = posixpath.split(self.path)
        if not self.whiteout or name == OPAQUE:
            return None
        return posixpath.join(head, name[len(WHITEOUT_PREFIX):])

    @property
    def opaque(self) -> bool:
        """True for ``.wh..wh..opq``, which hides the lower layers' content of its folder."""
        return self.whiteout and posixpath.basename(self.path) == OPAQUE

    def hides(self, path: str) -> bool:
        """True when this whiteout removes ``path`` of a lower layer from the merged view.

        Example:
            >>> TarEntry("etc/.wh.motd", "file", 0, 0, "", True).hides("etc/motd")
            True
            >>> TarEntry("etc/.wh..wh..opq", "file", 0, 0, "", True).hides("etc")
            False
        """
        if self.opaque:
            folder = posixpath.dirname(self.path)
            return path != folder and (folder == "" or path.startswith(folder + "/"))
        target = self.target
        return target is not None and (path == target or path.startswith(target + "/"))


def entry_path(name: str) -> str:
    """A member name as a path relative to the root (``./a/`` → ``a``; ``/`` → ``.``)."""
    return posixpath.normpath("/" + name).lstrip("/") or "."


class LayerStream:
    """A file-like reader of the uncompressed tar that hashes as it goes."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.blob_hash = hashlib.sha256()
        self.blob_size = 0
        self.tar_size = 0
        self.compression = None
        self._inflate = None
        self._pending = b""     # decoded bytes not yet read
        self._tail = b""        # compressed bytes not yet decoded
        self._reads_past_end = 0
        first = self._read_raw(READ_SIZE)
        if first[:4] == b"\x28\xb5\x2f\xfd":
            raise BadImage("zstd-compressed layers are not supported",
                           hint="save the image with gzip or uncompressed layers")
        if first[:2] == b"\x1f\x8b":
            self.compression = "gzip"
            self._inflate = zlib.decompressobj(31)
        self.diff_hash = hashlib.sha256() if self.compression else self.blob_hash
        self._pending = self._decode(first)

    def _read_raw(self, size: int) -> bytes:
        data = self._raw.read(size)
        self.blob_hash.update(data)
        self.blob_size += len(data)
        return data

    def _decode(self, data: bytes) -> bytes:
        if self._inflate is None:
            return data
        try:
            out = self._inflate.decompress(data, READ_SIZE)
            if self._inflate.eof and self._inflate.unused_data:
                self._tail = self._inflate.unused_data  # another gzip member follows
                self._inflate = zlib.decompressobj(31)
            else:
                self._tail = self._inflate.unconsumed_tail
        except zlib.error as err:
            raise BadImage(f"a gzip layer is corrupt ({err})") from None
        self.diff_hash.update(out)
        return out

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = READ_SIZE
        while not self._pending:
            if self._tail:  # at most READ_SIZE bytes are decoded at a time
                self._pending = self._decode(self._tail)
                continue
            data = self._read_raw(READ_SIZE)
            if not data:
                self._reads_past_end += 1
                if self._reads_past_end > 8:  # tarfile skipping a member that isn't there
                    raise BadImage("a layer member declares more bytes than the layer holds",
                                   hint="the layer is truncated or forged")
                return b""
            self._pending = self._decode(data)
        out, self._pending = self._pending[:size], self._pending[size:]
        self.tar_size += len(out)
        return out

    def drain(self) -> None:
        """Read (and hash) whatever the tar reader left: padding, trailing blocks."""
        while self.read(READ_SIZE):
            pass

    @property
    def diff_id(self) -> str:
        return "sha256:" + self.diff_hash.hexdigest()

    @property
    def blob_digest(self) -> str:
        return "sha256:" + self.blob_hash.hexdigest()


@dataclasses.dataclass
class LayerScan:
    """What one pass over a layer blob found."""

    entries: list[TarEntry]
    diff_id: str
    blob_digest: str
    size: int
    blob_size: int
    compression: str | None


Visitor = Callable[[TarEntry, "tarfile.TarFile", tarfile.TarInfo], None]


def scan_layer(raw: BinaryIO, visit: Visitor | None = None, label: str = "layer") -> LayerScan:
    """Read a layer blob once; ``visit(entry, tarfile, info)`` is called for each member.

    An uncompressed layer in a seekable file (the usual ``docker save`` case) is hashed
    in one sequential pass into a reused buffer, and listed by reading only its
    headers; anything else is decompressed, hashed and listed in one streaming pass.

    Raises:
        BadImage: the blob is not a (gzip-compressed) tar, or is truncated.
    """
    if visit is None and getattr(raw, "seekable", lambda: False)():
        start = raw.tell()
        magic = raw.read(4)
        raw.seek(start)
        if magic[:2] != b"\x1f\x8b" and magic != b"\x28\xb5\x2f\xfd":
            return _scan_seekable(raw, label)
    stream = LayerStream(raw)
    entries = []
    try:
        with tarfile.open(fileobj=stream, mode="r|", bufsize=READ_SIZE) as tf:
            for info in tf:
                entry = _entry(info)
                entries.append(entry)
                if len(entries) > MAX_ENTRIES:
                    raise BadImage(f"{label} has more than {MAX_ENTRIES} entries")
                if visit is not None:
                    visit(entry, tf, info)
                tf.members.clear()
        stream.drain()
    except (tarfile.TarError, EOFError) as err:
        raise BadImage(f"{label} is not a readable tar ({err})",
                       hint="the layer is truncated or corrupt") from None
    return LayerScan(entries, stream.diff_id, stream.blob_digest, stream.tar_size,
                     stream.blob_size, stream.compression)


def _scan_seekable(raw: BinaryIO, label: str) -> LayerScan:
    """Hash an uncompressed layer at full speed, then list it by its headers alone."""
    start = raw.tell()
    digest, size = hashlib.sha256(), 0
    view = memoryview(bytearray(4 * READ_SIZE))
    while got := raw.readinto(view):
        digest.update(view[:got])
        size += got
    raw.seek(start)
    entries = []
    try:
        with tarfile.open(fileobj=raw, mode="r:") as tf:
            for info in tf:
                if info.offset_data + (info.size if info.isreg() else 0) > start + size:
                    raise BadImage("a layer member declares more bytes than the layer holds",
                                   hint="the layer is truncated or forged")
                entries.append(_entry(info))
                if len(entries) > MAX_ENTRIES:
                    raise BadImage(f"{label} has more than {MAX_ENTRIES} entries")
                tf.members.clear()
    except (tarfile.TarError, EOFError) as err:
        raise BadImage(f"{label} is not a readable tar ({err})",
                       hint="the layer is truncated or corrupt") from None
    blob = "sha256:" + digest.hexdigest()
    return LayerScan(entries, blob, blob, size, size, None)


def _entry(info: tarfile.TarInfo) -> TarEntry:
    path = entry_path(info.name)
    name = posixpath.basename(path)
    kind = _KINDS.get(info.type, "other")
    return TarEntry(path=path, type=kind, size=info.size if kind == "file" else 0,
                    mode=info.mode, linkname=info.linkname,
                    whiteout=name.startswith(WHITEOUT_PREFIX))
