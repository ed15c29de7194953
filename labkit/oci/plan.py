"""Read and verify an image's metadata (not its layers): which format, which image, which layers.

Formats (by what the top level holds):

* ``oci-layout`` — ``index.json`` (an OCI archive or folder, and ``docker save`` on
  25+, which also writes ``manifest.json``);
* ``docker-archive`` — ``manifest.json`` without ``index.json`` (``docker save`` 1.10–24);
* ``docker-v1`` — only ``repositories`` and ``<id>/json`` folders (before 1.10).

A file holding several images needs ``ref`` to say which (``labkit.oci.pick``).

Example:
    >>> import tempfile, pathlib
    >>> from labkit.oci.image import Image
    >>> from labkit.oci.source import open_source
    >>> path = Image().write(pathlib.Path(tempfile.mkdtemp()) / "empty.tar", tag="e:1")
    >>> with open_source(path) as source:
    ...     found = plan(source, "e:1")
    >>> found.format, found.repo_tags, found.layers
    ('docker-archive', ['e:1'], [])
"""
from __future__ import annotations

import dataclasses
import re

from labkit.errors import BadImage, DigestMismatch
from labkit.oci.digest import (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
                               sha256_digest)
from labkit.oci.pick import (Candidate, choose, oci_candidates, platform_of, platform_order,
                             short_name)
from labkit.oci.source import Source, parse_json

MAX_V1_CHAIN = 5_000
MAX_DEPTH = 4
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
    """An image's metadata, read and verified, with its layers still unread.

    ``platform`` is ``os/architecture[/variant]``; ``absent_platforms`` the platforms an
    index lists whose blobs the file does not hold.
    """

    format: str
    config_digest: str | None
    image_id: str | None
    repo_tags: list[str]
    config: dict
    history: list[dict]
    layers: list[LayerRef]
    platform: str | None = None
    absent_platforms: list[str] = dataclasses.field(default_factory=list)


def plan(source: Source, ref: str | None = None) -> Plan:
    """Detect the format, pick the image (``ref``), and read its metadata."""
    if source.has("index.json"):
        found = _plan_oci(source, ref)
    elif source.has("manifest.json"):
        found = _plan_docker(source, ref)
    elif source.has("repositories"):
        found = _plan_v1(source, ref)
    else:
        raise BadImage(f"{source.path.name} is not an image: no index.json, manifest.json or "
                       "repositories", hint="give a docker save tarball, an OCI archive or folder")
    if found.platform is None:
        parts = [found.config.get(k) for k in ("os", "architecture", "variant")]
        found.platform = "/".join(p for p in parts if isinstance(p, str) and p) or None
    return found


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


def blob_name(digest) -> str:
    """``blobs/sha256/<hex>`` of a digest; ``BadImage`` for anything but sha256."""
    if not isinstance(digest, str) or not digest.startswith("sha256:") or \
            not _HEX64.fullmatch(digest[7:]):
        raise BadImage(f"unsupported or malformed digest {str(digest)[:80]!r}",
                       hint="labkit reads sha256 digests only")
    return "blobs/sha256/" + digest[7:]


def _verified_blob(source: Source, descriptor: dict, what: str) -> bytes:
    descriptor = _dict(descriptor, what)
    digest = descriptor.get("digest")
    data = source.read_bytes(blob_name(digest))
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


def _complete(source: Source, manifest: dict) -> bool:
    """True when the config and every layer of ``manifest`` are in the file."""
    blobs = [manifest.get("config")] + _list(manifest.get("layers"), "layers")
    return all(isinstance(b, dict) and source.has(blob_name(b.get("digest"))) for b in blobs)


def _resolve(source: Source, descriptors: list[dict], absent: list[str],
             depth: int = 0) -> tuple[dict, str | None]:
    """The manifest of the first complete platform (this machine's first), and its platform;
    ``absent`` gets every platform whose blobs the file does not hold."""
    if depth > MAX_DEPTH:
        raise BadImage(f"image indexes nested more than {MAX_DEPTH} deep")
    found = None
    for descriptor in platform_order([_dict(d, "index entry") for d in descriptors]):
        name = platform_of(descriptor) or str(descriptor.get("digest"))[:19]
        if not source.has(blob_name(descriptor.get("digest"))):
            absent.append(name)
            continue
        document = _dict(parse_json(_verified_blob(source, descriptor, "manifest"), "manifest"),
                         "manifest")
        kind = descriptor.get("mediaType") or document.get("mediaType")
        if kind in _INDEX_TYPES or "manifests" in document:
            try:
                nested = _resolve(source, _list(document.get("manifests"), "manifests"),
                                  absent, depth + 1)
            except BadImage:
                continue
            found = found or nested
        elif (kind in _MANIFEST_TYPES or "config" in document) and _complete(source, document):
            found = found or (document, platform_of(descriptor))
        else:
            absent.append(name)
    if found is None:
        raise BadImage(f"{source.path.name} holds no complete image"
                       + (f" (absent: {', '.join(absent[:10])})" if absent else ""),
                       hint="the layout lists platforms whose blobs it does not hold; save the "
                            "image again with the platform you need")
    return found


def _plan_oci(source: Source, ref: str | None) -> Plan:
    index, _ = source.read_json("index.json")
    manifests = [_dict(m, "index entry")
                 for m in _list(_dict(index, "index.json").get("manifests"), "manifests")]
    candidates = oci_candidates(manifests)
    for candidate in candidates if ref is not None else []:   # image IDs name them too
        candidate.ids += [_config_digest(source, d) for d in candidate.item]
    chosen = choose(candidates, ref, source.path.name)
    absent: list[str] = []
    manifest, platform = _resolve(source, chosen.item, absent)
    config_descriptor = _dict(manifest.get("config"), "manifest config")
    raw = _verified_blob(source, config_descriptor, "config")
    config, diff_ids, history = _config(raw, "config")
    layers = [_dict(l, "layer descriptor") for l in _list(manifest.get("layers"), "layers")]
    if len(layers) != len(diff_ids):
        raise BadImage(f"manifest lists {len(layers)} layers, config {len(diff_ids)} diff_ids")
    refs = [LayerRef(blob_name(l.get("digest")), l.get("digest"), d, l.get("size"))
            for l, d in zip(layers, diff_ids)]
    digest = sha256_digest(raw)
    tags = _docker_tags(source, digest) or chosen.names
    return Plan("oci-layout", digest, digest, tags, config, history, refs, platform, absent)


def _config_digest(source: Source, descriptor: dict) -> str:
    """The config digest (the image ID) of an index entry that is a manifest, else ""."""
    if not source.has(blob_name(descriptor.get("digest"))):
        return ""
    document = parse_json(_verified_blob(source, descriptor, "manifest"), "manifest")
    return str(_get(document, "config", "digest") or "")


def _docker_tags(source: Source, config_digest: str) -> list[str]:
    """``RepoTags`` that Docker 25+'s ``manifest.json`` gives the image with this config."""
    if not source.has("manifest.json"):
        return []
    manifests, _ = source.read_json("manifest.json")
    tags: list[str] = []
    for entry in manifests if isinstance(manifests, list) else []:
        if isinstance(entry, dict) and entry.get("Config") == blob_name(config_digest):
            tags += [t for t in _list(entry.get("RepoTags"), "RepoTags") if isinstance(t, str)]
    return tags


def _plan_docker(source: Source, ref: str | None) -> Plan:
    manifests, _ = source.read_json("manifest.json")
    candidates: list[Candidate] = []
    for entry in _list(manifests, "manifest.json"):
        entry = _dict(entry, "manifest.json entry")
        config_name = entry.get("Config")
        if not isinstance(config_name, str):
            raise BadImage("manifest.json has no Config")
        tags = [t for t in _list(entry.get("RepoTags"), "RepoTags") if isinstance(t, str)]
        same = next((c for c in candidates if c.item["Config"] == config_name), None)
        if same:
            same.names += [t for t in tags if t not in same.names]
        else:
            named = _digest_in_name(config_name)
            candidates.append(Candidate(tags, [named or sha256_digest(source.read_bytes(config_name))],
                                        entry))
    if not candidates:
        raise BadImage("manifest.json lists no image")
    chosen = choose(candidates, ref, source.path.name)
    config_name = chosen.item["Config"]
    raw = source.read_bytes(config_name)
    digest = sha256_digest(raw)
    named = _digest_in_name(config_name)
    if named and named != digest:
        raise DigestMismatch(f"config {config_name}: expected {named}, got {digest}",
                             hint="the image was modified after it was written")
    config, diff_ids, history = _config(raw, config_name)
    layer_names = list(_list(chosen.item.get("Layers"), "Layers"))
    if len(layer_names) != len(diff_ids):
        raise BadImage(f"manifest.json lists {len(layer_names)} layers, "
                       f"config {len(diff_ids)} diff_ids")
    refs = [LayerRef(str(n), _digest_in_name(str(n)), d) for n, d in zip(layer_names, diff_ids)]
    return Plan("docker-archive", digest, digest, chosen.names, config, history, refs)


def _digest_in_name(name: str) -> str | None:
    """The digest a member's name promises (``blobs/sha256/<hex>``, ``<hex>.json``)."""
    match = re.fullmatch(r"(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?", name)
    return "sha256:" + match.group(1) if match else None


def _plan_v1(source: Source, ref: str | None) -> Plan:
    repos, _ = source.read_json("repositories")
    candidates: list[Candidate] = []
    for name, refs in _dict(repos, "repositories").items():
        for tag, layer_id in _dict(refs, f"repositories {name}").items():
            same = next((c for c in candidates if c.item == layer_id), None)
            if same:
                same.names.append(short_name(f"{name}:{tag}"))
            else:
                candidates.append(Candidate([short_name(f"{name}:{tag}")], [str(layer_id)], layer_id))
    if not candidates:
        candidates = [Candidate([], [top], top) for top in _v1_tops(source)]
    chosen = choose(candidates, ref, source.path.name)
    chain, seen, layer_id = [], set(), chosen.item
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
    return Plan("docker-v1", None, chosen.item, chosen.names, chain[-1][1], history, refs)


def _v1_tops(source: Source) -> list[str]:
    """Layer ids no other layer names as its parent (each the top of an image)."""
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
    return tops
