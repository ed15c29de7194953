"""Read a tar stream member by member as Go's ``archive/tar`` does (what Docker unpacks with).

Docker applies a layer with Go's ``tar.Reader``, so "what this layer holds" means what
``Reader.Next`` returns. Python's ``tarfile`` agrees on ordinary archives but not on
the cases below; patching them into its private ``_proc_*`` methods would be harder to
trust than reading the blocks here, following Go 1.19 (``src/archive/tar/reader.go``)
step by step:

* Repeated extended headers: Go keeps the **last** (``paxHdrs, err = parsePAX(tr)``
  replaces the map; for GNU ``L``/``K`` the last name wins), where ``tarfile`` keeps
  the first. ``pax-multi-hdrs.tar`` names ``bar``, ``gnu-multi-hdrs.tar`` ``GNU2/...``.
* A global header (``g``) is an entry of its own whose records apply to nothing
  else (``return &Header{Name: hdr.Name, Typeflag: hdr.Typeflag, ...}``); Docker
  then skips it ("PAX Global Extended Headers found and ignored"). ``tarfile``
  applies it to every later member.
* Sparse files (old GNU ``S``, PAX 0.0, 0.1 and 1.0) read as their logical file:
  "the regions marked as a hole are read back as NUL-bytes", ``size`` is
  ``GNU.sparse.size``/``realsize``, and the 1.0 map is read from the data, never
  handed out as content.
* A NUL byte in a PAX ``path``/``linkpath``/``uname``/``gname`` value, or in any key,
  is an error: "We emulate the behavior of BSD" (``validPAXRecord``).
* A GNU header written by Go before 1.8 keeps its USTAR-style prefix in the atime
  field; Go reads it back as the name's prefix ("skeptically parse the atime").

Example:
    >>> import io
    >>> from labkit.oci.tarlayer import Entry, layer_tar
    >>> reader = TarReader(io.BytesIO(layer_tar([Entry.file("a", b"hi")])))
    >>> [(m.name, m.typeflag, m.size, b"".join(c for _, c in reader.chunks())) for m in reader]
    [('a', '0', 2, b'hi')]
"""
from __future__ import annotations

import io
from typing import BinaryIO, Iterator

from labkit.errors import BadImage
from labkit.oci.tarheader import (BLOCK, HEADER_ONLY, INT, SPARSE, HeaderError, Member, cut, decimal,
                                  merge_pax, numeric, parse_block, parse_pax, text)

ZERO_BLOCK = bytes(BLOCK)
READ_SIZE = 1 << 20
MAX_SPECIAL = 1 << 20        # Go's maxSpecialFileSize: a PAX header or GNU long name


def _valid_sparse(fragments: list[tuple[int, int]], size: int) -> bool:
    """Go's ``validateSparseEntries``: in order, no overlap, inside ``size``."""
    if size < 0:
        return False
    end = 0
    for offset, length in fragments:
        if offset < 0 or length < 0 or offset + length > size or end > offset:
            return False
        end = offset + length
    return True


class TarReader:
    """Iterate over the members of a tar stream; ``chunks()`` reads the current one.

    ``f`` is read sequentially (any object with ``read``); when ``size`` is given, ``f``
    is also seekable and data that is not read is skipped by seeking.
    """

    def __init__(self, f: BinaryIO, label: str = "tar", size: int | None = None):
        self._f, self.label, self._size = f, label, size
        self._pos = 0          # bytes consumed from the start of the stream
        self._left = 0         # data bytes of the current member not read yet
        self._pad = 0          # padding after them
        self._header_at = 0
        self.current: Member | None = None

    def error(self, why: str, offset: int | None = None) -> BadImage:
        """``BadImage`` naming this tar (and the byte where it went wrong)."""
        where = f" at byte {offset:,}" if offset is not None else ""
        return BadImage(f"{self.label} is not a readable tar ({why}{where})",
                        hint="it is corrupt, or a tar that Docker's reader refuses too")

    def _truncated(self) -> BadImage:
        return BadImage(f"a member of {self.label} declares more bytes than it holds",
                        hint="it is truncated or forged")

    def _read(self, n: int) -> bytes:
        parts, got = [], 0
        while got < n:
            chunk = self._f.read(min(n - got, READ_SIZE))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        self._pos += got
        return b"".join(parts)

    def _skip(self, n: int) -> None:
        if n <= 0:
            return
        if self._size is not None and self._pos + n <= self._size:
            self._f.seek(n, io.SEEK_CUR)
            self._pos += n
            return
        while n > 0:
            got = len(self._read(min(n, READ_SIZE))) if self._size is None else 0
            if not got:
                raise self._truncated()
            n -= got

    def _data(self, n: int) -> bytes:
        """``n`` bytes of the current member's data (all of them, or an error)."""
        if n > self._left:
            raise self.error("a sparse map runs past its member's data", self._pos)
        data = self._read(n)
        self._left -= len(data)
        if len(data) < n:
            raise self._truncated()
        return data

    def __iter__(self) -> Iterator[Member]:
        while True:
            member = self.next()
            if member is None:
                return
            yield member

    def next(self) -> Member | None:
        """The next member, or ``None`` at the end of the archive."""
        self._skip(self._left + self._pad)
        self._left = self._pad = 0
        self.current = None
        try:
            member = self._next()
        except HeaderError as err:
            raise self.error(str(err), self._header_at) from None
        self.current = member
        return member

    def _header(self) -> bytes | None:
        self._header_at = self._pos
        block = self._read(BLOCK)
        if len(block) == 0:
            return None     # io.EOF with nothing read: the end (an archive may omit the zeros)
        if len(block) < BLOCK:
            raise HeaderError("the archive ends inside a header")
        if block == ZERO_BLOCK:
            second = self._read(BLOCK)
            if not second or second == ZERO_BLOCK:
                return None
            raise HeaderError("a zero block, then more" if len(second) == BLOCK else "truncated end")
        return block

    def _special(self, size: int) -> bytes:
        """Go's ``readSpecialFile``: the data of a PAX or GNU long-name header, 1 MiB at most."""
        if size > MAX_SPECIAL:
            raise HeaderError(f"an extension header of {size:,} bytes: header field too long")
        data = self._read(size)
        if len(data) < size:
            raise HeaderError("the archive ends inside an extension header")
        self._skip(-size % BLOCK)
        return data

    def _next(self) -> Member | None:
        records: dict[str, str] | None = None
        long_name = long_link = b""
        while True:
            block = self._header()
            if block is None:
                return None
            offset = self._header_at
            member, fmt = parse_block(block)
            flag = member.typeflag
            if member.size < 0 and flag not in HEADER_ONLY:
                raise HeaderError("negative size")
            if flag in ("x", "g"):
                found = parse_pax(self._special(member.size))
                if flag == "g":   # Go: mergePAX(hdr, paxHdrs), then an entry of its own
                    merge_pax(member, found)
                    return Member(member.name, "g", 0, pax=found, offset=offset)
                records = found          # a later header replaces, never merges
                continue
            if flag in ("L", "K"):
                value = cut(self._special(member.size))
                long_name, long_link = (value, long_link) if flag == "L" else (long_name, value)
                continue
            merge_pax(member, records or {})
            if long_name:
                member.name = text(long_name)
            if long_link:
                member.linkname = text(long_link)
            if flag == "\0":
                member.typeflag = flag = "5" if member.name.endswith("/") else "0"
            member.offset = offset
            return self._finish(member, block, fmt)

    def _finish(self, member: Member, block: bytes, fmt: str) -> Member:
        """Set up the data of a real entry (Go's ``handleRegularFile``, ``handleSparseFile``)."""
        if member.size < 0 and member.typeflag not in HEADER_ONLY:
            raise HeaderError("negative size")
        physical = 0 if member.typeflag in HEADER_ONLY else member.size
        self._left, self._pad = physical, -physical % BLOCK
        if member.typeflag == "S":
            fragments = self._old_gnu_sparse(member, block, fmt)
        else:
            fragments = self._pax_sparse(member)
        if fragments is not None:
            if member.typeflag in HEADER_ONLY or not _valid_sparse(fragments, member.size):
                raise HeaderError("an invalid sparse map")
            if sum(length for _, length in fragments) != self._left:
                raise HeaderError("a sparse map that does not match its data")
            member.sparse = tuple((o, n) for o, n in fragments if n)
        member.data_size, member.data_offset = self._left, self._pos
        return member

    def _old_gnu_sparse(self, member: Member, block: bytes, fmt: str) -> list[tuple[int, int]]:
        """Go's ``readOldGNUSparseMap``: 4 entries in the header, 21 per extension block."""
        if fmt != "gnu":
            raise HeaderError("a sparse member that is not GNU format")
        member.size = numeric(block[483:495])
        fragments, table, count, extended = [], block[386:483], 4, block[482]
        while True:
            for i in range(count):
                entry = table[i * 24:(i + 1) * 24]
                if entry[0] == 0:
                    break
                fragments.append((numeric(entry[:12]), numeric(entry[12:24])))
            if not extended:
                return fragments
            table = self._read(BLOCK)   # extension blocks come before the data
            if len(table) < BLOCK:
                raise HeaderError("the archive ends inside a sparse map")
            count, extended = 21, table[504]

    def _pax_sparse(self, member: Member) -> list[tuple[int, int]] | None:
        """Go's ``readGNUSparsePAXHeaders``: the GNU sparse PAX formats 0.0, 0.1, 1.0."""
        pax = member.pax
        major, minor = pax.get(SPARSE + "major", ""), pax.get(SPARSE + "minor", "")
        if (major, minor) == ("1", "0"):
            version_1 = True
        elif major == "0" and minor in ("0", "1"):
            version_1 = False
        elif major or minor or not pax.get(SPARSE + "map"):
            return None   # not sparse, or a GNU sparse version Go does not know
        else:
            version_1 = False
        if pax.get(SPARSE + "name"):
            member.name = pax[SPARSE + "name"]
        size = pax.get(SPARSE + "size") or pax.get(SPARSE + "realsize")
        if size:
            member.size = decimal(size, "GNU sparse size")
        if version_1:
            return self._map_1x0()
        count = decimal(pax.get(SPARSE + "numblocks", ""), "GNU sparse count")
        numbers = [n for n in pax.get(SPARSE + "map", "").split(",")] if pax.get(SPARSE + "map") else []
        if count < 0 or len(numbers) != 2 * count:
            raise HeaderError("a GNU sparse map of the wrong length")
        values = [decimal(n, "GNU sparse map") for n in numbers]
        return list(zip(values[0::2], values[1::2]))

    def _map_1x0(self) -> list[tuple[int, int]]:
        """Go's ``readGNUSparseMap1x0``: newline-separated decimals at the start of the data."""
        buffer = b""

        def tokens(wanted: int) -> list[bytes]:
            nonlocal buffer
            while buffer.count(b"\n") < wanted:
                buffer += self._data(BLOCK)
            found = buffer.split(b"\n", wanted)
            buffer = found.pop()
            return found

        count = tokens(1)[0]
        if not INT.fullmatch(count) or int(count) < 0:
            raise HeaderError("a bad GNU sparse 1.0 count")
        numbers = [decimal(text(t), "GNU sparse 1.0 map") for t in tokens(2 * int(count))]
        return list(zip(numbers[0::2], numbers[1::2]))

    def chunks(self, size: int = READ_SIZE) -> Iterator[tuple[int, bytes]]:
        """The current member's content as ``(offset, bytes)``; a sparse file's holes are
        left out (they read as NUL bytes: write the pieces at their offsets)."""
        member = self.current
        if member is None:
            return
        fragments = member.sparse if member.sparse is not None else ((0, member.data_size),)
        for offset, length in fragments:
            while length > 0:
                piece = self._data(min(length, size))
                yield offset, piece
                offset += len(piece)
                length -= len(piece)
