"""Checkers of notebook 01, the empty image: a new date and the image ID (01.1), the
digest of the ``tar`` program's empty archive (01.2), the empty image as an OCI layout
(01.3).

Example:
    >>> check_01_1(True).passed
    True
"""
from __future__ import annotations

import hashlib
import re

from labkit import oci
from labkit.oci.gzipped import EMPTY_GZIP_BUILDKIT
from labkit.checks.verdict import (Verdict, bool_answer, in_work, inspect_answer, text_answer, unanswered,
                                   verdict)

#: The diff_id of the 10,240 zero bytes GNU tar (and Python's tarfile) write for an empty archive.
TAR_EMPTY_DIFF_ID = "sha256:" + hashlib.sha256(bytes(10240)).hexdigest()
#: BuildKit's compressed empty layer, 4f4fb700… (labkit.oci.gzipped).
BUILDKIT_EMPTY_GZIP_HEX = hashlib.sha256(EMPTY_GZIP_BUILDKIT).hexdigest()
#: Look-alikes: hex digest -> why it is not the answer.
LOOK_ALIKES = {
    oci.EMPTY_LAYER_DIFF_ID.split(":")[1]:
        "That is the one the step showed: 1,024 zero bytes, the two end-of-archive blocks. The `tar` program "
        "pads its archive to a whole record of 20 blocks: 10,240 bytes, all zero, and so another digest.",
    hashlib.sha256(b"").hexdigest(): "That is the digest of zero bytes, not of an empty tar archive.",
    oci.SCHEMA1_EMPTY_GZIP_DIGEST.split(":")[-1]:
        "That is the gzipped empty tar (schema 1); a diff_id is taken before compression.",
    BUILDKIT_EMPTY_GZIP_HEX: "That is BuildKit's gzipped empty layer (4f4fb700…); a diff_id is taken before compression.",
    hashlib.sha256(b"0" * 10240).hexdigest(): "Those are 10,240 characters \"0\" (byte 0x30), not zero bytes.",
    hashlib.sha256(b"\\0" * 10240).hexdigest(): "That hashes the two characters \\ and 0, repeated: write b\"\\0\" "
                                                "(one zero byte), or bytes(10240).",
    hashlib.sha256(bytes(10240 * 2)).hexdigest(): "That is 20,480 zero bytes: one record is 10,240.",
    hashlib.sha256(bytes(512)).hexdigest(): "That is one 512-byte block; an archive ends with two, padded to a record.",
}


def check_01_1(changes) -> Verdict:
    """Predict: if only the ``created`` date changes, does the image ID change? (True/False)"""
    if changes is None:
        return unanswered("01.1", "True or False")
    answer, failed = bool_answer("01.1", changes)
    if failed:
        return failed
    if answer:
        return verdict("01.1", True, "Yes: the image ID is the sha256 of the config JSON, and the date is "
                       "in it. Change the date in your by-hand cell and run it: a new ID.")
    return verdict("01.1", False, "It does change.", "change the date in your by-hand cell, run it again, and "
                   "compare the two IDs")


def check_01_2(digest) -> Verdict:
    """The diff_id of the ``tar`` program's empty archive (10,240 zero bytes), computed with
    ``hashlib``."""
    if digest is None:
        return unanswered("01.2", "a string like \"sha256:...\"")
    if hasattr(digest, "hexdigest") and hasattr(digest, "name"):
        return verdict("01.2", False, "That is the hash object; the answer is its digest, as text.",
                       "\"sha256:\" + hashlib.sha256(...).hexdigest()")
    text, failed = text_answer("01.2", digest, "a string like \"sha256:...\"")
    if failed:
        return failed
    answer = "".join(text.split()).strip("\"'`").lower()
    algorithm, _, hex_part = answer.rpartition(":")
    if not re.fullmatch(r"[0-9a-f]{64}", hex_part):
        if re.fullmatch(r"[0-9a-f]{128}", hex_part):
            return verdict("01.2", False, "That is a sha512 digest; image digests here are sha256.",
                           "hashlib.sha256(...)")
        return verdict("01.2", False, "That is not a sha256 digest (64 hex digits after \"sha256:\").",
                       "\"sha256:\" + hashlib.sha256(bytes(10240)).hexdigest() is the form")
    if hex_part == TAR_EMPTY_DIFF_ID.split(":")[1]:
        if algorithm != "sha256":
            return verdict("01.2", False, "The hex is right, but a digest names its algorithm.",
                           "write it as \"sha256:\" + hashlib.sha256(...).hexdigest()")
        return verdict("01.2", True, "10,240 zero bytes: the two end-of-archive blocks, padded with 18 more to "
                       "a whole 10 KiB record, as GNU tar and Python's tarfile write it. Empty either way, but "
                       f"not {oci.EMPTY_LAYER_DIFF_ID[:19]}…: the digest is of the bytes, not of the meaning.")
    if hex_part in LOOK_ALIKES:
        return verdict("01.2", False, LOOK_ALIKES[hex_part],
                       "tar -cf work/01/empty.tar --files-from /dev/null; then hash its bytes")
    return verdict("01.2", False, "That is not the digest of the tar program's empty archive.",
                   "tar -cf work/01/empty.tar --files-from /dev/null, then hash the file's bytes with hashlib.sha256")


def check_01_3(path) -> Verdict:
    """The empty image with Cmd ``["/hello"]``, written as an OCI layout under work/01."""
    if path is None:
        return unanswered("01.3", "the path you wrote the image to")
    info, failed = inspect_answer("01.3", path, "the image")
    if failed:
        return failed
    if not in_work(path):
        return verdict("01.3", False, f"{path} is not under work/: the exercise asks for an image you write.",
                       "write it to work/01/ex3")
    if info.format != "oci-layout":
        return verdict("01.3", False, f"This is a {info.format}, not an OCI layout.",
                       "write it with format=\"oci-dir\"")
    if info.layers:
        return verdict("01.3", False, f"This image has {len(info.layers)} layer(s); the empty image has none.",
                       "build it with labkit.oci.Image(layers=[], cmd=[...])")
    config = info.config.get("config") or {}
    cmd = config.get("Cmd")
    if cmd in ("/hello", ["/hello"]) and config.get("Entrypoint") in (None, []):
        note = " (a string; Docker reads it as the one word /hello)" if isinstance(cmd, str) else ""
        return verdict("01.3", True, f"An empty OCI layout with Cmd ['/hello']{note}: index.json, one manifest, "
                       "one config, no layers.")
    if config.get("Entrypoint") == ["/hello"] and not cmd:
        return verdict("01.3", False, "That is an Entrypoint; the exercise asks for Cmd.", "cmd=[\"/hello\"]")
    return verdict("01.3", False, f"Its Cmd is {cmd!r}, not ['/hello'].",
                   "a command is a list of strings: cmd=[\"/hello\"]")
