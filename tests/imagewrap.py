"""Test helper: wrap raw layer tars (archives nobody here wrote) as an image a Docker engine loads.

``wrap(layers, out, "docker-archive" | "oci-dir" | "oci-archive")`` writes the layers
byte for byte (a layer may be ``bytes`` or the ``Path`` of a big tar, streamed), a
config naming their diff_ids, and the manifest(s) that format needs.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import zstandard

FORMATS = ("docker-archive", "oci-dir", "oci-archive")


def _digest(layer: bytes | Path) -> str:
    h = hashlib.sha256()
    if isinstance(layer, bytes):
        h.update(layer)
    else:
        with open(layer, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def _size(layer: bytes | Path) -> int:
    return len(layer) if isinstance(layer, bytes) else layer.stat().st_size


def _compressed(layer: bytes | Path, compress: str | None) -> bytes | Path:
    if compress is None:
        return layer
    raw = layer if isinstance(layer, bytes) else layer.read_bytes()
    return gzip.compress(raw, mtime=0) if compress == "gzip" else zstandard.ZstdCompressor().compress(raw)


def config(diff_ids: list[str], architecture: str = "amd64") -> bytes:
    return json.dumps({"architecture": architecture, "os": "linux",
                       "config": {"Cmd": ["/bin/sh"]},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def _add(tf: tarfile.TarFile, name: str, content: bytes | Path) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = _size(content), 0o644
    if isinstance(content, bytes):
        tf.addfile(info, io.BytesIO(content))
    else:
        with open(content, "rb") as f:
            tf.addfile(info, f)


def wrap(layers: list[bytes | Path], out: Path, fmt: str = "docker-archive",
         tag: str = "labkit-test/corpus:1", compress: str | None = None,
         architecture: str = "amd64") -> Path:
    """Write an image of ``layers`` (raw tars, bottom first) as ``fmt``; returns ``out``."""
    blobs = [_compressed(layer, compress) for layer in layers]
    cfg = config([_digest(layer) for layer in layers], architecture)
    cfg_digest = _digest(cfg)
    if fmt == "docker-archive":
        manifest = json.dumps([{"Config": cfg_digest[7:] + ".json", "RepoTags": [tag],
                                "Layers": [f"{i}/layer.tar" for i in range(len(blobs))]}]).encode()
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
            _add(tf, cfg_digest[7:] + ".json", cfg)
            _add(tf, "manifest.json", manifest)
            for i, blob in enumerate(blobs):
                _add(tf, f"{i}/layer.tar", blob)
        return out
    media = "application/vnd.oci.image.layer.v1.tar" + (f"+{compress}" if compress else "")
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cfg_digest, "size": len(cfg)},
        "layers": [{"mediaType": media, "digest": _digest(b), "size": _size(b)} for b in blobs],
    }).encode()
    name, _, ref = tag.rpartition(":")
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": _digest(manifest),
        "size": len(manifest), "annotations": {"io.containerd.image.name": tag,
                                               "org.opencontainers.image.ref.name": ref}}]}).encode()
    files: dict[str, bytes | Path] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
                                      "index.json": index}
    for blob in [cfg, manifest, *blobs]:
        files[f"blobs/sha256/{_digest(blob)[7:]}"] = blob
    if fmt == "oci-archive":
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
            for member, content in files.items():
                _add(tf, member, content)
        return out
    for member, content in files.items():
        path = out / member
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            shutil.copyfile(content, path)
    return out
