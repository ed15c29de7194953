"""The hello image: labkit's tiny hello COPY'd FROM scratch by each builder, every hello
variant as an image, and the Docker 1.4 era layout.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from labkit import hello, linkmap, machine, oci
from labkit.errors import LabkitError
from labkit.scenarios.case import NOT_HERE, Case, Lab, builder_name, no_buildkit, unsupported
from labkit.scenarios.describe import describe_image, failed, loaded_case

HELLO_DOCKERFILE = b'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n'


def hello_bytes(arch: str = "x86_64") -> bytes:
    """The lab's tiny hello program for ``arch`` (170 bytes on x86_64, 176 on aarch64),
    always the same bytes."""
    return hello.tiny_elf(hello.DEFAULT_MESSAGE, arch)


def hello_context(workdir: Path, arch: str = "x86_64") -> Path:
    """A build context whose bytes and mtimes never change: Dockerfile + /hello."""
    context = workdir / "context"
    context.mkdir()
    (context / "Dockerfile").write_bytes(HELLO_DOCKERFILE)
    (context / "hello").write_bytes(hello_bytes(arch))
    os.chmod(context / "hello", 0o755)
    os.chmod(context / "Dockerfile", 0o644)
    for name in ("Dockerfile", "hello"):
        os.utime(context / name, (0, 0))
    return context


def hello_image(era: str = "modern", arch: str = "x86_64") -> oci.Image:
    """labkit's own build of the hello image for ``arch``, with the layer-tar headers of
    ``era`` (``labkit.machine.hello_image``).

    Example:
        >>> hello_image("20.10").diff_ids[0][:19]
        'sha256:afb7b93b28f3'
    """
    return machine.hello_image(era, arch)


def predicted_diff_ids(arch: str = "x86_64", eras=("modern", "20.10", "type-bits")) -> dict[str, str]:
    """The hello layer's diff_id with each era's tar headers (``type-bits``: Podman 4.3.1's).

    Example:
        >>> predicted_diff_ids()["type-bits"][:19]
        'sha256:c0f74a6878fe'
    """
    entry = oci.Entry.file("hello", hello_bytes(arch), mode=0o755, mtime=0)
    return {era: "sha256:" + hashlib.sha256(oci.layer_tar([entry], era=era)).hexdigest() for era in eras}


def _hello_build(lab: Lab, builder: str) -> dict[str, Case]:
    if builder == "buildkit" and lab.engine.facts.family == "podman":
        return {builder: unsupported(lab, builder, builder, no_buildkit(lab.engine))}
    tag = lab.tag(builder)
    arch = machine.target(lab.engine).arch                 # the engine's, not the host's
    made_by = builder_name(lab.engine, builder)
    try:
        lab.engine.build(hello_context(lab.workdir, arch), tag, builder=builder, label=False,
                         transcript=lab.transcript(builder))
    except LabkitError as err:
        return {builder: failed(lab, builder, made_by, err, tag)}
    # Buildah 1.28's history names the intermediate image of each step ("FROM 3523277eb973")
    stamped = ("image_id", "save", "history") if lab.engine.facts.family == "podman" else ("image_id", "save")
    case, top = describe_image(lab, builder, tag, made_by, engine_assigned=stamped,
                               shown=("layers", "images", "history", "run", "df"))
    case.extra["binary_size"] = len(hello_bytes(arch))
    podman = lab.engine.facts.family == "podman"
    case.extra["predicted_diff_ids"] = predicted_diff_ids(arch, ("modern", "20.10", "type-bits")[:3 if podman else 2])
    if podman:                                    # which Buildah: it labels what it builds
        labels = (lab.engine.inspect(tag).get("Config") or {}).get("Labels") or {}
        case.extra["buildah_version"] = labels.get("io.buildah.version")
    case.extra["layer_tar_headers"] = oci.tar_headers(top) if top else []
    return {builder: case}


def hello_legacy(lab: Lab) -> dict[str, Case]:
    """labkit's tiny hello COPY'd FROM scratch by the legacy builder."""
    return _hello_build(lab, "legacy")


def hello_buildkit(lab: Lab) -> dict[str, Case]:
    """labkit's tiny hello COPY'd FROM scratch by BuildKit."""
    return _hello_build(lab, "buildkit")


def hello_variants(lab: Lab) -> dict[str, Case]:
    """Each hello variant as a FROM scratch image: binary size, image size, run result.

    Built for the engine's architecture; a variant that cannot be built for it here
    (no Linux compiler for it) is marked ``NOT_HERE`` so the lesson shows its recording.
    """
    goal = machine.target(lab.engine)
    cases = {}
    for variant, reason in goal.variants.items():
        if reason is not None:
            cases[variant] = Case(builder="labkit", ok=False, error=reason, extra={NOT_HERE: reason})
            continue
        try:
            binary = hello.build(variant, lab.workdir / f"hello-{variant}", arch=goal.arch)
        except LabkitError as err:              # e.g. the compiler is there but fails
            cases[variant] = Case(builder="labkit", ok=False, error=str(err))
            continue
        info = hello.describe(binary)
        if variant == "glibc-static":       # why: the linker's map, from the start file down
            steps = linkmap.parse(hello.link_map(variant))
            cases_extra = {"members_linked": len(steps),
                           "printf_pulled_in_by": [str(s) for s in linkmap.chain(steps, "vfprintf-internal.o")]}
        else:
            cases_extra = {}
        image = oci.Image([[oci.Entry.file("hello", source=binary, mode=0o755, mtime=0)]],
                          cmd=["/hello"], architecture=goal.oci_arch)
        # docker save of the tiny one: labkit's config, so the same names every time
        shown = ("run", "save") if variant == "tiny" else ("run",)
        case, _ = loaded_case(lab, image, variant, shown=shown)
        case.extra.update(binary_size=info.size, static=info.static,
                          interpreter=info.interpreter, **cases_extra)
        cases[variant] = case
    return cases


def era_1_4(lab: Lab) -> dict[str, Case]:
    """The hello image in the pre-1.10 layout on the old scratch layer, loaded."""
    case, _ = loaded_case(lab, hello_image("1.4", machine.target(lab.engine).arch), "labkit-1.4",
                          shown=("layers", "history", "run"))
    case.extra["format"] = "docker-v1"
    if not case.ok and lab.engine.facts.family == "podman":      # by design: say so, show the recording
        case.extra[NOT_HERE] = (f"{lab.engine.facts.label} does not load the pre-1.10 layout "
                                f"(no manifest.json): {case.error}")
    return {"labkit-1.4": case}
