"""What a registry stores for one tag: the manifest (or index) tree, read over the API.

Example:
    >>> tree = describe(reg, "labkit/hello:buildkit")                  # doctest: +SKIP
    >>> tree.media_type, tree.platforms                                 # doctest: +SKIP
    ('application/vnd.oci.image.index.v1+json', ['linux/amd64', 'unknown/unknown'])
"""
from __future__ import annotations

import dataclasses
import json

from labkit.registry.client import INDEX_TYPES, Registry
from labkit.registry.transfer import split_reference

ATTESTATION = "attestation-manifest"


@dataclasses.dataclass
class Descriptor:
    """A blob as a manifest names it: media type, digest, size (and annotations)."""

    media_type: str
    digest: str
    size: int
    annotations: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, d: dict) -> "Descriptor":
        return cls(d.get("mediaType", ""), d.get("digest", ""), int(d.get("size", 0)),
                   dict(d.get("annotations") or {}))


@dataclasses.dataclass
class Manifest:
    """One image manifest: its own descriptor, its config and its layers."""

    media_type: str
    digest: str
    size: int
    platform: str | None
    config: Descriptor
    layers: list[Descriptor]
    attestation_for: str | None = None   # set on an attestation manifest: the image it describes

    @property
    def pull_size(self) -> int:
        """Sum of the layer blobs' sizes: the compressed bytes ``docker pull`` downloads."""
        return sum(l.size for l in self.layers)


@dataclasses.dataclass
class Stored:
    """What a tag names: an image manifest, or an index of several (platforms, attestations).

    Attributes:
        media_type, digest, size: the tag's own document.
        manifests: the image manifest(s) (one when the tag names a manifest).
    """

    reference: str
    media_type: str
    digest: str
    size: int
    manifests: list[Manifest]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def image(self) -> Manifest:
        """The linux/amd64 image (or the first that is not an attestation)."""
        images = [m for m in self.manifests if m.attestation_for is None]
        return next((m for m in images if m.platform == "linux/amd64"), images[0] if images else self.manifests[0])

    @property
    def platforms(self) -> list[str]:
        return [m.platform or "-" for m in self.manifests]

    @property
    def attestations(self) -> list[Manifest]:
        return [m for m in self.manifests if m.attestation_for is not None]

    @property
    def pull_size(self) -> int:
        """Compressed layer bytes of :attr:`image`."""
        return self.image.pull_size

    def to_dict(self) -> dict:
        """JSON-ready (what a recording stores)."""
        return dataclasses.asdict(self)

    def rows(self) -> list[dict]:
        """One row per document and blob: what a pull of this tag fetches."""
        rows = [{"what": "index" if self.is_index else "manifest", "media type": self.media_type,
                 "digest": self.digest, "size": self.size}]
        for m in self.manifests:
            label = "attestation" if m.attestation_for else "image"
            if self.is_index:
                rows.append({"what": f"  {label} manifest ({m.platform})", "media type": m.media_type,
                             "digest": m.digest, "size": m.size})
            rows.append({"what": "    config", "media type": m.config.media_type,
                         "digest": m.config.digest, "size": m.config.size})
            rows += [{"what": f"    layer {n}", "media type": l.media_type, "digest": l.digest,
                      "size": l.size} for n, l in enumerate(m.layers, 1)]
        return rows


def _platform(d: dict) -> str | None:
    p = d.get("platform") or {}
    return f"{p.get('os')}/{p.get('architecture')}" + (f"/{p['variant']}" if p.get("variant") else "") \
        if p else None


def _manifest(registry: Registry, repository: str, reference: str, platform: str | None,
              annotations: dict) -> Manifest:
    data, media_type, digest = registry.manifest(repository, reference)
    document = json.loads(data)
    attestation = annotations.get("vnd.docker.reference.digest") \
        if annotations.get("vnd.docker.reference.type") == ATTESTATION else None
    return Manifest(media_type, digest, len(data), platform, Descriptor.of(document["config"]),
                    [Descriptor.of(l) for l in document.get("layers") or []], attestation)


def describe(registry: Registry, reference: str) -> Stored:
    """Read the tree ``reference`` (``repo:tag`` or ``repo@digest``) names, blobs not fetched.

    Raises:
        RegistryError: the registry does not have it.
    """
    repository, ref = split_reference(reference)
    data, media_type, digest = registry.manifest(repository, ref)
    document = json.loads(data)
    if media_type in INDEX_TYPES or "manifests" in document:
        manifests = [_manifest(registry, repository, d["digest"], _platform(d), d.get("annotations") or {})
                     for d in document.get("manifests") or []]
    else:
        manifests = [Manifest(media_type, digest, len(data), None, Descriptor.of(document["config"]),
                              [Descriptor.of(l) for l in document.get("layers") or []])]
    return Stored(f"{registry.host}/{repository}:{ref}", media_type, digest, len(data), manifests)
