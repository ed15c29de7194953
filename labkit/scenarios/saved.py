"""What a ``docker save`` holds, blob by blob: each document and layer, its role and size.

The size ledger of the lessons adds these up: on the containerd image store, the
blobs of an image are what ``docker image inspect`` counts as its size.

Example:
    >>> import io, json, tarfile
    >>> buf = io.BytesIO()
    >>> with tarfile.open(fileobj=buf, mode="w") as tar:
    ...     data = b'{"Layers":["a/layer.tar"],"Config":"c.json"}'
    ...     for name, body in (("manifest.json", b"[" + data + b"]"), ("c.json", b"{}"),
    ...                        ("a/layer.tar", bytes(2048))):
    ...         info = tarfile.TarInfo(name); info.size = len(body)
    ...         tar.addfile(info, io.BytesIO(body))
    >>> _ = buf.seek(0)
    >>> [(b["role"], b["size"]) for b in saved_blobs(tarfile.open(fileobj=buf))]
    [('config', 2), ('layer', 2048)]
"""
from __future__ import annotations

import json
import tarfile

#: Media types of the documents an index or manifest points to, by role.
ROLES = {"index": ("image.index", "manifest.list"), "manifest": ("image.manifest", "distribution.manifest.v2")}


def _read(tar: tarfile.TarFile, name: str) -> bytes | None:
    try:
        member = tar.extractfile(name)
    except KeyError:
        return None
    return member.read() if member else None


def _role(media_type: str) -> str:
    for role, words in ROLES.items():
        if any(w in media_type for w in words):
            return role
    return "other"


def saved_blobs(tar: tarfile.TarFile) -> list[dict]:
    """``{"role", "media_type", "digest", "size"}`` for each blob a save holds: from
    ``index.json`` down (OCI layout: Docker 25+ and the containerd store), else from
    ``manifest.json`` (Docker 20.10: the config and each ``layer.tar``). Roles: ``index``,
    ``manifest``, ``attestation`` (a manifest for platform unknown/unknown), ``config``,
    ``layer``, ``other``; each blob is listed once, in the order it is reached."""
    index = _read(tar, "index.json")
    if index is None:
        return _docker_archive_blobs(tar)
    found: list[dict] = []
    seen: set[str] = set()

    def visit(descriptor: dict, role: str | None = None) -> None:
        digest, media = descriptor.get("digest", ""), descriptor.get("mediaType", "")
        if not digest or digest in seen:
            return
        seen.add(digest)
        role = role or _role(media)
        platform = descriptor.get("platform") or {}
        if role == "manifest" and platform.get("os") == "unknown":
            role = "attestation"
        data = _read(tar, "blobs/sha256/" + digest.split(":")[-1])
        found.append({"role": role, "media_type": media, "digest": digest,
                      "size": descriptor.get("size", len(data or b""))})
        if data is None or role not in ("index", "manifest", "attestation"):
            return
        try:
            doc = json.loads(data)
        except ValueError:
            return
        for child in doc.get("manifests") or []:
            visit(child)
        if doc.get("config"):
            visit(doc["config"], "config" if role == "manifest" else "other")
        for layer in doc.get("layers") or []:
            visit(layer, "layer" if role == "manifest" else "other")

    try:
        top = json.loads(index)
    except ValueError:
        return []
    for descriptor in top.get("manifests") or []:
        visit(descriptor)
    return found


def _docker_archive_blobs(tar: tarfile.TarFile) -> list[dict]:
    try:
        manifest = json.loads(_read(tar, "manifest.json") or b"")[0]
    except (ValueError, IndexError, KeyError, TypeError):
        return []
    out = []
    for role, names in (("config", [manifest.get("Config")]), ("layer", manifest.get("Layers") or [])):
        for name in names:
            try:
                out.append({"role": role, "media_type": "", "digest": "", "size": tar.getmember(name).size})
            except (KeyError, TypeError):
                continue
    return out
