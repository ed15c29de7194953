"""Compressed layers: why a compressed digest depends on the compressor, and a diff_id does not.

A registry stores layers compressed; the manifest names each by the digest of the
*compressed* bytes, the config by the digest of the *uncompressed* tar (the diff_id).
Two gzip streams of the same tar differ as soon as the compressor, its level, or the
few header bytes (modification time, operating system) differ — the two well-known
empty layers below are the same empty tar, compressed by Go, with different header bytes.

Example:
    >>> import gzip
    >>> from labkit.oci.digest import sha256_digest
    >>> gzip.decompress(EMPTY_GZIP_SCHEMA1) == gzip.decompress(EMPTY_GZIP_BUILDKIT) == bytes(1024)
    True
    >>> sha256_digest(EMPTY_GZIP_SCHEMA1)[:19], sha256_digest(EMPTY_GZIP_BUILDKIT)[:19]
    ('sha256:a3ed95caeb02', 'sha256:4f4fb700ef54')
"""
from __future__ import annotations

import datetime
import struct


_EMPTY_DEFLATE_AND_TRAILER = bytes([98, 24, 5, 163, 96, 20, 140, 88, 0, 8, 0, 0, 255, 255,
                                    46, 175, 181, 239, 0, 4, 0, 0])
#: The gzipped empty tar of Docker's registry, schema 1 (distribution v2.8.3,
#: ``manifest/schema1/config_builder.go``, ``gzippedEmptyTar``): digest ``a3ed95caeb02…``.
EMPTY_GZIP_SCHEMA1 = bytes([31, 139, 8, 0, 0, 9, 110, 136, 0, 255]) + _EMPTY_DEFLATE_AND_TRAILER
#: BuildKit's empty layer (``exptypes.EmptyGZLayer``, ``4f4fb700ef54…``): Go's gzip of the
#: same tar, with no modification time in the header.
EMPTY_GZIP_BUILDKIT = bytes([31, 139, 8, 0, 0, 0, 0, 0, 0, 255]) + _EMPTY_DEFLATE_AND_TRAILER
#: gzip's operating-system byte (RFC 1952, section 2.3.1).
GZIP_OS = {0: "FAT (MS-DOS)", 3: "Unix", 7: "Macintosh", 11: "NTFS", 255: "unknown"}


def gzip_bytes(data: bytes, level: int = 9) -> bytes:
    """``data`` gzipped by Python's standard library, with no time in the header.

    Example:
        >>> from labkit.oci.digest import sha256_digest
        >>> sha256_digest(gzip_bytes(bytes(1024)))[:19]
        'sha256:deb230b21e0d'
    """
    import gzip     # only to write: `labkit inspect` starts without it

    return gzip.compress(data, compresslevel=level, mtime=0)


def gzip_header(data: bytes) -> dict:
    """The fixed 10-byte gzip header (RFC 1952): what a compressor writes before the
    compressed stream; different bytes here give a different digest.

    Example:
        >>> gzip_header(EMPTY_GZIP_SCHEMA1)["mtime"]
        '2042-07-14 01:04:00 UTC'
    """
    if len(data) < 10 or data[:2] != b"\x1f\x8b":
        raise ValueError("not gzip data")
    _, method, flags, mtime, xfl, os_byte = struct.unpack("<HBBIBB", data[:10])
    when = ("0 (none)" if mtime == 0 else
            datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    return {"method": method, "flags": flags, "mtime": when, "extra flags": xfl,
            "os": f"{os_byte} ({GZIP_OS.get(os_byte, 'other')})"}
