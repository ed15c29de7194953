"""Asking an engine about an image it has: inspect, list, history, run and save.

Example:
    >>> case, layer = describe_image(lab, "labkit-observe:x", "labkit")  # doctest: +SKIP
"""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
from pathlib import Path

from labkit import oci
from labkit.errors import EngineError, LabkitError
from labkit.scenarios.case import Case, Lab, engine_words
from labkit.scenarios.saved import saved_blobs


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
        blobs = saved_blobs(tar)
    path.unlink()
    return {"format": fmt, "files": files, "error": None, "blobs": blobs}, top, kind


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


#: The docker commands a lesson shows for an image, by name (see :func:`learner_command`).
LEARNER_COMMANDS = ("inspect", "layers", "images", "history", "run", "save", "df")


def learner_command(what: str, ref: str, cmd: list[str] | None = None
                    ) -> tuple[list[str], list[str] | None]:
    """The docker command a learner types to ask ``what`` about image ``ref``:
    ``(arguments after docker, program piped to or None)``.

    Example:
        >>> learner_command("run", "lab/hello:legacy")
        (['run', '--rm', '--network', 'none', 'lab/hello:legacy'], None)
    """
    if what == "inspect":
        return ["image", "inspect", "--format", "{{.Id}} {{.Size}}", ref], None
    if what == "layers":
        return ["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref], None
    if what == "images":
        return ["images", ref], None
    if what == "history":
        return ["history", ref], None
    if what == "run":
        return ["run", "--rm", "--network", "none", ref, *(cmd or [])], None
    if what == "save":
        return ["save", ref], ["tar", "-tv"]
    if what == "df":
        return ["system", "df"], None
    raise LabkitError(f"no learner command {what!r}", hint="one of " + ", ".join(LEARNER_COMMANDS))


def run_learner_commands(lab: Lab, case_name: str, ref: str, shown: tuple[str, ...],
                         cmd: list[str] | None = None) -> None:
    """Run the commands ``shown`` for ``ref`` through the docker CLI, into the case's
    transcript (``docker save | tar -tv`` only where a ``tar`` program exists)."""
    for what in shown:
        args, pipe = learner_command(what, ref, cmd)
        if pipe and shutil.which(pipe[0]) is None:
            continue
        lab.docker(case_name, args, pipe=pipe)


def describe_image(lab: Lab, case_name: str, ref: str, builder: str, *,
                   cmd: list[str] | None = None, engine_assigned: tuple[str, ...] = (),
                   shown: tuple[str, ...] = ("inspect", "images", "history", "run", "save")
                   ) -> tuple[Case, bytes | None]:
    """Everything the engine reports about image ``ref``, plus its top layer tar.

    The engine is asked twice over: through the docker SDK for the numbers the lesson
    tables compare, and through the docker CLI for the commands a learner would type
    (``shown``, see :func:`learner_command`), kept with the case in ``commands``.

    Args:
        lab: the scenario's engine and scratch directory.
        case_name: the case's name (its transcript).
        ref: tag or ID of an image the engine has.
        builder: how it was made (``labkit``, ``import``, ``legacy``, ``buildkit``).
        cmd: command for ``docker run`` (None: the image's own).
        engine_assigned: field names that depend on the build time.
        shown: the learner commands to run and keep.

    Example:
        >>> case, layer = describe_image(lab, "legacy", "lab/hello:legacy", "legacy")  # doctest: +SKIP
    """
    engine = lab.engine
    if (engine.facts.containerd_store or engine.facts.family == "podman") and "image_id" in engine_assigned:
        # That store's (and Podman's) sizes count the config blob, whose length varies with
        # the build time's digits (RFC 3339 drops trailing zeros of the nanoseconds).
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
    run_learner_commands(lab, case_name, ref, shown, cmd)
    case.commands = [r.to_dict() for r in lab.transcript(case_name)]
    return case, top


def failed(lab: Lab, case_name: str, builder: str, err: LabkitError | str, ref: str) -> Case:
    """A case for an image that was never made: the engine's own words about why, and
    the commands that tried."""
    return Case(builder=builder, ok=False, error=engine_words(err, ref),
                commands=[r.to_dict() for r in lab.transcript(case_name)])


def load_image(lab: Lab, case: str, image: "oci.Image", name: str | None = None) -> str:
    """Write ``image`` as a docker-archive, ``docker load -i`` it into ``case``'s
    transcript, return its tag, ``<namespace>/<scenario>:<name or case>``.

    Raises:
        EngineError: the engine refused it (its own words).
    """
    tag = lab.tag(name or case)
    path = image.write(lab.workdir / f"{name or case}.tar", format="docker-archive", tag=tag)
    run = lab.docker(case, ["load", "-i", path.name])
    lab.engine.remember(tag)
    if run.exit_code != 0:
        raise EngineError(f"the engine refused {path.name}: {load_error(run.output)}")
    return tag


def load_error(output: str) -> str:
    """The engine's words from a failed ``docker load`` (its last line, prefix removed;
    Podman lists each format it tried: its docker-archive line).

    Example:
        >>> load_error("Error response from daemon: unrecognized image format\\n")
        'unrecognized image format'
        >>> load_error("Error: payload does not match any of the supported image formats:\\n"
        ...            " * docker-archive: loading tar component manifest.json: file does not exist\\n"
        ...            " * dir: open /var/tmp/x/manifest.json: not a directory\\n")
        'docker-archive: loading tar component manifest.json: file does not exist'
    """
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()] or ["no output"]
    archive = [ln[2:] for ln in lines if ln.startswith("* docker-archive: ")]
    return (archive or lines)[-1].split("Error response from daemon: ", 1)[-1]


def loaded_case(lab: Lab, image: "oci.Image", case: str,
                shown: tuple[str, ...] = ("inspect", "images", "history", "run", "save"),
                cmd: list[str] | None = None) -> tuple[Case, bytes | None]:
    """``image`` loaded into the engine and described (or why the engine refused it)."""
    try:
        tag = load_image(lab, case, image)
    except EngineError as err:
        return failed(lab, case, "labkit", err, f"{case}.tar"), None
    return describe_image(lab, case, tag, "labkit", shown=shown, cmd=cmd)
