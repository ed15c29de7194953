"""The empty image, three ways: labkit's zero-layer image, ``docker import`` of an empty
tar, and a Dockerfile that is only ``FROM scratch``.
"""
from __future__ import annotations

import hashlib
import shutil

from labkit import machine, oci
from labkit.errors import LabkitError
from labkit.scenarios.case import Case, Lab, builder_name, no_buildkit, unsupported
from labkit.scenarios.describe import describe_image, failed, load_error, loaded_case


def empty_labkit(lab: Lab) -> dict[str, Case]:
    """labkit's zero-layer image, loaded; running it has no command to run."""
    image = oci.Image(architecture=machine.target(lab.engine).oci_arch)
    case, _ = loaded_case(lab, image, "labkit", shown=("inspect", "images", "run", "save"))
    case.extra["predicted_id"] = image.image_id
    return {"labkit": case}


#: How each empty tar is made, as a learner would type it: 1,024 zero bytes (the two
#: end-of-archive blocks), and what ``tar`` writes for an archive of nothing (GNU tar and
#: bsdtar pad it to a 10,240-byte record).
EMPTY_TARS = {"empty-1024": (1024, ["truncate", "-s", "1024", "empty-1024.tar"]),
              "gnu-tar-10240": (10240, ["tar", "-cf", "gnu-tar-10240.tar", "-T", "/dev/null"])}


def empty_import(lab: Lab) -> dict[str, Case]:
    """``docker import`` of an empty tar: 1024 NUL bytes, and the 10 KiB ``tar cf`` writes."""
    cases = {}
    for name, (size, command) in EMPTY_TARS.items():
        path = lab.workdir / f"{name}.tar"
        made = lab.local(name, command) if shutil.which(command[0]) else None
        if made is None or made.exit_code != 0 or not path.is_file():
            path.write_bytes(bytes(size))      # no such program here: the same bytes, written by labkit
        data = path.read_bytes()
        tag = lab.tag(name)
        run = lab.docker(name, ["import", path.name, tag])
        lab.engine.remember(tag)
        if run.exit_code != 0:
            cases[name] = failed(lab, name, "import", load_error(run.output), f"{name}.tar")
            continue
        case, _ = describe_image(lab, name, tag, "import", engine_assigned=("image_id", "save"),
                                 shown=("layers", "images"))
        case.extra.update(tar_bytes=len(data), tar_sha256="sha256:" + hashlib.sha256(data).hexdigest())
        cases[name] = case
    return cases


def empty_dockerfile(lab: Lab) -> dict[str, Case]:
    """A Dockerfile that is only ``FROM scratch``, with each builder."""
    context = lab.workdir / "context"
    context.mkdir()
    (context / "Dockerfile").write_bytes(b"FROM scratch\n")
    cases = {}
    for builder in ("legacy", "buildkit"):
        if builder == "buildkit" and lab.engine.facts.family == "podman":
            cases[builder] = unsupported(lab, builder, builder, no_buildkit(lab.engine))
            continue
        tag = lab.tag(builder)
        made_by = builder_name(lab.engine, builder)
        try:
            lab.engine.build(context, tag, builder=builder, label=False,
                             transcript=lab.transcript(builder))
        except LabkitError as err:
            cases[builder] = failed(lab, builder, made_by, err, tag)
            continue
        stamped = ("image_id", "save") if lab.engine.facts.family == "podman" else ()  # Buildah dates it
        case, _ = describe_image(lab, builder, tag, made_by, engine_assigned=stamped,
                                 shown=("inspect", "images", "run"))
        if builder == "buildkit":
            case.extra["predicted_id"] = oci.Image.buildkit_scratch(
                lab.engine.facts.tar_era, machine.target(lab.engine).oci_arch).image_id
        cases[builder] = case
    return cases
