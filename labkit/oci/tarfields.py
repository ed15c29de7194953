"""Every byte of a layer tar, named: one member's 512-byte header field by field, its
content, the padding to a whole block, and the two zero blocks that end the archive.

The header layout is POSIX's ``ustar`` format (the ``pax`` utility's specification,
https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_06), the one
Go's ``archive/tar`` — and so Docker — writes for short names. ``labkit.show.hexdump``
draws the result.

Example:
    >>> from labkit.oci.tarlayer import Entry, layer_tar
    >>> from labkit.bytefields import totals
    >>> totals(tar_fields(layer_tar([Entry.file("hello", b"hi\\n")])))
    [('tar header', 512), ('content', 3), ('padding', 509), ('end of archive', 1024)]
"""
from __future__ import annotations

import io
from pathlib import Path

from labkit.bytefields import Field, problem
from labkit.errors import LabkitError
from labkit.oci.tarheader import BLOCK, HeaderError, cut, numeric
from labkit.oci.tarmember import TarReader

_KINDS = {"0": "a regular file", "\0": "a regular file (old style)", "1": "a hard link", "2": "a symbolic link",
          "5": "a folder", "x": "a PAX header: values for the next member", "g": "a global PAX header",
          "L": "a GNU long name for the next member"}


def _text(raw: bytes) -> str:
    value = cut(raw).decode("utf-8", "replace")
    return f'"{value}"' if value else "empty"


def _number(raw: bytes) -> int | None:
    try:
        return numeric(raw)
    except HeaderError:
        return None


def _rwx(mode: int) -> str:
    return "".join(letter if mode & (1 << (8 - i)) else "-" for i, letter in enumerate("rwxrwxrwx"))


def header_fields(block: bytes, offset: int = 0) -> list[Field]:
    """The fields of one 512-byte ``ustar`` header block at ``offset``, each with its meaning.

    Example:
        >>> from labkit.oci.tarlayer import Entry, header
        >>> [f.meaning for f in header_fields(header(Entry.file("a", b"hi", mode=0o644)))][1]
        'octal 644: rw-r--r-- (owner reads and writes; group and others read)'
    """
    mode, size, mtime = _number(block[100:108]), _number(block[124:136]), _number(block[136:148])
    kind = chr(block[156])
    perms = "" if mode is None else (
        f"octal {mode & 0o7777:o}: {_rwx(mode)}" + (
            f", with the file-type bits {mode & ~0o7777:o} as well" if mode & ~0o7777 else "")
        + {0o755: " (owner reads, writes, runs; others read and run)",
           0o644: " (owner reads and writes; group and others read)"}.get(mode & 0o7777, ""))
    rows = [
        (0, 100, "name", f"{_text(block[0:100])}: the path in the image, without the leading /"),
        (100, 8, "mode", perms or "not an octal number"),
        (108, 8, "uid", f"{_number(block[108:116])}: the owner's user number"),
        (116, 8, "gid", f"{_number(block[116:124])}: the owner's group number"),
        (124, 12, "size", f"octal {size:o} = {size:,} bytes of content" if size is not None else "?"),
        (136, 12, "mtime", f"{mtime}: seconds after 1970-01-01, when the file last changed"
         + (" (fixed, so the bytes are always the same)" if mtime == 0 else "")),
        (148, 8, "chksum", f"octal {_number(block[148:156]) or 0:o}: the sum of this header's bytes "
         "(these 8 counted as spaces)"),
        (156, 1, "typeflag", f'"{kind}": {_KINDS.get(kind, "another kind of member")}'),
        (157, 100, "linkname", f"{_text(block[157:257])}: what a link points to"),
        (257, 6, "magic", {b"ustar\0": '"ustar" and a zero byte: the POSIX ustar format',
                           b"ustar ": '"ustar ": the old GNU format'}.get(block[257:263], "not ustar")),
        (263, 2, "version", f"{_text(block[263:265])}: the format's version"),
        (265, 32, "uname", f"{_text(block[265:297])}: the owner's user name"),
        (297, 32, "gname", f"{_text(block[297:329])}: the owner's group name"),
        (329, 8, "devmajor", "a device's major number (only device files have one)"),
        (337, 8, "devminor", "a device's minor number"),
        (345, 155, "prefix", f"{_text(block[345:500])}: the start of a path longer than 100 bytes"),
        (500, 12, "(unused)", "zeros, up to 512 bytes"),
    ]
    return [Field(offset + at, block[at:at + n], "tar header", name, meaning) for at, n, name, meaning in rows]


def tar_fields(layer: bytes | str | Path, member: str | None = None) -> list[Field]:
    """Name every byte of a tar: the header of ``member`` (default: the first) field by
    field, its content and padding, the other members as one row each side, and the end.

    Args:
        layer: the tar's bytes or its path (a layer tar: ``labkit.oci.layer_tar``).
        member: the name of the member to show (as the tar stores it, e.g. ``hello``).

    Raises:
        LabkitError: it is not a tar, or holds no such member.

    Example:
        >>> from labkit.oci.tarlayer import Entry, layer_tar
        >>> [f.name for f in tar_fields(layer_tar([Entry.file("hi", b"x")]))][-3:]
        ['content', 'padding', 'end of archive']
    """
    data = layer if isinstance(layer, (bytes, bytearray)) else _read(layer)
    data = bytes(data)
    members = list(TarReader(io.BytesIO(data), "the tar", len(data)))
    chosen = next((m for m in members if member is None or m.name.rstrip("/") == member.rstrip("/")), None)
    if chosen is None:
        raise LabkitError(f"the tar holds no member {member!r}" if member else "the tar holds no member",
                          hint="names: " + ", ".join(m.name for m in members[:10]) if members else None)
    at = chosen.data_offset - BLOCK
    fields = [Field(0, data[:at], "other members", "before it", "the members before this one")] if at else []
    fields += header_fields(data[at:at + BLOCK], at)
    start = chosen.data_offset
    end = start + chosen.data_size
    if end > start:
        fields.append(Field(start, data[start:end], "content", "content",
                            f"the file's {chosen.data_size:,} bytes, exactly as they are"))
    pad_end = end + (-chosen.data_size % BLOCK)
    if pad_end > end:
        fields.append(Field(end, data[end:pad_end], "padding", "padding",
                            f"{pad_end - end:,} zero bytes: content fills whole 512-byte blocks"))
    after = [m for m in members if m.offset >= pad_end]
    finish = len(data)
    if after:
        last = after[-1]
        finish = last.data_offset + last.data_size + (-last.data_size % BLOCK)
        fields.append(Field(pad_end, data[pad_end:finish], "other members", "after it",
                            f"{len(after)} more member{'s' if len(after) > 1 else ''}"))
    else:
        finish = pad_end
    if finish < len(data):
        tail = len(data) - finish
        fields.append(Field(finish, data[finish:], "end of archive", "end of archive",
                            "two 512-byte blocks of zeros: the end of the archive" if tail == 2 * BLOCK
                            else f"{tail:,} zero bytes: two zero blocks end the archive, the rest pads it"))
    return check_cover(fields, data)


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise LabkitError(f"cannot read {path}: {err.strerror}") from None


def check_cover(fields: list[Field], data: bytes) -> list[Field]:
    """``fields``, once they are known to name every byte of ``data`` in order.

    Raises:
        LabkitError: they do not (a bug in labkit: the file's layout was misread).
    """
    why = problem(fields, data)
    if why:
        raise LabkitError(f"labkit misread the file's layout: {why}",
                          hint="please report it with the file attached")
    return fields
