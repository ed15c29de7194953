"""Checkers of notebook 02, a static hello."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from labkit import hello, oci
from labkit.checks.verdict import Verdict, unanswered, verdict
from labkit.errors import LabkitError


def check_02_1(path) -> Verdict:
    """A tiny hello with a message of your own, written to ``path``."""
    if path is None:
        return unanswered("02.1", "the path of your hello binary")
    p = Path(path) if isinstance(path, (str, os.PathLike)) else None
    if p is None or not p.is_file():
        return verdict("02.1", False, f"There is no file at {path}.",
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
    return verdict("02.1", True, f"A static program of {info.size:,} bytes with your own message.")


def check_02_2(interpreter) -> Verdict:
    """The path of the program the kernel must load before the dynamic hello can start."""
    if interpreter is None:
        return unanswered("02.2", "a path like \"/lib/...\"")
    answer = str(interpreter).strip()
    if answer in ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"):
        return verdict("02.2", True, "The dynamic loader, named in the ELF's PT_INTERP header: the kernel "
                        "looks for it in the image, finds nothing, and the run fails.")
    if "libc" in answer:
        return verdict("02.2", False, "libc is missing too, but the kernel never gets that far.",
                        "look at the interpreter the program asks for: labkit.hello.describe(path)")
    return verdict("02.2", False, f"{answer!r} is not what the dynamic hello asks for.",
                    "labkit.hello.describe(path).interpreter tells you")


def check_02_3(layer_size: Callable[[int], int] | None) -> Verdict:
    """A function: file size in bytes -> smallest possible layer tar holding just that file."""
    if layer_size is None:
        return unanswered("02.3", "a function, e.g. def layer_size(n): return ...")
    if not callable(layer_size):
        return verdict("02.3", False, "Pass the function itself, not a number.",
                        "def layer_size(n): ..., then check_02_3(layer_size)")
    for n in (150, 13376, 512, 513, 1, 0):
        try:
            got = layer_size(n)
        except Exception as err:  # the learner's code: report, never crash the check
            return verdict("02.3", False, f"layer_size({n}) raised {type(err).__name__}: {err}")
        want = oci.one_file_layer_size(n)
        if got != want:
            hint = {0: "an empty file still needs its header and the end-of-archive blocks",
                    512: "512 bytes fill exactly one block: no padding block is added",
                    513: "513 bytes need two data blocks"}.get(
                n, "one 512-byte header, the data padded up to whole 512-byte blocks, two zero blocks at the end")
            return verdict("02.3", False, f"layer_size({n}) gives {got!r}; the floor is different.", hint)
    return verdict("02.3", True, "Header + data in 512-byte blocks + 1024 bytes of end marker: "
                    "a 150-byte program needs a 2,048-byte layer.")


def check_02_4(dockerfile) -> Verdict:
    """A multi-stage Dockerfile: compile in a first stage, copy the binary into scratch."""
    if dockerfile is None:
        return unanswered("02.4", "your Dockerfile as a string")
    lines = [ln.strip() for ln in str(dockerfile).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    froms = [ln.split() for ln in lines if ln.upper().startswith("FROM ")]
    if len(froms) < 2:
        return verdict("02.4", False, f"This has {len(froms)} FROM line(s); a multi-stage build has two or more.",
                        "FROM debian:bookworm AS build ... then FROM scratch")
    if [w.lower() for w in froms[-1][1:2]] != ["scratch"]:
        return verdict("02.4", False, "The last stage is what you ship, and it is not FROM scratch.",
                        "end with FROM scratch")
    stage = " ".join(froms[0]).lower().split(" as ")
    if len(stage) < 2:
        return verdict("02.4", False, "The first stage has no name to copy from.", "FROM debian:bookworm AS build")
    name = stage[1].split()[0]
    last = lines[max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM ")):]
    if not any(re.match(rf"COPY\s+--from={re.escape(name)}\s", ln, re.I) for ln in last):
        return verdict("02.4", False, f"The scratch stage never copies from the {name!r} stage.",
                        f"COPY --from={name} /hello /hello")
    runs = [ln for ln in last if re.match(r"(CMD|ENTRYPOINT)\s", ln, re.I)]
    if not runs:
        return verdict("02.4", False, "The image has no command to run.", "ENTRYPOINT [\"/hello\"]")
    if not all(ln.split(None, 1)[1].startswith("[") for ln in runs):
        return verdict("02.4", False, "The shell form (CMD /hello) needs /bin/sh, and scratch has no shell.",
                        "use the exec form: ENTRYPOINT [\"/hello\"]")
    if any(re.match(r"RUN\s", ln, re.I) for ln in last):
        return verdict("02.4", False, "RUN in the scratch stage needs a shell that is not there.",
                        "compile in the first stage; only COPY into scratch")
    return verdict("02.4", True, "Compile where the tools are, ship only the program: the final image "
                    "holds one file.")
