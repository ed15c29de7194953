"""The compiled hello variants: one C source (``labkit/hello.c``) built with gcc or musl-gcc,
so the lab can show what a C library costs — and the linker's map of why.

Example:
    >>> "write_all" in C_SOURCE
    True
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from labkit import host
from labkit.errors import LabkitError, MissingTool
from labkit.hello.tiny import ARCHES, DEFAULT_MESSAGE, tiny_elf

VARIANTS = ("tiny", "nostdlib", "musl-static", "glibc-static", "dynamic")
C_SOURCE = resources.files("labkit").joinpath("hello.c").read_text()
#: Where the whole C source is, relative to the notebooks (a link a learner can open).
C_SOURCE_LINK = "../labkit/hello.c"


def source_excerpt() -> str:
    """The lines of :data:`C_SOURCE` that a C-library build compiles, as they are in the
    file: the message, ``write_all`` (which calls libc's ``write``) and ``main``. The
    rest of the file is the no-library variant's own start and system calls.

    Example:
        >>> print(source_excerpt().splitlines()[0])
        #include "message.h"
    """
    lines = C_SOURCE.splitlines()

    def block(first: str) -> list[str]:
        start = next(i for i, line in enumerate(lines) if line.startswith(first))
        end = next(i for i in range(start, len(lines)) if lines[i] == "}")
        return lines[start:end + 1]

    picked = [line for line in lines if line.startswith(('#include "message.h"', "#include <unistd.h>",
                                                         "#define write_stdout(p, n) write(",
                                                         "static const char message[]"))]
    return "\n".join(picked + [""] + block("/* Loop:") + [""] + block("int main(void)"))


_FLAGS = ["-Os", "-s", "-Wl,--build-id=none", "-fno-asynchronous-unwind-tables",
          "-fno-ident"]
_VARIANT_FLAGS = {
    # -Wl,-n: no page alignment between segments (8 KiB of padding otherwise).
    "nostdlib": ["-static", "-nostdlib", "-fno-stack-protector", "-Wl,-n", "-DLABKIT_NOSTDLIB"],
    "musl-static": ["-static"],
    "glibc-static": ["-static"],
    "dynamic": [],
}
_DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def default_arch() -> str:
    """The architecture built when none is named: this host's (``x86_64`` when the host
    is neither x86-64 nor AArch64). A lesson passes the *engine's* architecture instead
    (``labkit.machine.target``): on a Mac the engine's VM, not the Mac, runs the program.

    Example:
        >>> default_arch() in ARCHES
        True
    """
    arch = host.current().arch
    return arch if arch in ARCHES else "x86_64"


def _compiler(variant: str, arch: str) -> tuple[str, str]:
    """(program, Debian package) that compiles ``variant`` for ``arch`` here."""
    here = host.current()
    if not here.linux:
        raise MissingTool(f"the {variant} hello needs a Linux C toolchain: {here.name}'s "
                          f"compilers make {here.name} programs, not Linux ones",
                          hint="the lab shows the recorded one; or run the lab inside "
                               "Linux (WSL 2, a Linux VM or container)")
    native = arch == here.arch
    if variant == "musl-static":
        if not native:
            raise MissingTool(f"musl-static for {arch} needs musl-gcc for {arch}, which Debian "
                              f"packages only natively", hint=f"build it on an {arch} machine")
        return "musl-gcc", "musl-tools"
    if native:
        return "gcc", "gcc" if variant != "glibc-static" else "gcc libc6-dev"
    triplet = f"{arch}-linux-gnu"
    package = f"gcc-{triplet.replace('_', '-')}"
    if variant in ("glibc-static", "dynamic"):
        package += f" libc6-dev-{_DEBIAN_ARCH[arch]}-cross"
    return f"{triplet}-gcc", package


def _check_can_build(variant: str, arch: str) -> str:
    """Path of the compiler for ``variant``/``arch``; raises MissingTool if it can't."""
    program, package = _compiler(variant, arch)
    path = shutil.which(program)
    if path is None:
        raise MissingTool(f"the {variant} hello needs {program}",
                          hint=f"apt-get install {package}")
    if variant == "glibc-static":
        libc_a = subprocess.run([path, "-print-file-name=libc.a"], capture_output=True,
                                text=True).stdout.strip()
        if not Path(libc_a).is_absolute():
            raise MissingTool(f"the glibc-static hello needs libc.a for {arch}",
                              hint=f"apt-get install {package.split()[-1]}")
    return path


def available(arch: str | None = None) -> dict[str, str | None]:
    """Which variants can be built here for ``arch`` (default: :func:`default_arch`):
    variant -> None, or why not. ``tiny`` needs no compiler; the others need a Linux
    host with a compiler for ``arch``.

    Example:
        >>> available()["tiny"] is None
        True
    """
    arch = host.machine_arch(arch) if arch else default_arch()
    result: dict[str, str | None] = {"tiny": None}
    for variant in VARIANTS[1:]:
        try:
            _check_can_build(variant, arch)
            result[variant] = None
        except MissingTool as err:
            result[variant] = str(err)
    return result


def c_string(message: bytes) -> str:
    """``message`` as a C string literal: printable ASCII kept, the rest octal-escaped.

    Example:
        >>> c_string(b'say "hi"\\n')
        '"say \\\\042hi\\\\042\\\\012"'
    """
    keep = set(range(0x20, 0x7F)) - set(b'"\\?')
    return '"' + "".join(chr(b) if b in keep else f"\\{b:03o}" for b in message) + '"'


def message_header(message: bytes = DEFAULT_MESSAGE) -> str:
    """The ``message.h`` that ``hello.c`` includes, for ``message``.

    Example:
        >>> print(message_header(b"hi\\n"), end="")
        #define MESSAGE "hi\\012"
        #define MESSAGE_LEN 3L
    """
    return f"#define MESSAGE {c_string(message)}\n#define MESSAGE_LEN {len(message)}L\n"


def build(variant: str, out: str | Path, message: bytes = DEFAULT_MESSAGE,
          arch: str | None = None) -> Path:
    """Write the ``variant`` hello for ``arch`` to ``out`` (mode 0755) and return its path.

    ``arch``: ``x86_64`` or ``aarch64`` (``amd64``/``arm64`` are accepted too); default
    :func:`default_arch`, this host's.

    Compiled variants use fixed flags (``-Os -s``, no build-id), so the same message,
    variant and compiler give the same bytes.

    Raises:
        MissingTool: the compiler (or libc) for the variant is not installed; the
            message names the Debian package.
        LabkitError: unknown variant or architecture, or the compiler failed.

    Example:
        >>> build("tiny", "/tmp/hello").stat().st_size
        170
    """
    if variant not in VARIANTS:
        raise LabkitError(f"unknown hello variant {variant!r}", hint=f"use one of {', '.join(VARIANTS)}")
    arch = host.machine_arch(arch) if arch else default_arch()
    if arch not in ARCHES:
        raise LabkitError(f"unknown architecture {arch!r}", hint=f"use one of {', '.join(ARCHES)}")
    out = Path(out)
    if variant == "tiny":
        data = tiny_elf(message, arch)
    else:
        data = _compile(variant, message, arch)
    try:
        out.write_bytes(data)
        out.chmod(0o755)
    except OSError as err:
        raise LabkitError(f"cannot write {out}: {err.strerror}") from None
    return out


def link_map(variant: str = "glibc-static", message: bytes = DEFAULT_MESSAGE,
             arch: str = "x86_64") -> str:
    """Compile the ``variant`` hello as :func:`build` does, and return the linker's map
    (``-Wl,-Map``): which library members it copied in, and why (``labkit.linkmap``).

    Raises:
        MissingTool: as :func:`build`.
    """
    with tempfile.TemporaryDirectory(prefix="labkit-map-") as tmp:
        path = Path(tmp) / "hello.map"
        _compile(variant, message, arch, extra=[f"-Wl,-Map={path}"])
        return path.read_text(errors="replace")


def _compile(variant: str, message: bytes, arch: str, extra: list[str] = ()) -> bytes:
    compiler = _check_can_build(variant, arch)
    with tempfile.TemporaryDirectory(prefix="labkit-hello-") as tmp:
        work = Path(tmp)
        (work / "hello.c").write_text(C_SOURCE)
        (work / "message.h").write_text(message_header(message))
        command = [compiler, *_FLAGS, *_VARIANT_FLAGS[variant], *extra, "-o", "hello", "hello.c"]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise LabkitError(f"{Path(compiler).name} failed for the {variant} hello: {last}")
        return (work / "hello").read_bytes()
