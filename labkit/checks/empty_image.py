"""Checkers of notebook 01, the empty image."""
from __future__ import annotations

import hashlib
import re

from labkit import oci
from labkit.oci.gzipped import EMPTY_GZIP_BUILDKIT
from labkit.checks.verdict import Verdict, inspect_answer, unanswered, verdict


#: The diff_id of the 10,240 zero bytes GNU tar writes for an empty archive.
GNU_TAR_EMPTY_DIFF_ID = "sha256:" + hashlib.sha256(bytes(10240)).hexdigest()
#: BuildKit's compressed empty layer, 4f4fb700… (labkit.oci.gzipped).
BUILDKIT_EMPTY_GZIP_HEX = hashlib.sha256(EMPTY_GZIP_BUILDKIT).hexdigest()


def check_01_1(path) -> Verdict:
    """The empty image with Cmd ``["/hello"]``, written as an OCI layout directory."""
    if path is None:
        return unanswered("01.1", "the path you wrote the image to")
    info, failed = inspect_answer("01.1", path, "the image")
    if failed:
        return failed
    if info.format != "oci-layout":
        return verdict("01.1", False, f"This is a {info.format}, not an OCI layout.",
                        "write it with format=\"oci-dir\"")
    if info.layers:
        return verdict("01.1", False, f"This image has {len(info.layers)} layer(s); the empty image has none.",
                        "build it with labkit.oci.Image(layers=[], cmd=[...])")
    cmd = (info.config.get("config") or {}).get("Cmd")
    if cmd != ["/hello"]:
        return verdict("01.1", False, f"Its Cmd is {cmd!r}, not ['/hello'].",
                        "a command is a list of strings: cmd=[\"/hello\"]")
    return verdict("01.1", True, "An empty OCI layout with Cmd ['/hello']: index.json, one manifest, "
                    "one config, no layers.")


def check_01_2(digest) -> Verdict:
    """The diff_id of an empty layer tar, computed with ``hashlib``."""
    if digest is None:
        return unanswered("01.2", "a string like \"sha256:...\"")
    digest = str(digest).strip().lower()
    if digest == oci.EMPTY_LAYER_DIFF_ID:
        return verdict("01.2", True, "That is the empty tar: 1,024 zero bytes, the two end-of-archive blocks.")
    if digest == GNU_TAR_EMPTY_DIFF_ID:
        return verdict("01.2", True, "That is an empty tar too: the 10,240 bytes GNU tar and Python's "
                       "tarfile write (they pad to a 10 KiB record). The smallest one, 1,024 zero bytes, is the famous "
                       f"{oci.EMPTY_LAYER_DIFF_ID[:19]}…; both are empty, their digests differ.")
    hex_part = digest.split(":", 1)[-1]
    if not digest.startswith("sha256:") and re.fullmatch(r"[0-9a-f]{64}", hex_part):
        return verdict("01.2", False, "The hex is there, but a digest names its algorithm.",
                        "write it as \"sha256:\" + hashlib.sha256(...).hexdigest()")
    if hex_part == hashlib.sha256(b"").hexdigest():
        return verdict("01.2", False, "That is the digest of zero bytes, not of an empty tar archive.",
                        "a tar archive always ends with two 512-byte blocks of zeros")
    if hex_part == oci.SCHEMA1_EMPTY_GZIP_DIGEST.split(":")[-1]:
        return verdict("01.2", False, "That is the gzipped empty tar (schema 1); a diff_id is taken "
                        "before compression.", "hash the uncompressed bytes")
    if hex_part == BUILDKIT_EMPTY_GZIP_HEX:
        return verdict("01.2", False, "That is BuildKit's gzipped empty layer (4f4fb700…); a diff_id is "
                        "taken before compression.", "hash the uncompressed bytes")
    return verdict("01.2", False, "That is not the digest of an empty tar archive.",
                    "hash b\"\\0\" * 1024 with hashlib.sha256 and prefix \"sha256:\"")


def check_01_3(changes) -> Verdict:
    """Does the image ID change when only the ``created`` date changes? (True/False)"""
    if changes is None:
        return unanswered("01.3", "True or False")
    if isinstance(changes, str):
        return verdict("01.3", False, f"That is the text {changes!r}; the answer is a truth value.",
                       "write True or False without quotes")
    if changes is True:
        return verdict("01.3", True, "Yes: the image ID is the sha256 of the config JSON, and the date is "
                        "in it. That is why `docker import` gives a new ID each time.")
    if changes is False:
        return verdict("01.3", False, "It does change.", "build two Image(...) with different created= "
                       "values and compare their .image_id")
    return verdict("01.3", False, f"{changes!r} is neither True nor False.", "write True or False")
