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


def v1_chain(image) -> list[tuple[str, bytes, int | None]]:
    """The v1 layers bottom-up as ``(id, json bytes, labkit layer index or None)``.

    The chain starts at the pre-1.5 scratch layer; an image with no layers gets one
    empty layer on top, to carry its config.
    """
    chain = [(SCRATCH_LAYER_ID, go_json(SCRATCH_V1_JSON), None)]
    indexes = list(range(len(image.layers))) or [None]
    config = {"Env": image.env, "Cmd": image.cmd, "WorkingDir": image.workdir or "",
              "Entrypoint": image.entrypoint}
    history = image.history_entries()
    for position, index in enumerate(indexes):
        diff_id = image.diff_ids[index] if index is not None else sha256_digest(layer_tar([]))
        created_by = history[position].get("created_by", "") if position < len(history) else ""
        body = {"parent": chain[-1][0], "created": image.created or EPOCH_1970,
                "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) " + created_by]},
                "config": config, "architecture": image.architecture, "os": "linux"}
        layer_id = hashlib.sha256(go_json(body) + diff_id.encode()).hexdigest()
        chain.append((layer_id, go_json({"id": layer_id, **body}), index))
    return chain


def v1_empty_layer() -> bytes:
    """The layer.tar of a layer with no files (1024 NUL bytes)."""
    return layer_tar([])
