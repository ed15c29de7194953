"""Checker 02.3: a multi-stage Dockerfile that builds the lab's hello and ships it alone.

Judged by reading the Dockerfile (:mod:`labkit.checks.dockerfile`) the way the builder
and the runtime would act on it, not by building it (that needs a registry). It passes
when the build would work with the lab's build context (``hello.c`` and ``message.h``,
as :func:`labkit.hello.write_context` writes them) and the image would start.

Example:
    >>> check_02_3("FROM gcc:13 AS b\\nCOPY . .\\nRUN gcc -static -o /hello hello.c\\n"
    ...            "FROM scratch\\nCOPY --from=b /hello /\\nCMD [\\"/hello\\"]").passed
    True
"""
from __future__ import annotations

import fnmatch
import posixpath

from labkit.checks.build_stage import bind_mounts, folders, install_problem, missing_libc
from labkit.checks.dockerfile import Compile, Copy, Stage, command, compiles, copies, lineage, parse
from labkit.checks.verdict import Verdict, unanswered, verdict

#: The files of the lab's build context that the compile needs (hello.c includes message.h).
SOURCES = ("hello.c", "message.h")


def check_02_3(dockerfile) -> Verdict:
    """A multi-stage Dockerfile: compile statically in a first stage, copy the binary into
    scratch, run it in the exec form."""
    if dockerfile is None:
        return unanswered("02.3", "your Dockerfile as a string")
    if not isinstance(dockerfile, str):
        return verdict("02.3", False, f"Pass the Dockerfile as a string, not a {type(dockerfile).__name__}.",
                       'a triple-quoted string: """FROM ... """')
    stages = parse(dockerfile)
    if len(stages) < 2:
        return verdict("02.3", False, f"This has {len(stages)} FROM line(s); a multi-stage build has two or more.",
                       "FROM debian:bookworm AS build ... then FROM scratch")
    final = stages[-1]
    if final.base.lower() != "scratch":
        return verdict("02.3", False, "The last stage is what you ship, and it is not FROM scratch.",
                       "end with FROM scratch")
    by_ref = {s.name: s for s in stages[:-1] if s.name} | {str(s.index): s for s in stages[:-1]}
    picked = [c for c in copies(final) if c.source_stage in by_ref]
    if not picked:
        named = next((s.name for s in stages[:-1] if s.name), None)
        return verdict("02.3", False, "The scratch stage never copies from the build stage.",
                       f"COPY --from={named or 0} /hello /hello")
    failed = _build_stage(stages, by_ref[picked[-1].source_stage])
    if failed:
        return failed
    chain = lineage(by_ref[picked[-1].source_stage], stages)
    found = _landing(picked, [c for s in chain for c in compiles(s)])
    if isinstance(found, Verdict):
        return found
    program, compile_ = found
    known = folders(lineage(by_ref[picked[-1].source_stage], stages))
    if compile_.output and known is not None and posixpath.dirname(compile_.output) not in known:
        folder = posixpath.dirname(compile_.output)
        return verdict("02.3", False, f"The compiler writes {compile_.output}, but {folder} does not exist in the "
                       "build stage: gcc cannot open the output file.", f"RUN mkdir -p {folder}, or WORKDIR {folder}")
    if not compile_.static:
        return verdict("02.3", False, "The program is linked dynamically: in scratch it fails with "
                       "'no such file or directory', because its loader is not there.",
                       "add -static to the compile command")
    return _final_stage(final, program) or verdict(
        "02.3", True, "Compile where the tools are, statically, and ship only the program: the final "
        f"image holds one file, {program}, and runs it.")


def _build_stage(stages: list[Stage], build: Stage) -> Verdict | None:
    """Why the build stage (with the stages it starts from) cannot compile hello.c."""
    chain = lineage(build, stages)
    runs = [c for s in chain for c in compiles(s)]
    if not runs:
        return verdict("02.3", False, f"The {build.name or 'first'} stage never compiles hello.c.",
                       "RUN gcc -static -o /hello hello.c")
    if all(s.has_compiler() is False for s in chain):
        return verdict("02.3", False, f"{chain[0].base} has no C compiler, and the build stage never installs one.",
                       "RUN apt-get update && apt-get install -y gcc libc6-dev (or start FROM gcc:13)")
    stuck = install_problem(chain)
    if stuck:
        return verdict("02.3", False, *stuck)
    lacking = missing_libc(chain)
    if lacking == "glibc-static":
        return verdict("02.3", False, "Fedora's gcc links statically only with the package glibc-static: "
                       "without it, gcc -static stops with 'cannot find -lc'.", "install glibc-static too")
    if lacking:
        return verdict("02.3", False, f"The compiler comes without a C library to link (the package {lacking}): "
                       "gcc stops at hello.c's #include <unistd.h>, or at the link.", f"install {lacking} too")
    where = _context_files([c for s in chain for c in copies(s) if c.source_stage is None]
                           + [Copy(["."], target + "/", {}, True) for s in chain for target in bind_mounts(s)])
    if "hello.c" not in where:
        return verdict("02.3", False, "The build stage never gets hello.c from the build context.",
                       "COPY hello.c message.h ./ before compiling")
    if "message.h" not in where:
        return verdict("02.3", False, "hello.c starts with #include \"message.h\", and the build stage never "
                       "copies message.h: gcc stops with 'message.h: No such file or directory'.",
                       "COPY hello.c message.h ./")
    if posixpath.dirname(where["hello.c"]) != posixpath.dirname(where["message.h"]):
        return verdict("02.3", False, f"message.h lands in {posixpath.dirname(where['message.h'])}, not beside "
                       f"hello.c in {posixpath.dirname(where['hello.c'])}: #include \"...\" looks beside the "
                       "source first.", "COPY hello.c message.h ./")
    return None


def _context_files(copies_: list[Copy]) -> dict[str, str]:
    """Where each of :data:`SOURCES` lands in the build stage (the later copy wins)."""
    where: dict[str, str] = {}
    for copy in copies_:
        for source in copy.sources:
            clean = posixpath.normpath(source).lstrip("/")
            for name in SOURCES:
                if clean in (".", "") or fnmatch.fnmatch(name, clean):
                    whole_folder = clean in (".", "")
                    where[name] = posixpath.join(copy.dest, name) if whole_folder else (
                        posixpath.join(copy.dest, name) if copy.dest_is_dir or len(copy.sources) > 1
                        or "*" in clean or "?" in clean else copy.dest)
    return where


def _landing(picked: list[Copy], runs: list[Compile]) -> tuple[str, Compile] | Verdict:
    """``(where the program lands in the final image, the compile that made it)``, or why
    the scratch stage copies something else."""
    for copy in reversed(picked):
        for source in copy.sources:
            path = posixpath.normpath("/" + source.lstrip("/"))   # --from paths start at the stage's root
            if path == "/":
                return verdict("02.3", False, "COPY --from=... / copies the build stage's whole filesystem "
                               "(a compiler and a distribution) into scratch.", "copy only the program")
            if path.endswith((".c", ".h")):
                return verdict("02.3", False, f"{source} is source code; scratch has no compiler to run it.",
                               "copy the program the compiler wrote (its -o path)")
            for run in reversed(runs):
                if run.output is None:
                    return copy.lands(source), run
                if run.output == path or fnmatch.fnmatch(run.output, path):
                    return copy.lands(run.output if "*" in path or "?" in path else source), run
                if run.output.startswith(path + "/"):
                    return posixpath.join(copy.dest, posixpath.relpath(run.output, path)), run
    outputs = [r.output for r in runs if r.output]
    sources = [s for c in picked for s in c.sources]
    return verdict("02.3", False, f"The scratch stage copies {', '.join(sources)}, but the compiler writes "
                   f"the program to {outputs[-1]}.", f"COPY --from=... {outputs[-1]} /hello")


def _final_stage(final: Stage, program: str) -> Verdict | None:
    """Why the scratch stage would not start ``program``."""
    if final.lines("RUN"):
        return verdict("02.3", False, "RUN in the scratch stage needs a shell that is not there.",
                       "compile in the first stage; only COPY into scratch")
    found = command(final)
    if found is None or found[1] == []:
        return verdict("02.3", False, "The image has no command to run.", f"ENTRYPOINT [\"{program}\"]")
    keyword, argv = found
    if argv is None:
        return verdict("02.3", False, f"That is the shell form ({keyword} without a JSON list of strings in "
                       "double quotes): it runs /bin/sh -c ..., and scratch has no shell.",
                       f"use the exec form: {keyword} [\"{program}\"]")
    workdir = final.workdirs[-1] if final.workdirs else "/"
    if "/" in argv[0]:
        runs = posixpath.normpath(posixpath.join(workdir, argv[0])) == program
    else:
        runs = program in (posixpath.join(d, argv[0]) for d in final.env_path().split(":"))
    if not runs:
        return verdict("02.3", False, f"{keyword} runs {argv[0]}, but the program lands at {program}.",
                       f"{keyword} [\"{program}\"]")
    users = final.lines("USER")
    names = users[-1].split(":") if users else []
    landed = {c.lands(s) for c in copies(final) for s in c.sources}
    landed |= {"/etc/passwd", "/etc/group"} if any(c.dest.rstrip("/") == "/etc" for c in copies(final)) else set()
    for kind, file, name in zip(("user", "group"), ("/etc/passwd", "/etc/group"), names):
        if not name.isdigit() and file not in landed:
            return verdict("02.3", False, f"USER {users[-1]}: scratch has no {file}, so the runtime answers "
                           f"'unable to find {kind} {name}'.", "name them by number: USER 65534:65534")
    mode = next((_mode(c.options["chmod"]) for c in copies(final) if "chmod" in c.options and any(
        c.lands(s) == program or program.startswith(c.dest.rstrip("/") + "/") for s in c.sources)), None)
    root = not names or names[0] == "0"
    if mode is not None and not mode & (0o111 if root else 0o001):
        return verdict("02.3", False, f"--chmod={mode:o} leaves {program} without the execute bit "
                       f"{'anyone has' if root else 'that user needs'}: 'permission denied'.", "--chmod=755")
    return None


def _mode(text: str | None) -> int | None:
    """An octal ``--chmod`` value as a number (None for none, or a symbolic one)."""
    try:
        return int(text, 8) if text else None
    except ValueError:
        return None
