"""Checkers of notebook 02, a static hello."""
from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import Callable

from labkit import hello, oci
from labkit.checks.dockerfile import compiles_static, copy_from, parse
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


#: The dynamic loader a glibc program asks for, by machine (the paths PT_INTERP holds).
LOADERS = {"x86_64": ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
           "aarch64": ("/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1")}


def check_02_2(interpreter) -> Verdict:
    """The path of the program the kernel must load before the dynamic hello can start
    (the x86_64 one of the recordings, or this machine's own)."""
    if interpreter is None:
        return unanswered("02.2", "a path like \"/lib/...\"")
    answer = str(interpreter).strip()
    here = platform.machine().lower().replace("arm64", "aarch64").replace("amd64", "x86_64")
    accepted = set(LOADERS["x86_64"]) | set(LOADERS.get(here, ()))
    if answer in accepted:
        return verdict("02.2", True, "The dynamic loader, named in the ELF's PT_INTERP header: the kernel "
                       "looks for it in the image, finds nothing, and the run fails.")
    if answer in {p for paths in LOADERS.values() for p in paths}:
        return verdict("02.2", False, "That is the loader for another processor than the one the "
                       "dynamic hello was built for.", "labkit.hello.describe(path).interpreter tells you")
    if "/" not in answer and answer.startswith("ld-"):
        return verdict("02.2", False, "Right file, but the kernel needs its full path, as PT_INTERP names it.",
                       "/lib64/" + answer if "x86-64" in answer else "look at the interpreter column of the table")
    if "libc" in answer:
        return verdict("02.2", False, "libc is missing too, but the kernel never gets that far.",
                       "look at the interpreter the program asks for: labkit.hello.describe(path)")
    if "musl" in answer:
        return verdict("02.2", False, "That is musl's loader; the dynamic hello was linked with GNU libc.",
                       "labkit.hello.describe(path).interpreter tells you")
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
    """A multi-stage Dockerfile: compile statically in a first stage, copy the binary into
    scratch. Judged by reading it (see ``labkit.checks.dockerfile``), not by building it."""
    if dockerfile is None:
        return unanswered("02.4", "your Dockerfile as a string")
    if not isinstance(dockerfile, str):
        return verdict("02.4", False, f"Pass the Dockerfile as a string, not a {type(dockerfile).__name__}.",
                       'a triple-quoted string: """FROM ... """')
    stages = parse(dockerfile)
    if len(stages) < 2:
        return verdict("02.4", False, f"This has {len(stages)} FROM line(s); a multi-stage build has two or more.",
                       "FROM debian:bookworm AS build ... then FROM scratch")
    final = stages[-1]
    if final.base.lower() != "scratch":
        return verdict("02.4", False, "The last stage is what you ship, and it is not FROM scratch.",
                       "end with FROM scratch")
    sources = copy_from(final)
    by_ref = {s.name: s for s in stages[:-1] if s.name} | {str(s.index): s for s in stages[:-1]}
    if not sources or not any(ref in by_ref for ref, _ in sources):
        named = next((s.name for s in stages[:-1] if s.name), None)
        return verdict("02.4", False, "The scratch stage never copies from the build stage.",
                       f"COPY --from={named or 0} /hello /hello")
    ref, args = next((r, a) for r, a in sources if r in by_ref)
    build = by_ref[ref]
    compiles, static = compiles_static(build)
    if not compiles:
        return verdict("02.4", False, f"The {build.name or 'first'} stage never compiles hello.c.",
                       "RUN gcc -static -o /hello hello.c")
    if build.has_compiler() is False:
        return verdict("02.4", False, f"{build.base} has no C compiler, and the build stage never installs one.",
                       "RUN apt-get update && apt-get install -y gcc libc6-dev (or start FROM gcc:13)")
    if not static:
        return verdict("02.4", False, "The program is linked dynamically: in scratch it fails with "
                       "'no such file or directory', because its loader is not there.",
                       "add -static to the compile command")
    if not any(re.search(r"\bhello\.c\b", r) for r in build.lines("COPY") + build.lines("ADD")):
        return verdict("02.4", False, "The build stage never gets hello.c from the build context.",
                       "COPY hello.c . before compiling")
    runs = final.lines("CMD") + final.lines("ENTRYPOINT")
    if not runs:
        return verdict("02.4", False, "The image has no command to run.", "ENTRYPOINT [\"/hello\"]")
    if not all(r.startswith("[") for r in runs):
        return verdict("02.4", False, "The shell form (CMD /hello) needs /bin/sh, and scratch has no shell.",
                       "use the exec form: ENTRYPOINT [\"/hello\"]")
    if final.lines("RUN"):
        return verdict("02.4", False, "RUN in the scratch stage needs a shell that is not there.",
                       "compile in the first stage; only COPY into scratch")
    return verdict("02.4", True, "Compile where the tools are, statically, and ship only the program: "
                   f"the final image holds one file (COPY {args}).")
