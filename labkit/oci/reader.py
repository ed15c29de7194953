"""Read any image tarball or OCI layout folder, verifying every digest, writing nothing.

``inspect`` plans the image (``labkit.oci.plan``: format, which image, metadata),
then streams each layer once (``labkit.oci.layerscan``) and merges the layers with
the rule ``extract`` uses too (``labkit.oci.merge``).

Example:
    >>> import tempfile, pathlib
    >>> from labkit.oci.image import Image
    >>> path = Image().write(pathlib.Path(tempfile.mkdtemp()) / "empty.tar")
    >>> info = inspect(path)
    >>> info.format, info.layers
    ('docker-archive', [])
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from labkit.errors import DigestMismatch
from labkit.oci.layerscan import LayerScan, TarEntry, Visitor, scan_layer
from labkit.oci.merge import Tree, unpacked
from labkit.oci.plan import LayerRef, Plan, plan
from labkit.oci.source import Source, open_image


@dataclasses.dataclass
class LayerInfo:
    """One verified layer: ``size`` = bytes of the uncompressed tar."""

    diff_id: str
    digest: str
    size: int
    compression: str | None
    entries: list[TarEntry]

    @property
    def files(self) -> dict[str, int]:
        """Regular files of this layer: path -> size."""
        return {e.path: e.size for e in self.entries if e.type == "file" and not e.whiteout}


@dataclasses.dataclass
class ImageInfo(Plan):
    """Everything ``inspect`` found: the :class:`~labkit.oci.plan.Plan` with its layers
    read; ``files`` is the merged tree after whiteouts."""

    layers: list[LayerInfo]

    @functools.cached_property
    def files(self) -> dict[str, int]:
        """The merged filesystem's regular files (hard links too): path -> size."""
        return merged_files(self.layers)

    def to_dict(self) -> dict:
        """JSON-ready: the keys ``labkit inspect --json`` prints."""
        return {
            "format": self.format, "config_digest": self.config_digest,
            "image_id": self.image_id, "repo_tags": self.repo_tags, "config": self.config,
            "history": self.history, "files": self.files, "platform": self.platform,
            "absent_platforms": self.absent_platforms,
            "layers": [{"diff_id": l.diff_id, "digest": l.digest, "size": l.size,
                        "compression": l.compression, "files": l.files} for l in self.layers],
        }

    def text(self) -> str:
        """A short human summary."""
        platform = self.platform or "-"
        if self.absent_platforms:
            platform += f"  (not in this file: {', '.join(self.absent_platforms)})"
        lines = [f"format        {self.format}",
                 f"image id      {self.image_id}",
                 f"config        {self.config_digest}",
                 f"tags          {', '.join(self.repo_tags) or '-'}",
                 f"platform      {platform}",
                 f"layers        {len(self.layers)}"]
        for number, layer in enumerate(self.layers, 1):
            lines.append(f"  {number:>3}  {layer.diff_id[:19]}  {layer.size:>12,} B  "
                         f"{len(layer.entries)} entries")
        files = self.files
        lines.append(f"files         {len(files)}")
        lines += [f"  {size:>12,} B  /{path}" for path, size in sorted(files.items())[:50]]
        if len(files) > 50:
            lines.append(f"  ... and {len(files) - 50} more")
        return "\n".join(lines)


def merged_files(layers: list[LayerInfo]) -> dict[str, int]:
    """Unpack each layer alone and lay it over the ones below (``labkit.oci.merge``: Docker's
    rule); raises ``BadImage`` for a layer Docker could not unpack either."""
    tree = Tree()
    for number, layer in enumerate(layers, 1):
        tree.overlay(unpacked(layer.entries, f"layer {number}"))
    return tree.files()


def read_layer(source: Source, ref: LayerRef, number: int, visit: Visitor | None = None) -> LayerInfo:
    """Stream one layer, verify its digests, and list it."""
    label = f"layer {number} ({ref.name[:80]})"
    with source.open(ref.name) as raw:
        scan: LayerScan = scan_layer(raw, visit, label)
    if ref.digest and scan.blob_digest != ref.digest:
        raise DigestMismatch(f"{label}: expected digest {ref.digest}, got {scan.blob_digest}",
                             hint="the image was modified after it was written")
    if ref.diff_id and scan.diff_id != ref.diff_id:
        raise DigestMismatch(f"{label}: expected diff_id {ref.diff_id}, got {scan.diff_id}",
                             hint="the image was modified after it was written")
    if ref.size is not None and ref.size != scan.blob_size:
        raise DigestMismatch(f"{label}: descriptor says {ref.size} bytes, blob has {scan.blob_size}")
    return LayerInfo(scan.diff_id, scan.blob_digest, scan.size, scan.compression, scan.entries)


def inspect(path: str | Path, ref: str | None = None) -> ImageInfo:
    """Read an image tarball or OCI folder; never writes; verifies every digest.

    Args:
        path: the image file or folder; ``PATH:REF`` names one image of several.
        ref: which image, when the file holds several (a tag, a name, or a digest or
            its first hex digits). Between the platforms of a multi-platform image
            the one present is read, this machine's architecture first.

    Raises:
        BadImage: unreadable, inconsistent or hostile input; several images and no ``ref``;
            a layer Docker could not unpack either (as ``extract`` refuses it).
        DigestMismatch: content does not hash to the digest that names it.
    """
    with open_image(path, ref) as (source, ref):
        found = plan(source, ref)
        layers = [read_layer(source, layer, n) for n, layer in enumerate(found.layers, 1)]
    info = ImageInfo(**{**vars(found), "layers": layers})
    _ = info.files      # merged now: a layer Docker cannot unpack is refused here, as by extract
    return info


__all__ = ["ImageInfo", "LayerInfo", "TarEntry", "inspect"]
