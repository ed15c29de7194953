"""Asking an engine about an image it has: inspect, list, history, run and save.

Example:
    >>> case, layer = describe_image(lab, "labkit-observe:x", "labkit")  # doctest: +SKIP
"""
from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from pathlib import Path

from labkit import oci
from labkit.errors import EngineError, LabkitError
from labkit.scenarios.case import Case, Lab, engine_words


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data



def _history(engine, ref: str) -> list[dict]:
    rows = engine.history(ref) or []  # the containerd store answers null for no layers
    return [{"created_by": row.get("CreatedBy", ""), "size": row.get("Size", 0),
             "comment": row.get("Comment", "")} for row in reversed(rows)]


def _run(engine, ref: str, cmd: list[str] | None) -> dict:
    try:
        result = engine.run(ref, cmd=cmd)
    except EngineError as err:
        return {"exit_code": None, "stdout": "", "stderr": "", "error": engine_words(err, ref)}
    return {"exit_code": result.exit_code, "stdout": _text(result.stdout),
            "stderr": _text(result.stderr), "error": engine_words(result.error, ref)}


def _save(engine, ref: str, image_id: str, workdir: Path) -> tuple[dict, bytes | None, str | None]:
    """``docker save``: format and file list, the top layer tar, what the ID digests."""
    path = workdir / f"save-{hashlib.sha256(ref.encode()).hexdigest()[:8]}.tar"
    try:
        engine.save(ref, path)
    except EngineError as err:
        return {"format": None, "files": [], "error": engine_words(err, ref)}, None, None
    try:
        info = oci.inspect(path)
        fmt, config_digest = info.format, info.config_digest
    except LabkitError as err:
        fmt, config_digest = f"unreadable: {err.message}", None
    with tarfile.open(path) as tar:
        files = sorted(m.name + ("/" if m.isdir() else "") for m in tar.getmembers())
        top = _top_layer_bytes(tar)
        kind = "config-digest" if image_id == config_digest else _blob_kind(tar, image_id)
    path.unlink()
    return {"format": fmt, "files": files, "error": None}, top, kind


def _top_layer_bytes(tar: tarfile.TarFile) -> bytes | None:
    try:
        manifest = json.load(tar.extractfile("manifest.json"))
        layers = manifest[0]["Layers"]
    except (KeyError, ValueError, IndexError, TypeError):
        return None
    if not layers:
        return None
    data = tar.extractfile(layers[-1]).read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _blob_kind(tar: tarfile.TarFile, digest: str) -> str | None:
    """``manifest-digest`` or ``index-digest`` when ``digest`` names such a saved blob."""
    try:
        media_type = json.load(tar.extractfile("blobs/sha256/" + digest.split(":")[-1]))["mediaType"]
    except (KeyError, ValueError, TypeError):
        return None
    return "index-digest" if "index" in media_type or "list" in media_type else "manifest-digest"


def _store_kind(engine) -> str:
    # Without a save to look into: the classic store's IDs are config digests, the
    # containerd store's the digest of what it imported (a manifest or an index).
    return "manifest-digest" if engine.facts.containerd_store else "config-digest"


def describe_image(lab: Lab, ref: str, builder: str, *, cmd: list[str] | None = None,
                   engine_assigned: tuple[str, ...] = ()) -> tuple[Case, bytes | None]:
    """Everything the engine reports about image ``ref``, plus its top layer tar.

    Args:
        lab: the scenario's engine and scratch directory.
        ref: tag or ID of an image the engine has.
        builder: how it was made (``labkit``, ``import``, ``legacy``, ``buildkit``).
        cmd: command for ``docker run`` (None: the image's own).
        engine_assigned: field names that depend on the build time.

    Example:
        >>> case, layer = describe_image(lab, "labkit-observe:x", "labkit")  # doctest: +SKIP
    """
    engine = lab.engine
    if engine.facts.containerd_store and "image_id" in engine_assigned:
        # That store's sizes count the config blob, whose length varies with the
        # build time's digits (RFC 3339 drops trailing zeros of the nanoseconds).
        engine_assigned = (*engine_assigned, "size_inspect", "size_listed")
    attrs = engine.inspect(ref)
    layers = (attrs.get("RootFS") or {}).get("Layers") or []
    save, top, kind = _save(engine, ref, attrs["Id"], lab.workdir)
    case = Case(
        builder=builder, image_id=attrs["Id"], id_kind=kind or _store_kind(engine),
        layers=len(layers), diff_ids=list(layers), size_inspect=attrs.get("Size"),
        size_listed=engine.listed_size(ref), history=_history(engine, ref),
        run=_run(engine, ref, cmd), save=save, engine_assigned=list(engine_assigned),
    )
    return case, top


def failed(builder: str, err: LabkitError, ref: str) -> Case:
    """A case for an image that was never made: the engine's own words about why."""
    return Case(builder=builder, ok=False, error=engine_words(err, ref))


def load_image(lab: Lab, image: "oci.Image", case: str) -> str:
    """Write ``image`` as a docker-archive, ``docker load`` it, return its tag."""
    tag = lab.tag(case)
    path = image.write(lab.workdir / f"{case}.tar", format="docker-archive", tag=tag)
    lab.engine.load(path)
    return tag


def loaded_case(lab: Lab, image: "oci.Image", case: str) -> tuple[Case, bytes | None]:
    """``image`` loaded into the engine and described (or why the engine refused it)."""
    try:
        tag = load_image(lab, image, case)
    except EngineError as err:
        return failed("labkit", err, f"{case}.tar"), None
    return describe_image(lab, tag, "labkit")
