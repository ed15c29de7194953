"""Reading a multi-stage Dockerfile for checker 02.3, where no engine can build it:
(:mod:`labkit.checks.dockerfile`) the way the builder and the runtime would act on it,
with the lab's build context (``hello.c`` and ``message.h``, as
:func:`labkit.hello.write_context` writes them). A reading cannot prove a build: only
:func:`structure`'s findings are certain; the rest is what the verdict calls "what a
reading of the file can say" (:mod:`labkit.checks.building` builds it for real).

Example:
    >>> read("FROM gcc:13 AS b\\nCOPY . .\\nRUN gcc -static -o /hello hello.c\\n"
    ...      "FROM scratch\\nCOPY --from=b /hello /\\nCMD [\\"/hello\\"]").passed
    True
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
from pathlib import Path

from labkit.checks.build_stage import bind_mounts, folders, install_problem, missing_libc
from labkit.checks.dockerfile import Compile, Copy, Stage, command, compiles, copies, lineage, parse
from labkit.checks import building, live
from labkit.checks.verdict import Verdict, exists, not_verified, text_answer, unanswered, verdict
from labkit.errors import LabkitError

#: Every instruction a Dockerfile may hold (docs.docker.com/reference/dockerfile).
INSTRUCTIONS = frozenset({"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                          "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"})
#: The files of the lab's build context that the compile needs (hello.c includes message.h).
SOURCES = ("hello.c", "message.h")


def _said(passed: bool, message: str, hint: str | None = None) -> Verdict:
    """A reading's finding (never remembered as progress)."""
    return Verdict("02.3", passed, message, hint)


def check_02_3(dockerfile) -> Verdict:
    """A multi-stage Dockerfile (the text, or the path of a file holding it): compiles
    the lab's hello.c statically in a first stage and ships the program alone FROM
    scratch. Built, run and read on the engine (:mod:`labkit.checks.building`); with no
    engine, "not built here" and what a reading can say, recorded as unverified."""
    if dockerfile is None:
        return unanswered("02.3", "your Dockerfile as a string")
    text, failed = _text(dockerfile)
    if failed:
        return failed
    wrong = structure(parse(text))
    if wrong:
        return verdict("02.3", False, wrong.message, wrong.hint)
    eng = live.engine()
    if eng is None:
        return not_verified("02.3", "no Docker engine answers here", _reading(text))
    try:
        found = building.judge(eng, text)
    except LabkitError as err:
        return not_verified("02.3", f"the engine could not build it: {err}", _reading(text))
    finally:
        live.close(eng)
    if found.outside:
        return not_verified("02.3", found.outside, _reading(text))
    return verdict("02.3", found.passed, found.message, found.hint)


def _text(dockerfile) -> tuple[str | None, Verdict | None]:
    """The Dockerfile's text: a string, bytes, its lines, or the path of a file that holds it."""
    if isinstance(dockerfile, (list, tuple)) and dockerfile and all(isinstance(x, str) for x in dockerfile):
        dockerfile = "\n".join(line.rstrip("\n") for line in dockerfile) + "\n"
    if isinstance(dockerfile, (str, bytes, os.PathLike)) and not (isinstance(dockerfile, str) and "\n" in dockerfile):
        path = Path(os.fsdecode(dockerfile)) if not isinstance(dockerfile, bytes) else None
        if path is not None and exists(path) and path.is_file():
            try:
                return path.read_text(encoding="utf-8", errors="replace"), None
            except OSError as err:
                return None, verdict("02.3", False, f"cannot read {path}: {err.strerror}")
    text, failed = text_answer("02.3", dockerfile, 'your Dockerfile as a string: """FROM ..."""')
    if failed:
        return None, failed
    if not parse(text):
        return None, verdict("02.3", False, "There is no FROM line in this: it is not a Dockerfile.",
                             'a triple-quoted string: """FROM ... """')
    return text, None


def _reading(text: str) -> str:
    """What a reading of the file can say, in one or two sentences."""
    said = read(text)
    if said.passed:
        return "A reading of the file finds nothing wrong, but only a build can tell."
    return f"A reading of the file suggests: {said.message}" + (f" ({said.hint})" if said.hint else "")


def structure(stages: list[Stage]) -> Verdict | None:
    """What is wrong with the file's shape whatever any builder does: fewer than two
    stages, a last stage that is not ``FROM scratch``, a scratch stage that copies nothing
    from an earlier stage."""
    unknown = next((kw for stage in stages for kw, _ in stage.instructions if kw not in INSTRUCTIONS), None)
    if unknown:
        return _said(False, f"{unknown} is not a Dockerfile instruction: every builder stops at it (\"unknown "
                     f"instruction: {unknown}\").", "the instructions are " + ", ".join(sorted(INSTRUCTIONS)))
    if len(stages) < 2:
        return _said(False, f"This has {len(stages)} FROM line(s); a multi-stage build has two or more.",
                     "FROM labkit/build-base:bookworm AS build ... then FROM scratch")
    final = stages[-1]
    if final.base.lower() != "scratch":
        return _said(False, f"The last stage is what you ship, and it is FROM {final.base}, not FROM scratch.",
                     "end with FROM scratch")
    by_ref = {s.name: s for s in stages[:-1] if s.name} | {str(s.index): s for s in stages[:-1]}
    if not [c for c in copies(final) if c.source_stage in by_ref]:
        named = next((s.name for s in stages[:-1] if s.name), None)
        return _said(False, "The scratch stage never copies from the build stage.",
                     f"COPY --from={named or 0} /hello /hello")
    return None


def read(dockerfile: str) -> Verdict:
    """What a reading of the Dockerfile says, as the builder and the runtime would act on
    it (no engine): ``passed`` True when it finds nothing wrong. Not remembered."""
    stages = parse(dockerfile)
    wrong = structure(stages)
    if wrong:
        return wrong
    final = stages[-1]
    by_ref = {s.name: s for s in stages[:-1] if s.name} | {str(s.index): s for s in stages[:-1]}
    picked = [c for c in copies(final) if c.source_stage in by_ref]
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
        return _said(False, f"The compiler writes {compile_.output}, but {folder} does not exist in the "
                       "build stage: gcc cannot open the output file.", f"RUN mkdir -p {folder}, or WORKDIR {folder}")
    chain = lineage(by_ref[picked[-1].source_stage], stages)
    if (compile_.words and "musl" in compile_.words[0]) or chain[0].base_name == "alpine":
        who = compile_.words[0] if compile_.words and "musl" in compile_.words[0] else "Alpine's gcc"
        return _said(False, f"{who} links with musl, as the step's template does; the exercise asks for the "
                     "glibc-static hello.", "gcc -static on a Debian base, with the packages gcc and libc6-dev")
    if not compile_.static:
        return _said(False, "The program is linked dynamically: in scratch it fails with "
                       "'no such file or directory', because its loader is not there.",
                       "add -static to the compile command")
    return _final_stage(final, program) or _said(
        True, "Compile where the tools are, statically, and ship only the program: the final "
        f"image holds one file, {program}, and runs it.")


def _build_stage(stages: list[Stage], build: Stage) -> Verdict | None:
    """Why the build stage (with the stages it starts from) cannot compile hello.c."""
    chain = lineage(build, stages)
    runs = [c for s in chain for c in compiles(s)]
    if not runs:
        return _said(False, f"The {build.name or 'first'} stage never compiles hello.c.",
                       "RUN gcc -static -o /hello hello.c")
    if all(s.has_compiler() is False for s in chain):
        return _said(False, f"{chain[0].base} has no C compiler, and the build stage never installs one.",
                       "RUN apt-get update && apt-get install -y gcc libc6-dev (or start FROM gcc:13)")
    stuck = install_problem(chain)
    if stuck:
        return _said(False, *stuck)
    lacking = missing_libc(chain)
    if lacking == "glibc-static":
        return _said(False, "Fedora's gcc links statically only with the package glibc-static: "
                       "without it, gcc -static stops with 'cannot find -lc'.", "install glibc-static too")
    if lacking:
        return _said(False, f"The compiler comes without a C library to link (the package {lacking}): "
                       "gcc stops at hello.c's #include <unistd.h>, or at the link.", f"install {lacking} too")
    where = _context_files([c for s in chain for c in copies(s) if c.source_stage is None]
                           + [Copy(["."], target + "/", {}, True) for s in chain for target in bind_mounts(s)])
    if "hello.c" not in where:
        return _said(False, "The build stage never gets hello.c from the build context.",
                       "COPY hello.c message.h ./ before compiling")
    if "message.h" not in where:
        return _said(False, "hello.c starts with #include \"message.h\", and the build stage never "
                       "copies message.h: gcc stops with 'message.h: No such file or directory'.",
                       "COPY hello.c message.h ./")
    if posixpath.dirname(where["hello.c"]) != posixpath.dirname(where["message.h"]):
        return _said(False, f"message.h lands in {posixpath.dirname(where['message.h'])}, not beside "
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
                return _said(False, "COPY --from=... / copies the build stage's whole filesystem "
                               "(a compiler and a distribution) into scratch.", "copy only the program")
            if path.endswith((".c", ".h")):
                return _said(False, f"{source} is source code; scratch has no compiler to run it.",
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
    return _said(False, f"The scratch stage copies {', '.join(sources)}, but the compiler writes "
                   f"the program to {outputs[-1]}.", f"COPY --from=... {outputs[-1]} /hello")


def _final_stage(final: Stage, program: str) -> Verdict | None:
    """Why the scratch stage would not start ``program``."""
    if final.lines("RUN"):
        return _said(False, "RUN in the scratch stage needs a shell that is not there.",
                       "compile in the first stage; only COPY into scratch")
    found = command(final)
    if found is None or found[1] == []:
        return _said(False, "The image has no command to run.", f"ENTRYPOINT [\"{program}\"]")
    keyword, argv = found
    if argv is None:
        return _said(False, f"That is the shell form ({keyword} without a JSON list of strings in "
                       "double quotes): it runs /bin/sh -c ..., and scratch has no shell.",
                       f"use the exec form: {keyword} [\"{program}\"]")
    workdir = final.workdirs[-1] if final.workdirs else "/"
    if "/" in argv[0]:
        runs = posixpath.normpath(posixpath.join(workdir, argv[0])) == program
    else:
        runs = program in (posixpath.join(d, argv[0]) for d in final.env_path().split(":"))
    if not runs:
        return _said(False, f"{keyword} runs {argv[0]}, but the program lands at {program}.",
                       f"{keyword} [\"{program}\"]")
    users = final.lines("USER")
    names = users[-1].split(":") if users else []
    landed = {c.lands(s) for c in copies(final) for s in c.sources}
    landed |= {"/etc/passwd", "/etc/group"} if any(c.dest.rstrip("/") == "/etc" for c in copies(final)) else set()
    for kind, file, name in zip(("user", "group"), ("/etc/passwd", "/etc/group"), names):
        if not name.isdigit() and file not in landed:
            return _said(False, f"USER {users[-1]}: scratch has no {file}, so the runtime answers "
                           f"'unable to find {kind} {name}'.", "name them by number: USER 65534:65534")
    mode = next((_mode(c.options["chmod"]) for c in copies(final) if "chmod" in c.options and any(
        c.lands(s) == program or program.startswith(c.dest.rstrip("/") + "/") for s in c.sources)), None)
    root = not names or names[0] == "0"
    if mode is not None and not mode & (0o111 if root else 0o001):
        return _said(False, f"--chmod={mode:o} leaves {program} without the execute bit "
                       f"{'anyone has' if root else 'that user needs'}: 'permission denied'.", "--chmod=755")
    return None


def _mode(text: str | None) -> int | None:
    """An octal ``--chmod`` value as a number (None for none, or a symbolic one)."""
    try:
        return int(text, 8) if text else None
    except ValueError:
        return None
