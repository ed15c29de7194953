"""Checkers of notebook 02, a static hello: your own tiny hello (02.1), the smallest layer
(02.2); the multi-stage Dockerfile (02.3) is :mod:`labkit.checks.multi_stage`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from labkit import hello, oci
from labkit.checks.verdict import Verdict, _short, exists, unanswered, verdict
from labkit.errors import LabkitError


def check_02_1(path) -> Verdict:
    """A tiny hello with a message of your own, written to ``path``."""
    if path is None:
        return unanswered("02.1", "the path of your hello binary")
    p = Path(path) if isinstance(path, (str, os.PathLike)) and exists(path) else None
    if p is None or not p.is_file():
        return verdict("02.1", False, f"There is no file at {_short(path)}.",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    data = p.read_bytes()
    if not data.startswith(b"\x7fELF"):
        return verdict("02.1", False, f"{path} is not an ELF program.", "use labkit.hello.build(\"tiny\", ...)")
    if hello.DEFAULT_MESSAGE in data:
        return verdict("02.1", False, "It still prints the default message.",
                        "pass message=b\"your text\\n\" to labkit.hello.build")
    try:
        info = hello.describe(p)
    except LabkitError as err:
        return verdict("02.1", False, f"labkit could not read {path}: {err}",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    if not info.static:
        return verdict("02.1", False, "This program is dynamic; it would not run in a FROM scratch image.",
                        "the tiny variant is static: labkit.hello.build(\"tiny\", ...)")
    if info.message_len is None:
        return verdict("02.1", False, f"A static program of {info.size:,} bytes, but not labkit's tiny hello.",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    return verdict("02.1", True, f"A static program of {info.size:,} bytes with your own "
                   f"{info.message_len}-byte message.")


def check_02_2(layer_size: Callable[[int], int] | None) -> Verdict:
    """A function: file size in bytes -> smallest possible layer tar holding just that file."""
    if layer_size is None:
        return unanswered("02.2", "a function, e.g. def layer_size(n): return ...")
    if not callable(layer_size):
        return verdict("02.2", False, "Pass the function itself, not a number.",
                        "def layer_size(n): ..., then check_02_2(layer_size)")
    for n in (150, 13376, 512, 513, 1, 0):
        try:
            got = layer_size(n)
        except Exception as err:  # the learner's code: report, never crash the check
            return verdict("02.2", False, f"layer_size({n}) raised {type(err).__name__}: {err}")
        want = oci.one_file_layer_size(n)
        if got != want:
            hint = {0: "an empty file still needs its header and the end-of-archive blocks",
                    512: "512 bytes fill exactly one block: no padding block is added",
                    513: "513 bytes need two data blocks"}.get(
                n, "one 512-byte header, the data padded up to whole 512-byte blocks, two zero blocks at the end")
            return verdict("02.2", False, f"layer_size({n}) gives {got!r}; the floor is different.", hint)
    return verdict("02.2", True, "Header + data in 512-byte blocks + 1024 bytes of end marker: "
                    "a 150-byte program needs a 2,048-byte layer.")
