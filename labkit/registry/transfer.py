"""What a push or pull moved (``Blob``, ``Transfer``), references, and layer compression.

``labkit.registry.push`` and ``labkit.registry.pull`` do the moving. Push takes a
``labkit.oci.Image`` or anything ``labkit.oci.inspect`` reads (docker-archive,
oci-archive, OCI layout folder). Uncompressed layers are gzip-compressed on the way (with
ISA-L through the ``isal`` package: several times faster than the standard library's
zlib, same format); a layout whose layers are already compressed is copied byte for byte,
index and attestations included. Each blob is first asked for (``HEAD``), then mounted
from another repository of the same registry when labkit knows one that has it, and
uploaded only when both fail. Pull writes an OCI layout, fetching only the blobs the
layout does not hold yet.

Example:
    >>> split_reference("labkit/hello@sha256:abc")
    ('labkit/hello', 'sha256:abc')
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import BinaryIO, Callable

from labkit.registry.client import DOCKER_MANIFEST, OCI_MANIFEST

try:  # ISA-L: a well-kept, much faster gzip (https://github.com/pycompression/python-isal)
    import isal
    from isal import igzip as _gzip
    LEVEL = 2
    COMPRESSOR = f"ISA-L (isal {isal.__version__}), level {LEVEL}"
except ImportError:  # pragma: no cover - isal is a dependency; plain zlib still works
    import gzip as _gzip
    import zlib
    LEVEL = 6
    COMPRESSOR = f"zlib {zlib.ZLIB_VERSION}, level {LEVEL}"

READ_SIZE = 1 << 20
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_TYPES = {"oci": (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP),
               "docker": (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER_GZIP)}


@dataclasses.dataclass
class Blob:
    """One blob of a push or pull: what it is and what happened to it.

    Attributes:
        kind: ``config``, ``layer``, ``manifest`` or ``index``.
        action: push: ``uploaded``, ``exists`` (HEAD found it), ``mounted``, ``put`` (a
            manifest); pull: ``downloaded`` or ``present`` (the layout had it).
        diff_id: a layer's uncompressed digest (None for the others).
        requests: requests that carried its bytes (chunked uploads: one per chunk).
    """

    kind: str
    digest: str
    size: int
    media_type: str
    action: str
    diff_id: str | None = None
    requests: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Transfer:
    """What one push or pull did.

    Attributes:
        reference: ``127.0.0.1:PORT/repo:tag``; ``digest``/``media_type``: the manifest (or
        index) the tag names; ``blobs``: every blob in order; ``compressor``: how layers
        were compressed (pushes that compressed any).
    """

    reference: str
    digest: str
    media_type: str
    blobs: list[Blob]
    compressor: str | None = None
    layout: Path | None = None

    @property
    def moved(self) -> int:
        """Bytes that crossed the wire as blob or manifest bodies."""
        return sum(b.size for b in self.blobs if b.action in ("uploaded", "downloaded", "put"))

    @property
    def pull_size(self) -> int:
        """Compressed bytes of the layers: what a registry page calls the image's size."""
        return sum(b.size for b in self.blobs if b.kind == "layer")

    def rows(self) -> list[dict]:
        """One row per blob, for a table ("—" where a blob has no diff_id: all but layers)."""
        return [{"kind": b.kind, "digest": b.digest, "diff_id": b.diff_id or "—", "size": b.size,
                 "media type": b.media_type, "action": b.action} for b in self.blobs]

    def to_dict(self) -> dict:
        return {"reference": self.reference, "digest": self.digest, "media_type": self.media_type,
                "compressor": self.compressor, "blobs": [b.to_dict() for b in self.blobs],
                "moved": self.moved, "pull_size": self.pull_size,
                "layout": str(self.layout) if self.layout else None}


def split_reference(reference: str) -> tuple[str, str]:
    """``repo:tag`` or ``repo@sha256:…`` -> ``(repo, tag or digest)``; the tag defaults to latest.

    Example:
        >>> split_reference("labkit/hello:buildkit")
        ('labkit/hello', 'buildkit')
        >>> split_reference("labkit/hello")
        ('labkit/hello', 'latest')
    """
    if "@" in reference:
        repository, digest = reference.split("@", 1)
        return repository, digest
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:
        return reference, "latest"
    return name, tag


# --- compression ---------------------------------------------------------------------
class _Hashing:
    """A write-only file that hashes and counts what passes through it to ``out``."""

    def __init__(self, out: BinaryIO | None = None):
        self.hash, self.size, self.out = hashlib.sha256(), 0, out

    def write(self, data) -> int:
        self.hash.update(data)
        self.size += len(data)
        if self.out is not None:
            self.out.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


def compress(write_tar: Callable[[BinaryIO], object], out: BinaryIO) -> tuple[str, int, str, int]:
    """gzip what ``write_tar(file)`` writes into ``out``: ``(digest, size, diff_id, tar size)``.

    The gzip header holds no name and no time, so the same tar always gives the same
    bytes with the same compressor (``COMPRESSOR``).

    Example:
        >>> import io
        >>> digest, size, diff_id, n = compress(lambda f: f.write(bytes(1024)), io.BytesIO())
        >>> diff_id[:19], n
        ('sha256:5f70bf18a086', 1024)
    """
    packed = _Hashing(out)
    plain = _Hashing()
    with _gzip.GzipFile(filename="", mode="wb", compresslevel=LEVEL, fileobj=packed, mtime=0) as gz:
        plain.out = gz
        write_tar(plain)
    return packed.digest, packed.size, plain.digest, plain.size


def _copy(source, name: str) -> Callable[[BinaryIO], None]:
    """A ``write_tar`` that copies member ``name`` of ``source``."""
    def write(out: BinaryIO) -> None:
        with source.open(name) as reader:
            while chunk := reader.read(READ_SIZE):
                out.write(chunk)
    return write


