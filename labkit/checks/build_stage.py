"""What a Dockerfile's build stage has to work with, for checker 02.3: the folders that
exist in it, the context it mounts, and what installing a compiler there needs (package
lists, ``-y``, a C library to link).

Example:
    >>> from labkit.checks.dockerfile import parse
    >>> install_problem(parse("FROM debian\\nRUN apt-get update && apt-get install gcc"))[1]
    'apt-get install -y ...'
"""
from __future__ import annotations

import posixpath
import re

# parse: for the examples below
from labkit.checks.dockerfile import (COMPILER_IMAGES, COMPILER_PACKAGES, INSTALL, Stage, copies, parse,
                                      run_script, shell_commands)

#: Folders every distribution base image has (FHS): a compiler may write into them.
BASE_FOLDERS = frozenset({
    "/", "/bin", "/etc", "/home", "/lib", "/media", "/mnt", "/opt", "/root", "/run", "/sbin", "/srv",
    "/tmp", "/usr", "/usr/bin", "/usr/include", "/usr/lib", "/usr/local", "/usr/local/bin",
    "/usr/local/lib", "/usr/local/sbin", "/usr/sbin", "/usr/share", "/usr/src", "/var", "/var/tmp"})
#: Base images whose folders we know (BASE_FOLDERS and nothing more).
KNOWN_BASES = COMPILER_IMAGES + ("debian", "ubuntu", "alpine", "fedora")
_YES = re.compile(r"^(?:--yes|--assume-yes|--assumeyes|-qq|-[a-zA-Z]*y[a-zA-Z]*)$")


def missing_libc(chain: list[Stage]) -> str | None:
    """The package the compiler installed in ``chain`` still needs to link a C program,
    or None: Alpine's ``gcc`` comes without ``musl-dev``; Debian's without ``libc6-dev``
    when ``--no-install-recommends`` drops it; Fedora's links statically only with
    ``glibc-static``. Any install in the chain may bring it.

    Example:
        >>> missing_libc(parse("FROM alpine\\nRUN apk add gcc"))
        'musl-dev'
        >>> missing_libc(parse("FROM alpine\\nRUN apk add gcc\\nRUN apk add musl-dev")) is None
        True
    """
    installs = [set(command.split()) for stage in chain for rest in stage.lines("RUN")
                for command in re.split(r"&&|\|\||;|\n", rest) if INSTALL.search(command)]
    named = set().union(*installs) if installs else set()
    for words in installs:
        if not COMPILER_PACKAGES.search(" ".join(words)):
            continue
        if "apk" in words and not named & {"musl-dev", "build-base", "libc-dev", "alpine-sdk"}:
            return "musl-dev"
        if (words & {"apt-get", "apt"} and "--no-install-recommends" in words
                and not named & {"libc6-dev", "build-essential", "musl-tools", "libc-dev"}):
            return "libc6-dev"
        if words & {"dnf", "dnf5", "yum", "microdnf"} and "glibc-static" not in named:
            return "glibc-static"
    return None


def bind_mounts(stage: Stage) -> list[str]:
    """Where ``RUN --mount=type=bind`` puts the whole build context (no ``from``, no
    ``source`` or ``source=.``), folders made absolute.

    Example:
        >>> bind_mounts(parse("FROM gcc\\nRUN --mount=type=bind,target=/src gcc /src/hello.c")[0])
        ['/src']
    """
    found = []
    for (keyword, rest), workdir in zip(stage.instructions, stage.workdirs):
        for option in re.findall(r"--mount=(\S+)", rest) if keyword == "RUN" else []:
            fields = dict(f.partition("=")[::2] for f in option.split(","))
            target = fields.get("target") or fields.get("dst") or fields.get("destination")
            if (fields.get("type") == "bind" and target and "from" not in fields
                    and fields.get("source", fields.get("src", ".")).strip("/") in ("", ".")):
                found.append(posixpath.normpath(posixpath.join(workdir, target)))
    return found


def install_problem(chain: list[Stage]) -> tuple[str, str] | None:
    """Why installing the compiler would stop the build, as ``(why, hint)``, or None.

    apt needs package lists first (the debian and ubuntu images ship without them), and
    apt, dnf and yum ask before installing more than was named -- a build has nobody to
    answer, so they stop, unless told ``-y``.

    Example:
        >>> install_problem(parse("FROM debian\\nRUN apt-get install -y gcc")[0:1])[0][:33]
        'apt-get install runs before any a'
    """
    updated = False
    for stage in chain:
        for rest in stage.lines("RUN"):
            for words in shell_commands(run_script(rest)):
                tool = next((w for w in words if w in ("apt-get", "apt", "dnf", "dnf5", "yum")), None)
                if tool is None:
                    continue
                after = words[words.index(tool) + 1:]
                action = next((w for i, w in enumerate(after) if not w.startswith("-") and "=" not in w
                               and not (i and after[i - 1] == "-o")), "")
                if action == "update" and tool.startswith("apt"):
                    updated = True
                if action != "install" or not COMPILER_PACKAGES.search(" ".join(words)):
                    continue
                if tool.startswith("apt") and not updated:
                    return (f"{tool} install runs before any {tool} update: the debian and ubuntu images come "
                            "without package lists, so apt answers 'Unable to locate package gcc'.",
                            f"RUN {tool} update && {tool} install -y gcc ...")
                if not any(_YES.match(w) for w in words if w.startswith("-") and w != "-"):
                    return (f"{tool} install asks 'Do you want to continue?' before it installs gcc's "
                            "dependencies, and a build has nobody to answer: it stops.",
                            f"{tool} install -y ...")
    return None


def folders(chain: list[Stage]) -> set[str] | None:
    """The folders that exist in the last stage of ``chain`` (with their parents): the
    base image's (:data:`BASE_FOLDERS`), every ``WORKDIR``, ``COPY`` destination and
    ``mkdir``; None when the base is an image we do not know.

    Example:
        >>> "/out" in folders(parse("FROM gcc\\nRUN mkdir -p /out")[0:1])
        True
    """
    if chain[0].base_name not in KNOWN_BASES:
        return None
    found = set(BASE_FOLDERS)
    for stage in chain:
        found.update(stage.workdirs)
        found.update(bind_mounts(stage))
        for copy in copies(stage):
            folder = (copy.dest_is_dir or len(copy.sources) > 1
                      or any(src.endswith("/") or posixpath.normpath(src) in (".", "/") for src in copy.sources))
            found.add(copy.dest.rstrip("/") or "/" if folder else posixpath.dirname(copy.dest))
        for (keyword, rest), workdir in zip(stage.instructions, stage.workdirs):
            if keyword != "RUN":
                continue
            cwd = workdir
            for words in shell_commands(run_script(rest)):
                if words[0] == "cd" and len(words) > 1:
                    cwd = posixpath.normpath(posixpath.join(cwd, words[1]))
                if words[0] == "mkdir":
                    found.update(posixpath.normpath(posixpath.join(cwd, w)) for w in words[1:]
                                 if not w.startswith("-"))
    for path in list(found):
        while path not in ("/", ""):
            path = posixpath.dirname(path)
            found.add(path)
    return found
