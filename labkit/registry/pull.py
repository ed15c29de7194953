"""Pull an image from a registry into an OCI layout folder, fetching only missing blobs.

Example:
    >>> done = pull(reg, "lab/hi:1", "hi-layout")                    # doctest: +SKIP
    >>> labkit.oci.inspect("hi-layout").format                       # doctest: +SKIP
    'oci-layout'
"""
from __future__ import annotations

import json
from pathlib import Path

from labkit.errors import DigestMismatch
from labkit.oci.digest import OCI_LAYOUT, go_json
from labkit.registry.client import INDEX_TYPES, OCI_INDEX, Registry
from labkit.registry.transfer import Blob, Transfer, split_reference


def pull(registry: Registry, reference: str, layout: str | Path) -> Transfer:
    """Pull ``reference`` (``repo:tag`` or ``repo@digest``) into the OCI layout folder
    ``layout`` (made if missing); blobs it already holds are not fetched again.

    Every platform of an index is pulled (attestations too). ``index.json`` names the
    image with ``org.opencontainers.image.ref.name`` = the tag.

    Raises:
        RegistryError: the registry does not have it.
        DigestMismatch: a blob or manifest is not what its digest says.
    """
    repository, ref = split_reference(reference)
    layout = Path(layout)
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_bytes(OCI_LAYOUT)
    blobs: list[Blob] = []
    data, media_type, digest = registry.manifest(repository, ref)
    _pull_manifest(registry, repository, layout, data, media_type, digest, blobs)
    _add_to_index(layout, {"mediaType": media_type, "digest": digest, "size": len(data)},
                  f"{registry.host}/{repository}", ref)
    return Transfer(f"{registry.host}/{repository}:{ref}", digest, media_type, blobs, layout=layout)


def _store(layout: Path, digest: str, data: bytes) -> bool:
    path = layout / "blobs" / "sha256" / digest.split(":", 1)[1]
    if path.is_file():
        return False
    path.write_bytes(data)
    return True


def _pull_manifest(registry, repository, layout, data, media_type, digest, blobs) -> None:
    document = json.loads(data)
    new = _store(layout, digest, data)
    kind = "index" if media_type in INDEX_TYPES else "manifest"
    blobs.append(Blob(kind, digest, len(data), media_type, "downloaded" if new else "present"))
    if kind == "index":
        for child in document.get("manifests") or []:
            child_data, child_type, child_digest = registry.manifest(repository, child["digest"])
            _pull_manifest(registry, repository, layout, child_data, child.get("mediaType") or child_type,
                           child_digest, blobs)
        return
    diff_ids: list[str] = []
    for number, descriptor in enumerate([document["config"], *(document.get("layers") or [])]):
        kind = "config" if number == 0 else "layer"
        blob = Blob(kind, descriptor["digest"], descriptor["size"], descriptor.get("mediaType", ""),
                    "present", None)
        path = layout / "blobs" / "sha256" / descriptor["digest"].split(":", 1)[1]
        if not path.is_file():
            part = path.with_name(f".{path.name}.part")
            try:
                with open(part, "wb") as out:
                    size = registry.blob(repository, descriptor["digest"], out)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            if size != descriptor["size"]:
                part.unlink()
                raise DigestMismatch(f"blob {descriptor['digest']}: descriptor says "
                                     f"{descriptor['size']} bytes, got {size}")
            part.rename(path)
            blob.action = "downloaded"
        blobs.append(blob)
        if number == 0:
            diff_ids = _diff_ids(layout, document)
        elif diff_ids and number - 1 < len(diff_ids):
            blob.diff_id = diff_ids[number - 1]


def _diff_ids(layout: Path, manifest: dict) -> list[str]:
    path = layout / "blobs" / "sha256" / manifest["config"]["digest"].split(":", 1)[1]
    try:
        return list((json.loads(path.read_bytes()).get("rootfs") or {}).get("diff_ids") or [])
    except (OSError, ValueError, AttributeError):
        return []         # not an image config (an attestation's, or not pulled yet)


def _add_to_index(layout: Path, descriptor: dict, name: str, ref: str) -> None:
    path = layout / "index.json"
    try:
        index = json.loads(path.read_text())
    except (OSError, ValueError):
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    tag = ref if not ref.startswith("sha256:") else None
    if tag:
        descriptor["annotations"] = {"io.containerd.image.name": f"{name}:{tag}",
                                     "org.opencontainers.image.ref.name": tag}
    index["manifests"] = [m for m in index.get("manifests") or []
                          if (m.get("annotations") or {}).get("io.containerd.image.name")
                          != (descriptor.get("annotations") or {}).get("io.containerd.image.name", "-")]
    index["manifests"].insert(0, descriptor)
    path.write_bytes(go_json(index))
