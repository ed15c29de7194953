"""Deterministic layer tars with the exact header bytes Docker writes.

Docker builds a layer with Go's ``archive/tar`` (USTAR when the fields fit). For the
same file the eras differ in two header fields, measured by ``docker save`` of
``FROM scratch`` + ``COPY hello /hello`` with both builders:

============  ==========================  ===================
field         20.10 (Go FileInfoHeader)   26+ / 28
============  ==========================  ===================
``mode``      ``0100755`` (type bits)     ``0000755``
uname/gname   ``root`` / ``root``         empty
============  ==========================  ===================

A third header era, ``type-bits`` (layer tars only, not an image era), has 20.10's mode
and no owner names: Podman 4.3.1 writes it (containers/storage dropped the type bits in
1.48, commit f9be80cf2), and so do Docker's own 20.10-23.0 binaries.

Everything else is equal: USTAR magic ``ustar\\0`` version ``00``, devmajor/minor
``0000000``, mtime in whole seconds, no PAX records, no entry for ``/``, the data
padded to 512 bytes and two zero blocks at the end (no padding to a 10 KiB record).

Example:
    >>> layer = layer_tar([Entry.file("hello", b"hi\\n", mtime=0)])
    >>> len(layer), tar_headers(layer)[0]["mode"]
    (2048, '0000755')
"""
from __future__ import annotations

import dataclasses
import io
import posixpath
from pathlib import Path
from typing import BinaryIO, Iterable

from labkit.errors import BadImage

BLOCK = 512
ERAS = ("modern", "20.10", "1.4")
HEADER_ERAS = (*ERAS, "type-bits")     # see the module docstring
WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_RECORDS = 1 << 20     # tar_headers shows at most this much of a PAX/GNU record

# Go's c_ISREG / c_ISDIR / c_ISLNK bits, which 20.10's FileInfoHeader left in `mode`.
_TYPE_BITS = {"file": 0o100000, "dir": 0o040000, "symlink": 0o120000, "hardlink": 0o100000}
_TYPE_FLAG = {"file": b"0", "hardlink": b"1", "symlink": b"2", "dir": b"5"}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One member of a layer tar; owner is always 0:0.

    Build entries with the constructors, not the dataclass itself.

    Example:
        >>> Entry.file("hello", b"hi", mode=0o755).size
        2
    """

    path: str
    kind: str  # file | dir | symlink | hardlink
    data: bytes | None = None
    source: Path | None = None
    mode: int = 0o755
    mtime: int = 0
    linkname: str = ""

    @classmethod
    def file(cls, path: str, data: bytes | None = None, *, source: str | Path | None = None,
             mode: int = 0o755, mtime: int = 0) -> "Entry":
        """A regular file from ``data`` or, read when the layer is written, ``source``."""
        if (data is None) == (source is None):
            raise ValueError("give exactly one of data= or source=")
        return cls(_clean(path), "file", data, Path(source) if source else None, mode, int(mtime))

    @classmethod
    def dir(cls, path: str, mode: int = 0o755, mtime: int = 0) -> "Entry":
        """A directory."""
        return cls(_clean(path), "dir", mode=mode, mtime=int(mtime))

    @classmethod
    def symlink(cls, path: str, target: str, mtime: int = 0) -> "Entry":
        """A symbolic link to ``target`` (kept verbatim)."""
        return cls(_clean(path), "symlink", mode=0o777, mtime=int(mtime), linkname=target)

    @classmethod
    def hardlink(cls, path: str, target: str, mode: int = 0o755, mtime: int = 0) -> "Entry":
        """A hard link to ``target``, an earlier member of the same layer."""
        return cls(_clean(path), "hardlink", mode=mode, mtime=int(mtime), linkname=_clean(target))

    @classmethod
    def whiteout(cls, path: str) -> "Entry":
        """Deletes ``path`` of lower layers (an empty file ``.wh.<name>``)."""
        head, name = posixpath.split(_clean(path))
        return cls.file(posixpath.join(head, WHITEOUT_PREFIX + name), b"", mode=0o644)

    @classmethod
    def opaque(cls, dir: str) -> "Entry":
        """Hides everything lower layers put in ``dir``."""
        return cls.file(posixpath.join(_clean(dir), OPAQUE), b"", mode=0o644)

    @property
    def size(self) -> int:
        """Bytes of content (0 for everything but regular files)."""
        if self.kind != "file":
            return 0
        return len(self.data) if self.data is not None else self.source.stat().st_size


def _clean(path: str) -> str:
    cleaned = posixpath.normpath("/" + str(path)).lstrip("/")
    if not cleaned or cleaned == ".":
        raise ValueError(f"not a path inside an image: {path!r}")
    return cleaned


def walk_order(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in the order Docker's directory walk visits them (per-directory lexical).

    Example:
        >>> [e.path for e in walk_order([Entry.file("a.txt", b""), Entry.file("a/b", b"")])]
        ['a/b', 'a.txt']
    """
    return sorted(entries, key=lambda e: e.path.split("/"))


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def header(entry: Entry, era: str = "modern", size: int | None = None) -> bytes:
    """The 512-byte USTAR header Docker writes for ``entry`` in ``era``.

    ``size`` overrides the entry's content size (for content streamed separately).
    """
    if era not in HEADER_ERAS:
        raise ValueError(f"era must be one of {HEADER_ERAS}, not {era!r}")
    name = entry.path + ("/" if entry.kind == "dir" else "")
    prefix = b""
    raw = name.encode()
    if len(raw) > 100:
        cut = raw.rfind(b"/", 0, 156)
        if cut <= 0 or len(raw) - cut - 1 > 100:
            raise ValueError(f"path too long for a USTAR header: {entry.path!r}")
        prefix, raw = raw[:cut], raw[cut + 1:]
    mode = entry.mode & 0o7777
    if era != "modern":
        mode |= _TYPE_BITS[entry.kind]
    owner = b"" if era in ("modern", "type-bits") else b"root"
    link = entry.linkname.encode()
    if len(link) > 100:
        raise ValueError(f"link target too long for a USTAR header: {entry.linkname!r}")
    block = bytearray(BLOCK)
    block[0:len(raw)] = raw
    block[100:108] = _octal(mode, 8)
    block[108:116] = _octal(0, 8)
    block[116:124] = _octal(0, 8)
    block[124:136] = _octal(entry.size if size is None else size, 12)
    block[136:148] = _octal(entry.mtime, 12)
    block[148:156] = b" " * 8
    block[156:157] = _TYPE_FLAG[entry.kind]
    block[157:157 + len(link)] = link
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    block[265:265 + len(owner)] = owner
    block[297:297 + len(owner)] = owner
    block[329:337] = _octal(0, 8)
    block[337:345] = _octal(0, 8)
    block[345:345 + len(prefix)] = prefix
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def write_layer(entries: Iterable[Entry], out: BinaryIO, era: str = "modern") -> int:
    """Stream the layer tar of ``entries`` (in walk order) to ``out``; returns its size."""
    written = 0
    for entry in walk_order(entries):
        out.write(header(entry, era))
        written += BLOCK
        if entry.kind == "file":
            written += _copy_content(entry, out)
    out.write(bytes(2 * BLOCK))
    return written + 2 * BLOCK


def _copy_content(entry: Entry, out: BinaryIO) -> int:
    size = 0
    if entry.data is not None:
        out.write(entry.data)
        size = len(entry.data)
    else:
        with open(entry.source, "rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
                size += len(chunk)
    pad = -size % BLOCK
    out.write(bytes(pad))
    return size + pad


def layer_tar(entries: Iterable[Entry], era: str = "modern") -> bytes:
    """The whole layer tar as bytes (for small layers; ``write_layer`` streams).

    Example:
        >>> layer_tar([]) == bytes(1024)
        True
    """
    buf = io.BytesIO()
    write_layer(entries, buf, era)
    return buf.getvalue()


_FIELDS = (("name", 0, 100), ("mode", 100, 8), ("uid", 108, 8), ("gid", 116, 8),
           ("size", 124, 12), ("mtime", 136, 12), ("chksum", 148, 8), ("typeflag", 156, 1),
           ("linkname", 157, 100), ("magic", 257, 6), ("version", 263, 2),
           ("uname", 265, 32), ("gname", 297, 32), ("devmajor", 329, 8),
           ("devminor", 337, 8), ("prefix", 345, 155))


def one_file_layer_size(n: int) -> int:
    """Bytes of the smallest layer tar holding one ``n``-byte file: a 512-byte header, the
    content padded to 512-byte blocks, and the 1,024-byte end marker.

    Example:
        >>> one_file_layer_size(170)
        2048
    """
    return 512 + -(-n // 512) * 512 + 1024


def tar_headers(layer: bytes | str | Path) -> list[dict]:
    """Every raw header field of every block header in a tar, to compare eras.

    Values are the field text without trailing NULs; ``offset`` is the header's byte
    offset, and PAX/GNU extension headers carry their ``records`` text. The final
    zero blocks are one entry ``{"offset": N, "zero_blocks": k}``.

    Example:
        >>> tar_headers(layer_tar([Entry.file("a", b"x")], era="20.10"))[0]["uname"]
        'root'
    """
    with (io.BytesIO(layer) if isinstance(layer, (bytes, bytearray)) else open(layer, "rb")) as f:
        return _read_headers(f)


def _read_headers(f: BinaryIO) -> list[dict]:
    """``tar_headers`` of a seekable file, reading only the headers (a path is never
    loaded whole: a layer can be gigabytes)."""
    end = f.seek(0, io.SEEK_END)
    rows, offset = [], 0
    while offset + BLOCK <= end:
        f.seek(offset)
        block = f.read(BLOCK)
        if block == bytes(BLOCK):
            rows.append({"offset": offset, "zero_blocks": (end - offset) // BLOCK})
            break
        row = {"offset": offset}
        for name, start, width in _FIELDS:
            row[name] = block[start:start + width].rstrip(b"\0").decode("latin-1")
        try:
            size = int(row["size"].strip() or "0", 8)
        except ValueError:
            raise BadImage(f"tar header at byte {offset} has a bad size field") from None
        if row["typeflag"] in ("x", "g", "L", "K"):
            row["records"] = f.read(min(size, MAX_RECORDS)).decode("utf-8", "replace")
        rows.append(row)
        offset += BLOCK + size + (-size % BLOCK) if row["typeflag"] not in ("1", "2", "5") else BLOCK
    return rows
