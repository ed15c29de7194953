"""Push an image to a registry: ``HEAD`` each blob, mount it, or upload it; then the manifest.

Example:
    >>> result = push(reg, oci.Image([[oci.Entry.file("hi", b"hi")]]), "lab/hi:1")  # doctest: +SKIP
    >>> [b.action for b in result.blobs]                                            # doctest: +SKIP
    ['uploaded', 'uploaded', 'put']
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

from labkit import oci
from labkit.errors import BadImage, DigestMismatch, RegistryError
from labkit.oci.digest import go_json
from labkit.oci.plan import Plan, plan
from labkit.oci.source import open_source
from labkit.registry.client import INDEX_TYPES, OCI_MANIFEST, Registry
from labkit.registry.transfer import (COMPRESSOR, MEDIA_TYPES, Blob, Transfer, _copy, _Hashing,
                                      compress, split_reference)


class _Pusher:
    """One push: the blobs to send, each sent once, in order."""

    def __init__(self, registry: Registry, repository: str, mount_from, chunk_size, tmp: Path):
        self.reg, self.repo, self.chunk_size, self.tmp = registry, repository, chunk_size, tmp
        self.mount_from = list(mount_from or [])
        self.blobs: list[Blob] = []
        self.compressed = False

    def send(self, kind: str, media_type: str, digest: str, size: int, opener, diff_id=None) -> Blob:
        """HEAD, else mount, else upload the blob ``opener()`` gives."""
        blob = Blob(kind, digest, size, media_type, "exists", diff_id)
        self.blobs.append(blob)
        if self.reg.blob_size(self.repo, digest) is not None:
            return blob
        location = None
        known = self.reg.known.get(digest)
        for source in [*self.mount_from, *([known] if known else [])]:
            if source == self.repo:
                continue
            location = self.reg.mount(self.repo, digest, source)
            if location is None:
                blob.action = "mounted"
                return blob
            break
        location = location or self.reg.start_upload(self.repo)
        with opener() as data:
            blob.requests = self.reg.upload(location, data, digest, size, self.chunk_size)
        blob.action = "uploaded"
        return blob

    def send_bytes(self, kind: str, media_type: str, data: bytes) -> Blob:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        return self.send(kind, media_type, digest, len(data), lambda: io.BytesIO(data))

    def send_layer(self, media_type: str, write_tar, diff_id: str | None) -> Blob:
        """Compress a layer into a temporary file, then send it."""
        fd, name = tempfile.mkstemp(prefix="layer-", suffix=".gz", dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size, got, _ = compress(write_tar, out)
            if diff_id and got != diff_id:
                raise DigestMismatch(f"a layer's tar hashes to {got}, its config says {diff_id}",
                                     hint="the image was modified after it was written")
            self.compressed = True
            return self.send("layer", media_type, digest, size, lambda: open(name, "rb"), got)
        finally:
            os.unlink(name)


def push(registry: Registry, image, reference: str, *, manifest_format: str = "oci",
         mount_from: list[str] | None = None, chunk_size: int | None = None) -> Transfer:
    """Push ``image`` (an ``oci.Image`` or an image path) as ``reference`` (``repo:tag``).

    Args:
        registry: a :class:`Registry` client.
        image: ``labkit.oci.Image``, or a docker-archive, oci-archive or OCI layout path.
        reference: ``repo:tag`` in that registry.
        manifest_format: ``"oci"`` (OCI media types) or ``"docker"`` (Docker schema 2, as
            the classic image store pushes); ignored when a layout is copied byte for byte.
        mount_from: repositories of the same registry to mount blobs from.
        chunk_size: upload in chunks of this many bytes (default: one request per blob).

    Raises:
        RegistryError: the registry refused something (its own words).
        BadImage: the image cannot be read, or is a pre-1.10 (docker-v1) tarball.
    """
    repository, tag = split_reference(reference)
    if manifest_format not in MEDIA_TYPES:
        raise RegistryError(f"manifest_format must be 'oci' or 'docker', not {manifest_format!r}")
    with tempfile.TemporaryDirectory(prefix="labkit-push-") as tmp:
        pusher = _Pusher(registry, repository, mount_from, chunk_size, Path(tmp))
        if isinstance(image, oci.Image):
            digest, media_type = _push_image(pusher, image, tag, manifest_format)
        else:
            digest, media_type = _push_path(pusher, Path(image), tag, manifest_format)
    registry.known.update({b.digest: repository for b in pusher.blobs if b.kind in ("config", "layer")})
    return Transfer(f"{registry.host}/{repository}:{tag}", digest, media_type, pusher.blobs,
                    COMPRESSOR if pusher.compressed else None)


def _manifest(pusher: _Pusher, config: Blob, layers: list[Blob], manifest_format: str) -> bytes:
    manifest_type = MEDIA_TYPES[manifest_format][0]
    return go_json({"schemaVersion": 2, "mediaType": manifest_type,
                    "config": {"mediaType": config.media_type, "digest": config.digest, "size": config.size},
                    "layers": [{"mediaType": l.media_type, "digest": l.digest, "size": l.size}
                               for l in layers]})


def _put(pusher: _Pusher, tag: str, data: bytes, media_type: str, kind: str = "manifest") -> str:
    digest = pusher.reg.put_manifest(pusher.repo, tag, data, media_type)
    pusher.blobs.append(Blob(kind, digest, len(data), media_type, "put", requests=1))
    return digest


def _push_image(pusher: _Pusher, image: "oci.Image", tag: str, manifest_format: str) -> tuple[str, str]:
    if image.era == "1.4":
        raise BadImage("a Docker 1.4 era image has no config to push",
                       hint="push a modern-era image; registries store configs and manifests")
    manifest_type, config_type, layer_type = MEDIA_TYPES[manifest_format]
    layers = [pusher.send_layer(layer_type, lambda out, i=i: image.write_layer(i, out), diff_id)
              for i, diff_id in enumerate(image.diff_ids)]
    config = pusher.send_bytes("config", config_type, image.config_bytes())
    data = _manifest(pusher, config, layers, manifest_format)
    return _put(pusher, tag, data, manifest_type), manifest_type


def _push_path(pusher: _Pusher, path: Path, tag: str, manifest_format: str) -> tuple[str, str]:
    with open_source(path) as source:
        found: Plan = plan(source)
        if found.format == "docker-v1":
            raise BadImage(f"{path.name} is a pre-1.10 (docker-v1) tarball: it has no config to push",
                           hint="load it into an engine and save it again, or rebuild it")
        if found.format == "oci-layout" and _all_compressed(source, found):
            return _copy_layout(pusher, source, tag)
        manifest_type, config_type, layer_type = MEDIA_TYPES[manifest_format]
        layers = []
        for ref in found.layers:
            with source.open(ref.name) as head:
                magic = head.read(2)
            if magic == b"\x1f\x8b":   # already gzip: sent as it is (its digest is kept)
                size = source.size(ref.name)
                digest = ref.digest or _digest_of(source, ref.name)
                layers.append(pusher.send("layer", layer_type, digest, size,
                                          lambda n=ref.name: source.open(n), ref.diff_id))
            else:
                layers.append(pusher.send_layer(layer_type, _copy(source, ref.name), ref.diff_id))
        config = pusher.send_bytes("config", config_type, _config_bytes(source, found))
        data = _manifest(pusher, config, layers, manifest_format)
        return _put(pusher, tag, data, manifest_type), manifest_type


def _digest_of(source, name: str) -> str:
    hasher = _Hashing()
    _copy(source, name)(hasher)
    return hasher.digest


def _config_bytes(source, found: Plan) -> bytes:
    """The config exactly as the image holds it (its digest is the image ID)."""
    if found.format == "oci-layout":
        return source.read_bytes("blobs/sha256/" + found.config_digest.split(":", 1)[1])
    entry = json.loads(source.read_bytes("manifest.json"))[0]
    return source.read_bytes(entry["Config"])


def _all_compressed(source, found: Plan) -> bool:
    for ref in found.layers:
        with source.open(ref.name) as head:
            if head.read(2) != b"\x1f\x8b":
                return False
    return True


def _copy_layout(pusher: _Pusher, source, tag: str) -> tuple[str, str]:
    """An OCI layout whose layers are compressed: every blob and manifest byte for byte."""
    index = json.loads(source.read_bytes("index.json"))
    top = (index.get("manifests") or [None])[0]
    if not top:
        raise BadImage("index.json names no manifest")
    return _copy_manifest(pusher, source, top, tag), top.get("mediaType", OCI_MANIFEST)


def _copy_manifest(pusher: _Pusher, source, descriptor: dict, tag: str | None) -> str:
    name = "blobs/sha256/" + descriptor["digest"].split(":", 1)[1]
    data = source.read_bytes(name)
    document = json.loads(data)
    media_type = descriptor.get("mediaType") or document.get("mediaType") or OCI_MANIFEST
    if media_type in INDEX_TYPES:
        for child in document.get("manifests") or []:
            if source.has("blobs/sha256/" + child["digest"].split(":", 1)[1]):
                _copy_manifest(pusher, source, child, None)
        kind = "index"
    else:
        for blob in [document["config"], *(document.get("layers") or [])]:
            blob_name = "blobs/sha256/" + blob["digest"].split(":", 1)[1]
            kind = "config" if blob is document["config"] else "layer"
            pusher.send(kind, blob["mediaType"], blob["digest"], blob["size"],
                        lambda n=blob_name: source.open(n))
        kind = "manifest"
    return _put(pusher, tag or descriptor["digest"], data, media_type, kind)


