"""Read any image tarball or OCI layout folder, verifying every digest, writing nothing.

Formats (by what the top level holds):

* ``oci-layout`` — ``index.json`` (an OCI archive or folder, and ``docker save`` on
  25+, which also writes ``manifest.json``);
* ``docker-archive`` — ``manifest.json`` without ``index.json`` (``docker save`` 1.10–24);
* ``docker-v1`` — only ``repositories`` and ``<id>/json`` folders (before 1.10).

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
import posixpath
import re
from pathlib import Path

from labkit.errors import BadImage, DigestMismatch
from labkit.oci.digest import (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
                               sha256_digest)
from labkit.oci.layerscan import LayerScan, TarEntry, Visitor, scan_layer
from labkit.oci.source import Source, open_source, parse_json

MAX_V1_CHAIN = 5_000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
_MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)


@dataclasses.dataclass
class LayerRef:
    """Where a layer is, and what it must hash to (``None``: nothing to check against)."""

    name: str
    digest: str | None
    diff_id: str | None
    size: int | None = None


@dataclasses.dataclass
class Plan:
    """An image's metadata, read and verified, with its layers still unread."""

    format: str
    config_digest: str | None
    image_id: str | None
    repo_tags: list[str]
    config: dict
    history: list[dict]
    layers: list[LayerRef]


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
class ImageInfo:
    """Everything ``inspect`` found; ``files`` is the merged tree after whiteouts."""

    format: str
    config_digest: str | None
    image_id: str | None
    repo_tags: list[str]
    config: dict
    history: list[dict]
    layers: list[LayerInfo]

    @property
    def files(self) -> dict[str, int]:
        """The merged filesystem's regular files: path -> size."""
        return merged_files(self.layers)

    def to_dict(self) -> dict:
        """JSON-ready: the keys ``labkit inspect --json`` prints."""
        return {
            "format": self.format, "config_digest": self.config_digest,
            "image_id": self.image_id, "repo_tags": self.repo_tags, "config": self.config,
            "history": self.history, "files": self.files,
            "layers": [{"diff_id": l.diff_id, "digest": l.digest, "size": l.size,
                        "compression": l.compression, "files": l.files} for l in self.layers],
        }

    def text(self) -> str:
        """A short human summary."""
        lines = [f"format        {self.format}",
                 f"image id      {self.image_id}",
                 f"config        {self.config_digest}",
                 f"tags          {', '.join(self.repo_tags) or '-'}",
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
    """Apply each layer over the ones below (whiteouts, opaque folders, replacements)."""
    tree: dict[str, int | None] = {}  # path -> size (None for folders and links)
    folders: set[str] = set()
    for layer in layers:
        for entry in layer.entries:
            if entry.whiteout:
                for name in [n for n in tree if entry.hides(n)]:
                    del tree[name]
                    folders.discard(name)
        for entry in layer.entries:
            if entry.whiteout:
                continue
            if entry.type != "dir" and entry.path in folders:  # a file or link replaces a folder
                folders.discard(entry.path)
                for name in [n for n in tree if n.startswith(entry.path + "/")]:
                    del tree[name]
                    folders.discard(name)
            parent = entry.path if entry.type == "dir" else posixpath.dirname(entry.path)
            while parent and parent not in folders:  # folders a path implies count too
                folders.add(parent)
                parent = posixpath.dirname(parent)
            tree[entry.path] = entry.size if entry.type == "file" else (
                tree.get(entry.linkname) if entry.type == "hardlink" else None)
    return {path: size for path, size in tree.items() if size is not None}


# --- planning: read and verify the metadata ------------------------------------------
def plan(source: Source) -> Plan:
    """Detect the format and read the metadata (not the layers)."""
    if source.has("index.json"):
        return _plan_oci(source)
    if source.has("manifest.json"):
        return _plan_docker(source)
    if source.has("repositories"):
        return _plan_v1(source)
    raise BadImage(f"{source.path.name} is not an image: no index.json, manifest.json or "
                   "repositories", hint="give a docker save tarball, an OCI archive or folder")


def _dict(value, label: str) -> dict:
    if not isinstance(value, dict):
        raise BadImage(f"{label}: expected a JSON object, got {type(value).__name__}")
    return value


def _list(value, label: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadImage(f"{label}: expected a JSON list, got {type(value).__name__}")
    return value


def _get(value, *keys):
    """``value[key1][key2]...``, or None where a level is missing or not a JSON object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _blob_name(digest) -> str:
    if not isinstance(digest, str) or not digest.startswith("sha256:") or \
            not _HEX64.fullmatch(digest[7:]):
        raise BadImage(f"unsupported or malformed digest {str(digest)[:80]!r}",
                       hint="labkit reads sha256 digests only")
    return "blobs/sha256/" + digest[7:]


def _verified_blob(source: Source, descriptor: dict, what: str) -> bytes:
    descriptor = _dict(descriptor, what)
    digest = descriptor.get("digest")
    data = source.read_bytes(_blob_name(digest))
    # OCI image-spec, descriptor: "the content MUST be verified against the digest".
    actual = sha256_digest(data)
    if actual != digest:
        raise DigestMismatch(f"{what}: expected {digest}, got {actual}",
                             hint="the image was modified after it was written")
    if "size" in descriptor and descriptor["size"] != len(data):
        raise DigestMismatch(f"{what}: descriptor says {descriptor['size']} bytes, "
                             f"blob has {len(data)}")
    return data


def _config(raw: bytes, label: str) -> tuple[dict, list[str], list[dict]]:
    config = _dict(parse_json(raw, label), label)
    rootfs = _dict(config.get("rootfs") or {}, f"{label} rootfs")
    diff_ids = _list(rootfs.get("diff_ids"), f"{label} diff_ids")
    history = [h for h in _list(config.get("history"), f"{label} history") if isinstance(h, dict)]
    return config, diff_ids, history


def _pick_manifest(source: Source, index: dict, depth: int = 0) -> dict:
    """The first image manifest whose blob exists, preferring linux/amd64."""
    if depth > 4:
        raise BadImage("image indexes nested more than 4 deep")
    candidates = [_dict(m, "index entry") for m in _list(index.get("manifests"), "manifests")]
    candidates.sort(key=lambda m: _get(m, "platform", "architecture") != "amd64")
    for descriptor in candidates:
        if not source.has(_blob_name(descriptor.get("digest"))):
            continue
        data = _verified_blob(source, descriptor, "manifest")
        document = _dict(parse_json(data, "manifest"), "manifest")
        kind = descriptor.get("mediaType") or document.get("mediaType")
        if kind in _INDEX_TYPES or "manifests" in document:
            try:
                return _pick_manifest(source, document, depth + 1)
            except BadImage:
                continue
        if kind in _MANIFEST_TYPES or "config" in document:
            return document
    raise BadImage("no image manifest found in index.json",
                   hint="the layout holds no complete image for any platform")


def _plan_oci(source: Source) -> Plan:
    index, _ = source.read_json("index.json")
    manifest = _pick_manifest(source, _dict(index, "index.json"))
    config_descriptor = _dict(manifest.get("config"), "manifest config")
    raw = _verified_blob(source, config_descriptor, "config")
    config, diff_ids, history = _config(raw, "config")
    layers = [_dict(l, "layer descriptor") for l in _list(manifest.get("layers"), "layers")]
    if len(layers) != len(diff_ids):
        raise BadImage(f"manifest lists {len(layers)} layers, config {len(diff_ids)} diff_ids")
    refs = [LayerRef(_blob_name(l.get("digest")), l.get("digest"), d, l.get("size"))
            for l, d in zip(layers, diff_ids)]
    tags = _oci_tags(source, index)
    digest = sha256_digest(raw)
    return Plan("oci-layout", digest, digest, tags, config, history, refs)


def _oci_tags(source: Source, index: dict) -> list[str]:
    if source.has("manifest.json"):
        manifests, _ = source.read_json("manifest.json")
        if isinstance(manifests, list) and manifests and isinstance(manifests[0], dict):
            return [t for t in _list(manifests[0].get("RepoTags"), "RepoTags") if isinstance(t, str)]
    tags = []
    for m in _list(index.get("manifests"), "manifests"):
        name = (_get(m, "annotations", "io.containerd.image.name")
                or _get(m, "annotations", "org.opencontainers.image.ref.name"))
        if isinstance(name, str):
            tags.append(name)
    return tags


def _plan_docker(source: Source) -> Plan:
    manifests, _ = source.read_json("manifest.json")
    entries = _list(manifests, "manifest.json")
    if not entries:
        raise BadImage("manifest.json lists no image")
    entry = _dict(entries[0], "manifest.json entry")
    config_name = entry.get("Config")
    if not isinstance(config_name, str):
        raise BadImage("manifest.json has no Config")
    raw = source.read_bytes(config_name)
    digest = sha256_digest(raw)
    named = _digest_in_name(config_name)
    if named and named != digest:
        raise DigestMismatch(f"config {config_name}: expected {named}, got {digest}",
                             hint="the image was modified after it was written")
    config, diff_ids, history = _config(raw, config_name)
    layer_names = [n for n in _list(entry.get("Layers"), "Layers")]
    if len(layer_names) != len(diff_ids):
        raise BadImage(f"manifest.json lists {len(layer_names)} layers, "
                       f"config {len(diff_ids)} diff_ids")
    refs = [LayerRef(str(n), _digest_in_name(str(n)), d) for n, d in zip(layer_names, diff_ids)]
    tags = [t for t in _list(entry.get("RepoTags"), "RepoTags") if isinstance(t, str)]
    return Plan("docker-archive", digest, digest, tags, config, history, refs)


def _digest_in_name(name: str) -> str | None:
    """The digest a member's name promises (``blobs/sha256/<hex>``, ``<hex>.json``)."""
    match = re.fullmatch(r"(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?", name)
    return "sha256:" + match.group(1) if match else None


def _plan_v1(source: Source) -> Plan:
    repos, _ = source.read_json("repositories")
    tags, top = [], None
    for name, refs in _dict(repos, "repositories").items():
        for tag, layer_id in _dict(refs, f"repositories {name}").items():
            tags.append(f"{name}:{tag}")
            top = top or layer_id
    if top is None:
        top = _v1_top(source)
    chain, seen, layer_id = [], set(), top
    while layer_id:
        if not isinstance(layer_id, str) or not _HEX64.fullmatch(layer_id):
            raise BadImage(f"bad v1 layer id {str(layer_id)[:80]!r}")
        if layer_id in seen or len(chain) >= MAX_V1_CHAIN:
            raise BadImage("the v1 parent chain loops or is absurdly long")
        seen.add(layer_id)
        body, _ = source.read_json(f"{layer_id}/json")
        body = _dict(body, f"{layer_id[:12]}/json")
        if body.get("id", layer_id) != layer_id:
            raise DigestMismatch(f"{layer_id[:12]}/json names itself {str(body.get('id'))[:80]}")
        chain.append((layer_id, body))
        layer_id = body.get("parent")
    chain.reverse()
    refs = [LayerRef(f"{i}/layer.tar", None, None) for i, _ in chain]
    history = [{"created": b.get("created"),
                "created_by": " ".join(map(str, _list(_get(b, "container_config", "Cmd"), "Cmd")))}
               for _, b in chain]
    return Plan("docker-v1", None, top, tags, chain[-1][1], history, refs)


def _v1_top(source: Source) -> str:
    ids = {n.split("/")[0] for n in source.names() if n.endswith("/json")}
    parents = set()
    for layer_id in ids:
        body, _ = source.read_json(f"{layer_id}/json")
        parent = _get(body, "parent")
        if isinstance(parent, str):
            parents.add(parent)
    tops = sorted(ids - parents)
    if not tops:
        raise BadImage("no v1 layer folders found")
    return tops[0]


# --- reading layers ------------------------------------------------------------------
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


def inspect(path: str | Path) -> ImageInfo:
    """Read an image tarball or OCI folder; never writes; verifies every digest.

    Raises:
        BadImage: unreadable, inconsistent or hostile input.
        DigestMismatch: content does not hash to the digest that names it.
    """
    with open_source(path) as source:
        found = plan(source)
        layers = [read_layer(source, ref, n) for n, ref in enumerate(found.layers, 1)]
    return ImageInfo(found.format, found.config_digest, found.image_id, found.repo_tags,
                     found.config, found.history, layers)


__all__ = ["ImageInfo", "LayerInfo", "TarEntry", "inspect"]
