"""The lab's measurements: one function per scenario, each returning named ``Case`` s.

A scenario gets an engine (``labkit.engine.Engine``) and an empty scratch directory,
builds or loads FROM scratch images from reproducible inputs (fixed mtimes, fixed
message), asks the engine what it made, and removes what it created. The schema of
every field is in ``docs/observations.md``.

Example:
    >>> from labkit import engine, scenarios
    >>> eng = engine.connect()                                   # doctest: +SKIP
    >>> cases = scenarios.run("empty-labkit", eng, "/tmp/work")  # doctest: +SKIP
    >>> cases["labkit"].layers                                   # doctest: +SKIP
    0
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import tarfile
from pathlib import Path
from typing import Any, Callable

from labkit import hello, oci
from labkit.errors import EngineError, LabkitError

#: Every image a scenario makes is tagged ``labkit-observe:<scenario>-<case>``.
REPOSITORY = "labkit-observe"
HELLO_DOCKERFILE = b'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n'
BUSYBOX = Path("/bin/busybox")
#: Applet links labkit makes itself (no ``busybox --install``): a small, fixed set.
APPLETS = ("cat", "echo", "env", "false", "head", "ls", "mkdir", "pwd", "rm", "sh",
           "true", "uname", "wc")
NOTES = b"".join(b"line %05d of a file the second layer deletes\n" % i for i in range(400))


@dataclasses.dataclass
class Case:
    """One image (or one attempt to make one) and what the engine says about it.

    Example:
        >>> Case("labkit", ok=False, error="no such image").to_dict()["error"]
        'no such image'
    """

    builder: str
    ok: bool = True
    error: str | None = None
    image_id: str | None = None
    id_kind: str | None = None
    layers: int | None = None
    diff_ids: list[str] = dataclasses.field(default_factory=list)
    size_inspect: int | None = None
    size_listed: int | None = None
    history: list[dict] = dataclasses.field(default_factory=list)
    run: dict | None = None
    save: dict | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    engine_assigned: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Case":
        """The inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named measurement: ``func(lab) -> {case name: Case}``."""

    name: str
    description: str
    func: Callable[["Lab"], dict[str, Case]]


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def engine_words(error: LabkitError | str | None, ref: str) -> str | None:
    """The engine's own words: labkit's "cannot save <ref>: " prefix and hint removed.

    Example:
        >>> engine_words("cannot save x:1: empty export - not implemented", "x:1")
        'empty export - not implemented'
    """
    if error is None:
        return None
    text = error.message if isinstance(error, LabkitError) else str(error)
    for marker in (f"{ref} failed: ", f"{ref}: "):
        if marker in text:
            return text.split(marker, 1)[1]
    return text


@dataclasses.dataclass
class Lab:
    """What a scenario works with: the engine, a scratch directory, the tags it made.

    Example:
        >>> lab = Lab(eng, Path("/tmp/w"), "empty-labkit")  # doctest: +SKIP
        >>> lab.tag("labkit")                                 # doctest: +SKIP
        'labkit-observe:empty-labkit-labkit'
    """

    engine: Any
    workdir: Path
    scenario: str
    tags: list[str] = dataclasses.field(default_factory=list)

    def tag(self, case: str) -> str:
        """A tag for ``case``'s image, remembered so :func:`run` removes it."""
        tag = f"{REPOSITORY}:{self.scenario}-{case}"
        self.tags.append(tag)
        return tag


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


def _failed(builder: str, err: LabkitError, ref: str) -> Case:
    return Case(builder=builder, ok=False, error=engine_words(err, ref))


def _load(lab: Lab, image: "oci.Image", case: str) -> str:
    """Write ``image`` as a docker-archive, ``docker load`` it, return its tag."""
    tag = lab.tag(case)
    path = image.write(lab.workdir / f"{case}.tar", format="docker-archive", tag=tag)
    lab.engine.load(path)
    return tag


def _loaded_case(lab: Lab, image: "oci.Image", case: str) -> tuple[Case, bytes | None]:
    try:
        tag = _load(lab, image, case)
    except EngineError as err:
        return _failed("labkit", err, f"{case}.tar"), None
    return describe_image(lab, tag, "labkit")


def _hello_bytes() -> bytes:
    return hello.tiny_elf(hello.DEFAULT_MESSAGE)


def _hello_context(workdir: Path) -> Path:
    """A build context whose bytes and mtimes never change: Dockerfile + /hello."""
    context = workdir / "context"
    context.mkdir()
    (context / "Dockerfile").write_bytes(HELLO_DOCKERFILE)
    (context / "hello").write_bytes(_hello_bytes())
    os.chmod(context / "hello", 0o755)
    os.chmod(context / "Dockerfile", 0o644)
    for name in ("Dockerfile", "hello"):
        os.utime(context / name, (0, 0))
    return context


def _hello_image(era: str = "modern") -> "oci.Image":
    return oci.Image([[oci.Entry.file("hello", _hello_bytes(), mode=0o755, mtime=0)]],
                     cmd=["/hello"], era=era)


# --- the scenarios -------------------------------------------------------------------
def empty_labkit(lab: Lab) -> dict[str, Case]:
    """labkit's zero-layer image, loaded; running it has no command to run."""
    image = oci.Image()
    case, _ = _loaded_case(lab, image, "labkit")
    case.extra["predicted_id"] = image.image_id
    return {"labkit": case}


def empty_import(lab: Lab) -> dict[str, Case]:
    """``docker import`` of an empty tar: 1024 NUL bytes, and the 10 KiB ``tar cf`` writes."""
    cases = {}
    for name, size in (("empty-1024", 1024), ("gnu-tar-10240", 10240)):
        path = lab.workdir / f"{name}.tar"
        path.write_bytes(bytes(size))
        tag = lab.tag(name)
        try:
            lab.engine.import_tar(path, tag)
        except EngineError as err:
            cases[name] = _failed("import", err, f"{name}.tar")
            continue
        case, _ = describe_image(lab, tag, "import", engine_assigned=("image_id", "save"))
        case.extra.update(tar_bytes=size,
                          tar_sha256="sha256:" + hashlib.sha256(bytes(size)).hexdigest())
        cases[name] = case
    return cases


def empty_dockerfile(lab: Lab) -> dict[str, Case]:
    """A Dockerfile that is only ``FROM scratch``, with each builder."""
    context = lab.workdir / "context"
    context.mkdir()
    (context / "Dockerfile").write_bytes(b"FROM scratch\n")
    cases = {}
    for builder in ("legacy", "buildkit"):
        tag = lab.tag(builder)
        try:
            lab.engine.build(context, tag, builder=builder, label=False)
        except LabkitError as err:
            cases[builder] = _failed(builder, err, tag)
            continue
        case, _ = describe_image(lab, tag, builder)
        if builder == "buildkit":
            case.extra["predicted_id"] = oci.Image.buildkit_scratch(lab.engine.facts.tar_era).image_id
        cases[builder] = case
    return cases


def _hello_build(lab: Lab, builder: str) -> dict[str, Case]:
    tag = lab.tag(builder)
    try:
        lab.engine.build(_hello_context(lab.workdir), tag, builder=builder, label=False)
    except LabkitError as err:
        return {builder: _failed(builder, err, tag)}
    case, top = describe_image(lab, tag, builder, engine_assigned=("image_id", "save"))
    case.extra["predicted_diff_ids"] = {era: _hello_image(era).diff_ids[0]
                                        for era in ("modern", "20.10")}
    case.extra["layer_tar_headers"] = oci.tar_headers(top) if top else []
    return {builder: case}


def hello_legacy(lab: Lab) -> dict[str, Case]:
    """labkit's tiny hello COPY'd FROM scratch by the legacy builder."""
    return _hello_build(lab, "legacy")


def hello_buildkit(lab: Lab) -> dict[str, Case]:
    """labkit's tiny hello COPY'd FROM scratch by BuildKit."""
    return _hello_build(lab, "buildkit")


def hello_variants(lab: Lab) -> dict[str, Case]:
    """Each hello variant as a FROM scratch image: binary size, image size, run result."""
    cases = {}
    for variant, reason in hello.available().items():
        if reason is not None:
            cases[variant] = Case(builder="labkit", ok=False, error=reason)
            continue
        try:
            binary = hello.build(variant, lab.workdir / f"hello-{variant}")
        except LabkitError as err:              # e.g. the compiler is there but fails
            cases[variant] = Case(builder="labkit", ok=False, error=str(err))
            continue
        info = hello.describe(binary)
        image = oci.Image([[oci.Entry.file("hello", source=binary, mode=0o755, mtime=0)]],
                          cmd=["/hello"])
        case, _ = _loaded_case(lab, image, variant)
        case.extra.update(binary_size=info.size, static=info.static,
                          interpreter=info.interpreter)
        cases[variant] = case
    return cases


def era_1_4(lab: Lab) -> dict[str, Case]:
    """The hello image in the pre-1.10 layout on the old scratch layer, loaded."""
    case, _ = _loaded_case(lab, _hello_image("1.4"), "labkit-1.4")
    case.extra["format"] = "docker-v1"
    return {"labkit-1.4": case}


def _busybox_layer() -> list:
    entries = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", source=BUSYBOX, mode=0o755)]
    entries += [oci.Entry.symlink(f"bin/{applet}", "busybox") for applet in APPLETS]
    entries += [oci.Entry.dir("data"), oci.Entry.file("data/notes.txt", NOTES, mode=0o644)]
    return entries


def busybox_whiteout(lab: Lab) -> dict[str, Case]:
    """A busybox base image FROM scratch, then a second layer that deletes a file."""
    if not BUSYBOX.is_file():
        reason = f"{BUSYBOX} is missing; install Debian's busybox-static"
        return {name: Case(builder="labkit", ok=False, error=reason) for name in ("base", "whiteout")}
    shell = ["/bin/sh", "-c", "echo hello from busybox; ls /data | wc -l"]
    base = [_busybox_layer()]
    images = {"base": oci.Image(base, cmd=shell),
              "whiteout": oci.Image(base + [[oci.Entry.whiteout("data/notes.txt")]], cmd=shell)}
    cases = {}
    for name, image in images.items():
        case, _ = _loaded_case(lab, image, name)
        case.extra.update(busybox_size=BUSYBOX.stat().st_size, applets=list(APPLETS),
                          deleted="/data/notes.txt" if name == "whiteout" else None,
                          layer_sizes=[row["size"] for row in case.history])
        cases[name] = case
    return cases


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("empty-labkit", "labkit's zero-layer image, loaded and run", empty_labkit),
    Scenario("empty-import", "docker import of an empty tar", empty_import),
    Scenario("empty-dockerfile", "a Dockerfile that is only FROM scratch, both builders",
             empty_dockerfile),
    Scenario("hello-legacy", "tiny hello COPY'd FROM scratch, legacy builder", hello_legacy),
    Scenario("hello-buildkit", "tiny hello COPY'd FROM scratch, BuildKit", hello_buildkit),
    Scenario("hello-variants", "every hello variant buildable here, as an image", hello_variants),
    Scenario("era-1.4", "the Docker 1.4 era tarball (two-layer history), loaded", era_1_4),
    Scenario("busybox-whiteout", "busybox FROM scratch, then a layer that deletes a file",
             busybox_whiteout),
)}


def get(name: str) -> Scenario:
    """The scenario called ``name``.

    Raises:
        LabkitError: there is none (the message lists the names).
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        raise LabkitError(f"unknown scenario {name!r}", hint="choose one of " + ", ".join(SCENARIOS)) from None


def run(name: str, engine, workdir: str | Path) -> dict[str, Case]:
    """Run scenario ``name`` on ``engine`` in the empty directory ``workdir`` (made if missing).

    Removes the images it tagged afterwards, whatever happened.

    Example:
        >>> run("empty-import", eng, "/tmp/w")["empty-1024"].diff_ids  # doctest: +SKIP
        ['sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef']
    """
    scenario = get(name)
    lab = Lab(engine, Path(workdir), name)
    lab.workdir.mkdir(parents=True, exist_ok=True)
    try:
        return scenario.func(lab)
    finally:
        for tag in lab.tags:
            try:
                engine.remove(tag)
            except EngineError:
                pass  # never made (the build or load failed)
