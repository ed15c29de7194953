"""One tar header block and its PAX records, parsed as Go's ``archive/tar`` parses them.

Numbers are octal or base-256 (``parseNumeric``), strings end at the first NUL
(``parseString``), the name gets the USTAR (or star) prefix, and a header whose
checksum is wrong is no header (``ErrHeader``). ``labkit.oci.tarmember`` reads the
sequence of headers built from these.

Example:
    >>> from labkit.oci.tarlayer import Entry, header
    >>> member, fmt = parse_block(header(Entry.file("a/b", b"hi", mtime=7)))
    >>> member.name, member.size, member.mtime, fmt
    ('a/b', 2, 7, 'ustar')
"""
from __future__ import annotations

import dataclasses
import re

BLOCK = 512
HEADER_ONLY = frozenset("123456")   # Go's isHeaderOnlyType: these carry no data
INT = re.compile(rb"[+-]?[0-9]+")
_OCTAL = re.compile(rb"[0-7]+")
_INT64 = 1 << 63
SPARSE = "GNU.sparse."
_HIGH_BYTES = bytes(range(128, 256))


def short(name: str, limit: int = 120) -> str:
    """``name`` cut to ``limit`` characters for an error line (a name can be 1 MiB long).

    Example:
        >>> short("a" * 200, 10)
        'aaaaa…aaaa'
    """
    return name if len(name) <= limit else name[:limit // 2] + "…" + name[-(limit // 2 - 1):]


def text(raw: bytes) -> str:
    """Bytes of a name as ``str``: UTF-8, other bytes kept (they round-trip to the file system)."""
    return raw.decode("utf-8", "surrogateescape")


@dataclasses.dataclass
class Member:
    """One entry as Go's ``Reader.Next`` returns it (extension headers already applied).

    ``size`` is the logical size (a sparse file's real size); ``data_size`` the bytes
    stored at ``data_offset``, after the header (and after a sparse map); ``offset`` is
    where the member's first header starts; ``sparse`` the data fragments
    ``(offset, length)`` of a sparse file, ``None`` for any other member.
    """

    name: str
    typeflag: str
    size: int
    mode: int = 0
    uid: int = 0
    gid: int = 0
    mtime: float = 0
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    pax: dict = dataclasses.field(default_factory=dict)
    offset: int = 0
    data_offset: int = 0
    data_size: int = 0
    sparse: tuple | None = None


class HeaderError(Exception):
    """A header Go's reader rejects (``ErrHeader``); the reader turns it into ``BadImage``."""


def cut(raw: bytes) -> bytes:
    """Go's ``parseString``: the bytes before the first NUL."""
    end = raw.find(b"\0")
    return raw if end < 0 else raw[:end]


def numeric(raw: bytes) -> int:
    """Go's ``parseNumeric``: base-256 when the top bit is set, else octal."""
    if raw and raw[0] & 0x80:
        invert = 0xFF if raw[0] & 0x40 else 0
        value = 0
        for i, byte in enumerate(raw):
            byte ^= invert
            if i == 0:
                byte &= 0x7F
            if value >> 56:
                raise HeaderError("a number overflows")
            value = value << 8 | byte
        if value >> 63:
            raise HeaderError("a number overflows")
        return ~value if invert else value
    digits = cut(raw.strip(b" \0"))
    if not digits:
        return 0
    if not _OCTAL.fullmatch(digits) or int(digits, 8) >= 1 << 64:
        raise HeaderError(f"bad octal number {digits[:20]!r}")
    return int(digits, 8) if int(digits, 8) < _INT64 else int(digits, 8) - (1 << 64)


def decimal(value: str, what: str) -> int:
    """Go's ``strconv.ParseInt(value, 10, 64)``."""
    raw = value.encode("utf-8", "surrogateescape")
    if not INT.fullmatch(raw) or not -_INT64 <= int(raw) < _INT64:
        raise HeaderError(f"bad {what} {value[:20]!r}")
    return int(raw)


def _pax_time(value: str) -> float:
    """Go's ``parsePAXTime``: seconds, optionally ``.`` and up to nanoseconds."""
    seconds, _, fraction = value.partition(".")
    whole = decimal(seconds, "PAX time")
    if fraction and not (fraction.isascii() and fraction.isdigit()):
        raise HeaderError(f"bad PAX time {value[:30]!r}")
    part = int((fraction + "000000000")[:9] or 0) / 1e9
    return whole - part if seconds.startswith("-") else whole + part


def parse_pax(raw: bytes) -> dict[str, str]:
    """The records of a PAX extended header, checked as Go's ``parsePAX`` checks them.

    GNU sparse 0.0 pairs (``GNU.sparse.offset``/``numbytes``) are gathered into
    ``GNU.sparse.map``, as Go does.

    Example:
        >>> parse_pax(b"12 path=bar\\n")
        {'path': 'bar'}
    """
    records: dict[str, str] = {}
    pairs: list[str] = []
    rest = raw
    while rest:
        size_text, space, _ = rest.partition(b" ")
        if not space or not INT.fullmatch(size_text) or not 5 <= int(size_text) <= len(rest):
            raise HeaderError("a PAX record has a bad length")
        record, rest = rest[:int(size_text)], rest[int(size_text):]
        body = record[len(size_text) + 1:]
        if not body.endswith(b"\n") or b"=" not in body:
            raise HeaderError("a PAX record is malformed")
        key, _, value = body[:-1].partition(b"=")
        # validPAXRecord: no empty key; NUL in the value of path, linkpath, uname, gname,
        # or in any key, is an error ("We emulate the behavior of BSD").
        if not key or (b"\0" in value if key in (b"path", b"linkpath", b"uname", b"gname")
                       else b"\0" in key):
            raise HeaderError(f"a PAX record {text(key[:40])!r} holds a NUL byte or no key")
        name, value_text = text(key), text(value)
        if name in (SPARSE + "offset", SPARSE + "numbytes"):
            wanted = SPARSE + ("offset" if len(pairs) % 2 == 0 else "numbytes")
            if name != wanted or "," in value_text:
                raise HeaderError("GNU sparse 0.0 records out of order")
            pairs.append(value_text)
        else:
            records[name] = value_text
    if pairs:
        records[SPARSE + "map"] = ",".join(pairs)
    return records


def _checksum_ok(block: bytes) -> bool:
    try:
        value = numeric(block[148:156])
    except HeaderError:
        return False
    body = block[:148] + b" " * 8 + block[156:]
    unsigned = sum(body)
    if value == unsigned:
        return True
    high = len(body) - len(body.translate(None, _HIGH_BYTES))   # bytes read as negative
    return value == unsigned - 256 * high


def parse_block(block: bytes) -> tuple[Member, str]:
    """One 512-byte header as Go's ``readHeader`` reads it; ``(member, format)``.

    ``format`` is ``v7``, ``ustar`` (also PAX), ``gnu`` or ``star``.
    """
    if not _checksum_ok(block):
        raise HeaderError("bad checksum: not a tar header")
    magic, version, trailer = block[257:263], block[263:265], block[508:512]
    fmt = ("star" if magic == b"ustar\0" and trailer == b"tar\0" else "ustar" if magic == b"ustar\0"
           else "gnu" if (magic, version) == (b"ustar ", b" \0") else "v7")
    member = Member(name=text(cut(block[0:100])), typeflag=chr(block[156]),
                    size=numeric(block[124:136]), mode=numeric(block[100:108]),
                    uid=numeric(block[108:116]), gid=numeric(block[116:124]),
                    mtime=numeric(block[136:148]), linkname=text(cut(block[157:257])))
    if fmt == "v7":
        return member, fmt
    member.devmajor, member.devminor = numeric(block[329:337]), numeric(block[337:345])
    prefix = b""
    if fmt == "ustar":
        prefix = cut(block[345:500])
    elif fmt == "star":
        prefix = cut(block[345:476])
    else:
        try:   # Go before 1.8 wrote a prefix where GNU keeps atime/ctime (golang.org/issue/12594)
            for field in (block[345:357], block[357:369]):
                if field[0]:
                    numeric(field)
        except HeaderError:
            candidate = cut(block[345:500])
            prefix = candidate if all(b < 0x80 for b in candidate) else b""
    if prefix:
        member.name = text(prefix) + "/" + member.name
    return member, fmt


def merge_pax(member: Member, records: dict[str, str]) -> None:
    """Go's ``mergePAX``: records with a value override the header fields."""
    for key, value in records.items():
        if not value:
            continue   # "Keep the original USTAR value"
        if key == "path":
            member.name = value
        elif key == "linkpath":
            member.linkname = value
        elif key in ("uid", "gid", "size"):
            setattr(member, key, decimal(value, f"PAX {key}"))
        elif key == "mtime":
            member.mtime = _pax_time(value)
        elif key in ("atime", "ctime"):
            _pax_time(value)   # checked as Go checks it, not kept
    member.pax = records
