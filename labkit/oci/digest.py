"""Digests, media types and the constants every image format shares.

Example:
    >>> sha256_digest(bytes(1024)) == EMPTY_LAYER_DIFF_ID
    True
"""
from __future__ import annotations

import hashlib
import json

EPOCH_1970 = "1970-01-01T00:00:00Z"
EMPTY_LAYER_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
SCHEMA1_EMPTY_GZIP_DIGEST = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
SCRATCH_LAYER_ID = "511136ea3c5a64f264b78b5433614aec563103b4d4702f3ba7d4d2698e22c158"
DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = OCI_LAYER + "+gzip"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYOUT = b'{"imageLayoutVersion": "1.0.0"}'


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hex_of(digest: str) -> str:
    """The hex part of ``sha256:<hex>``."""
    return digest.split(":", 1)[1]


def go_json(value) -> bytes:
    """Compact JSON as Go's encoding/json writes it (keys in the given order, no spaces).

    Example:
        >>> go_json({"b": 1, "a": [None, "<"]})
        b'{"b":1,"a":[null,"\\\\u003c"]}'
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.encode()
