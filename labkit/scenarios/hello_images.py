"""The hello image: labkit's tiny hello COPY'd FROM scratch by each builder, every hello
variant as an image, and the Docker 1.4 era layout.
"""
from __future__ import annotations

import os
from pathlib import Path

from labkit import hello, linkmap, oci
from labkit.errors import LabkitError
from labkit.scenarios.case import Case, Lab
from labkit.scenarios.describe import describe_image, failed, loaded_case

HELLO_DOCKERFILE = b'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n'


def hello_bytes() -> bytes:
    """The lab's tiny hello program (170 bytes on x86_64), always the same bytes."""
    return hello.tiny_elf(hello.DEFAULT_MESSAGE)


def hello_context(workdir: Path) -> Path:
    """A build context whose bytes and mtimes never change: Dockerfile + /hello."""
    context = workdir / "context"
    context.mkdir()
    (context / "Dockerfile").write_bytes(HELLO_DOCKERFILE)
    (context / "hello").write_bytes(hello_bytes())
    os.chmod(context / "hello", 0o755)
    os.chmod(context / "Dockerfile", 0o644)
    for name in ("Dockerfile", "hello"):
        os.utime(context / name, (0, 0))
    return context


def hello_image(era: str = "modern") -> oci.Image:
    """labkit's own build of the hello image, with the layer-tar headers of ``era``.

    Example:
        >>> hello_image("20.10").diff_ids[0][:19]
        'sha256:afb7b93b28f3'
    """
    return oci.Image([[oci.Entry.file("hello", hello_bytes(), mode=0o755, mtime=0)]],
                     cmd=["/hello"], era=era)


def _hello_build(lab: Lab, builder: str) -> dict[str, Case]:
    tag = lab.tag(builder)
    try:
        lab.engine.build(hello_context(lab.workdir), tag, builder=builder, label=False,
                         transcript=lab.transcript(builder))
    except LabkitError as err:
        return {builder: failed(lab, builder, builder, err, tag)}
    case, top = describe_image(lab, builder, tag, builder, engine_assigned=("image_id", "save"),
                               shown=("layers", "images", "history", "run", "df"))
    case.extra["binary_size"] = len(hello_bytes())
    case.extra["predicted_diff_ids"] = {era: hello_image(era).diff_ids[0]
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
        if variant == "glibc-static":       # why: the linker's map, from the start file down
            steps = linkmap.parse(hello.link_map(variant))
            cases_extra = {"members_linked": len(steps),
                           "printf_pulled_in_by": [str(s) for s in linkmap.chain(steps, "vfprintf-internal.o")]}
        else:
            cases_extra = {}
        image = oci.Image([[oci.Entry.file("hello", source=binary, mode=0o755, mtime=0)]],
                          cmd=["/hello"])
        # docker save of the tiny one: labkit's config, so the same names every time
        shown = ("run", "save") if variant == "tiny" else ("run",)
        case, _ = loaded_case(lab, image, variant, shown=shown)
        case.extra.update(binary_size=info.size, static=info.static,
                          interpreter=info.interpreter, **cases_extra)
        cases[variant] = case
    return cases


def era_1_4(lab: Lab) -> dict[str, Case]:
    """The hello image in the pre-1.10 layout on the old scratch layer, loaded."""
    case, _ = loaded_case(lab, hello_image("1.4"), "labkit-1.4",
                          shown=("layers", "history", "run"))
    case.extra["format"] = "docker-v1"
    return {"labkit-1.4": case}
