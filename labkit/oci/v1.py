"""The pre-1.10 (Docker 1.4) ``docker save`` layout: a chain of v1 images, each a folder
with ``VERSION``, ``json`` and ``layer.tar``, linked by ``parent`` IDs and starting at
the pre-1.5 scratch image ``511136ea3c5a…``.

Functions here take a ``labkit.oci.image.Image`` (not imported: the image module
imports this one).

Example:
    >>> from labkit.oci.image import Image
    >>> [layer_id[:12] for layer_id, _, _ in v1_chain(Image())][0]
    '511136ea3c5a'
"""
from __future__ import annotations

import hashlib

from labkit.oci.digest import EPOCH_1970, SCRATCH_LAYER_ID, go_json, sha256_digest
from labkit.oci.tarlayer import layer_tar

SCRATCH_V1_JSON = {
    "id": SCRATCH_LAYER_ID, "comment": "Imported from -",
    "created": "2013-06-13T14:03:50.821769-07:00",
    "container_config": {"Hostname": "", "Domainname": "", "User": "", "Memory": 0,
                         "MemorySwap": 0, "CpuShares": 0, "AttachStdin": False,
                         "AttachStdout": False, "AttachStderr": False, "PortSpecs": None,
                         "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
                         "Cmd": None, "Dns": None, "Image": "", "Volumes": None,
                         "VolumesFrom": "", "Entrypoint": None},
    "docker_version": "0.4.0", "architecture": "x86_64", "Size": 0,
}


def _go_list(values) -> str:
    """How Go's ``%v`` prints a string slice: ``[/bin/sh -c echo hi]``."""
    return "[" + " ".join(values) + "]"


def config_steps(image) -> list[tuple[str, dict]]:
    """The image's config as Docker 1.4 committed it, one instruction at a time:
    ``(comment, config after it)`` for ENV, USER, WORKDIR, ENTRYPOINT and CMD, in that order
    (the comments as Docker 1.4's builder wrote them, ``builder/dispatchers.go``).

    Example:
        >>> from labkit.oci.image import Image
        >>> [comment for comment, _ in config_steps(Image(cmd=["/hello"]))]
        ['CMD [/hello]']
    """
    config = {"Env": None, "Cmd": None, "WorkingDir": "", "Entrypoint": None}
    steps = []
    if image.env:
        config = {**config, "Env": list(image.env)}
        steps.append(("ENV " + " ".join(image.env), config))
    if image.user:
        config = {**config, "User": image.user}
        steps.append((f"USER {image.user}", config))
    if image.workdir:
        config = {**config, "WorkingDir": image.workdir}
        steps.append((f"WORKDIR {image.workdir}", config))
    if image.entrypoint:
        config = {**config, "Entrypoint": list(image.entrypoint)}
        steps.append((f"ENTRYPOINT {_go_list(image.entrypoint)}", config))
    if image.cmd:
        config = {**config, "Cmd": list(image.cmd)}
        steps.append((f"CMD {_go_list(image.cmd)}", config))
    return steps


def v1_chain(image) -> list[tuple[str, bytes, int | None]]:
    """The v1 images bottom-up as ``(id, json bytes, labkit layer index or None)``.

    Before Docker 1.10 every Dockerfile instruction committed an image of its own, CMD
    included, each with a layer (empty when the instruction changed no file) and a
    random ID. The chain here starts at the pre-1.5 scratch image, then has one image
    per layer (with an empty config, as after ``COPY``), then one per config instruction
    (:func:`config_steps`); an image with neither gets one empty image on top. The IDs
    are derived from the content, not random, so the same image gives the same bytes.
    """
    chain = [(SCRATCH_LAYER_ID, go_json(SCRATCH_V1_JSON), None)]
    empty_config = {"Env": None, "Cmd": None, "WorkingDir": "", "Entrypoint": None}
    history = image.history_entries()
    steps: list[tuple[int | None, str, dict]] = [
        (index, history[index].get("created_by", "") if index < len(history) else "", empty_config)
        for index in range(len(image.layers))]
    steps += [(None, "#(nop) " + comment, config) for comment, config in config_steps(image)]
    if not steps:
        steps = [(None, "", empty_config)]
    empty_diff_id = sha256_digest(layer_tar([]))
    for index, created_by, config in steps:
        diff_id = image.diff_ids[index] if index is not None else empty_diff_id
        if index is not None and not created_by.startswith("#(nop)"):
            created_by = "#(nop) " + created_by
        body = {"parent": chain[-1][0], "created": image.created or EPOCH_1970,
                "container_config": {"Cmd": ["/bin/sh", "-c", created_by]},
                "config": config, "architecture": image.architecture, "os": "linux"}
        layer_id = hashlib.sha256(go_json(body) + diff_id.encode()).hexdigest()
        chain.append((layer_id, go_json({"id": layer_id, **body}), index))
    return chain


def v1_empty_layer() -> bytes:
    """The layer.tar of a layer with no files (1024 NUL bytes)."""
    return layer_tar([])
