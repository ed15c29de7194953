"""The empty image, three ways: labkit's zero-layer image, ``docker import`` of an empty
tar, and a Dockerfile that is only ``FROM scratch``.
"""
from __future__ import annotations

import hashlib

from labkit import machine, oci
from labkit.errors import EngineError, LabkitError
from labkit.scenarios.case import Case, Lab
from labkit.scenarios.describe import describe_image, failed, loaded_case


def empty_labkit(lab: Lab) -> dict[str, Case]:
    """labkit's zero-layer image, loaded; running it has no command to run."""
    image = oci.Image(architecture=machine.target(lab.engine).oci_arch)
    case, _ = loaded_case(lab, image, "labkit")
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
            cases[name] = failed("import", err, f"{name}.tar")
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
            cases[builder] = failed(builder, err, tag)
            continue
        case, _ = describe_image(lab, tag, builder)
        if builder == "buildkit":
            case.extra["predicted_id"] = oci.Image.buildkit_scratch(
                lab.engine.facts.tar_era, machine.target(lab.engine).oci_arch).image_id
        cases[builder] = case
    return cases
