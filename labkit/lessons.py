"""Small helpers the lesson notebooks need that belong to no other module.

Example:
    >>> from labkit import lessons
    >>> work = lessons.workdir("demo", root="/tmp/labkit-doctest")
    >>> list(work.iterdir())
    []
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from labkit import engine as engine_mod
from labkit import hello, host, machine, oci, registry, show, terminal
from labkit.errors import LabkitError, MissingTool


def workdir(name: str, root: str | Path = "work") -> Path:
    """A fresh, empty folder ``root/name`` (relative to the notebook), emptied on every call.

    Running a notebook twice then starts from the same state, so it shows the same output.
    It also names the lesson whose recording ``%%terminal`` cells use (``name``).

    Raises:
        LabkitError: ``name`` is not a plain folder name (empty, absolute, or with ``..``):
            emptying it could delete something outside ``root``.

    Example:
        >>> workdir("01", root="/tmp/labkit-doctest").name
        '01'
    """
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise LabkitError(f"workdir name {name!r} is not a folder name inside {root}",
                          hint="use a plain name such as \"01\"")
    path = Path(root) / name
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    terminal.use_lesson(name)
    return path


#: How run_here's answer begins when the program cannot run on this host.
NOT_RUN = "(not run here: "


def run_here(program: str | Path, timeout: float = 10) -> str:
    """Run ``program`` directly on this machine (no container) and return what it printed.

    A Linux program for another architecture, or any Linux program on a macOS or
    Windows host, is not started: the answer is one line saying why, beginning
    ``(not run here: `` (the engine, a Linux kernel, runs it in a container instead).

    Raises:
        LabkitError: it could not start, or exited with a non-zero status.

    Example:
        >>> from labkit import hello
        >>> run_here(hello.build("tiny", "/tmp/labkit-doctest/hello"))
        'Hello from scratch!\\n'
        >>> print(run_here(hello.build("tiny", "/tmp/labkit-doctest/arm", arch="aarch64")), end="")  # doctest: +SKIP
        (not run here: arm is a Linux aarch64 program; this x86_64 machine does not run aarch64 programs)
    """
    program = Path(program).resolve()
    why = _why_not_here(program)
    if why is not None:
        return f"{NOT_RUN}{why})\n"
    try:
        done = subprocess.run([str(program)], capture_output=True, timeout=timeout)
    except OSError as err:
        raise LabkitError(f"{program.name} could not start here: {err.strerror}",
                          hint="it may be built for another processor architecture") from None
    except subprocess.TimeoutExpired:
        raise LabkitError(f"{program.name} did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        raise LabkitError(f"{program.name} exited with status {done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def _why_not_here(program: Path) -> str | None:
    """Why an ELF ``program`` cannot run directly on this host (None: try it)."""
    try:
        arch = hello.describe(program).arch
    except LabkitError:
        here = host.current()
        return None if here.linux else f"{here.name} cannot run it directly"   # not ELF: a script?
    why = host.current().why_not_run(arch)
    return f"{program.name} is a Linux {arch} program; {why}" if why else None


def busybox(engine=None) -> machine.Busybox:
    """A static Linux busybox for the engine's architecture (else this host's), or None
    with the reason: ``.path``, ``.reason``; ``.source(folder)`` gives the file to put
    into an image (the busybox, or a labelled stand-in: the tiny hello saying so).

    Looks at ``$LABKIT_BUSYBOX``, then (on a Linux host only) ``/bin/busybox``: a Mac's
    or Windows' programs are not Linux programs.

    Args:
        engine: a ``labkit.engine.Engine`` (default: whatever answers at DOCKER_HOST;
            with none, this host's architecture).

    Example:
        >>> str(busybox()).startswith("busybox for ")
        True
    """
    eng = engine if engine is not None else engine_mod.try_connect()
    try:
        return machine.busybox(machine.target(eng).arch)
    finally:
        if engine is None and eng is not None:
            eng.api.close()


def _arch(engine, arch: str | None) -> str:
    """The architecture to build for: the engine's, ``arch``, or (``"other"``) the other one."""
    goal = machine.target(engine).arch
    if arch == "other":
        return next(a for a in hello.ARCHES if a != goal) if goal in hello.ARCHES else "aarch64"
    return host.machine_arch(arch) if arch else goal


def hello_program(variant: str, out: str | Path, engine=None, *, arch: str | None = None,
                  message: bytes = hello.DEFAULT_MESSAGE) -> tuple[Path | None, str]:
    """Build the ``variant`` hello at ``out`` for the engine's processor (``arch="other"``:
    for the other one); ``(path, one line saying what it is)``, or ``(None, why not)`` where
    this host cannot build it (no compiler; a Mac's or Windows' compilers make no Linux
    programs) — never an exception, so a lesson runs on every host.

    The line names the architecture, static or dynamically linked, and the size, but not a
    dynamic program's interpreter (notebook 3 asks for it before showing it).

    Example:
        >>> path, what = hello_program("tiny", "/tmp/labkit-doctest/hello", arch="x86_64")
        >>> what
        'hello, a static x86_64 program of 170 bytes'
    """
    out, goal = Path(out), _arch(engine, arch)
    try:
        path = hello.build(variant, out, message, arch=goal)
    except MissingTool as err:
        return None, f"not built here: {err} ({err.hint})" if err.hint else f"not built here: {err}"
    info = hello.describe(path)
    linking = "static" if info.static else "dynamically linked"
    return path, f"{path.name}, a {linking} {info.arch} program of {info.size:,} bytes"


def hello_image(variant: str, out: str | Path, tag: str, engine=None, *, arch: str | None = None,
                mode: int = 0o755, **config) -> show.Note:
    """Build the ``variant`` hello (:func:`hello_program`, next to ``out``) and write a
    one-layer ``FROM scratch`` image holding it as ``/hello`` to ``out`` (a ``docker
    load``-able tar tagged ``tag``), labelled with the architecture it is for.

    Args:
        variant, engine, arch: as :func:`hello_program` (``arch="other"``: the other processor).
        out: the image file, e.g. ``work / "dynamic.tar"``; the program goes beside it as
            ``hello-<variant>`` (``hello-<variant>-<arch>`` for another architecture).
        tag: the name ``docker load`` gives it, e.g. ``hello:dynamic``.
        mode: the program's permission bits in the layer.
        config: more of ``labkit.oci.Image``'s fields (default ``cmd=["/hello"]``).

    Returns:
        one line: what was written, or why nothing was (the commands that load it then
        fail on the missing file, so the line says so).

    Example:
        >>> print(hello_image("tiny", "/tmp/labkit-doctest/t.tar", "hello:t", arch="x86_64"))
        /tmp/labkit-doctest/t.tar (hello:t): /hello is hello-tiny, a static x86_64 program of 170 bytes
    """
    out, goal = Path(out), _arch(engine, arch)
    name = f"hello-{variant}" + (f"-{goal}" if arch == "other" else "")
    path, what = hello_program(variant, out.parent / name, engine, arch=goal)
    if path is None:
        return show.Note(f"{out} was not written: {what}. The commands below load that file, so they "
                         "fail here; their recorded output is in the deep dive linked below.", show.PALETTE[3])
    config.setdefault("cmd", ["/hello"])
    oci.Image([[oci.Entry.file("hello", source=path, mode=mode)]], architecture=goal, **config).write(out, tag=tag)
    return show.Note(f"{out} ({tag}): /hello is {what}")


def hello_map(variant: str, folder: str | Path, engine=None):
    """The byte map of the ``variant`` hello built in ``folder`` (``labkit.show.hexdump`` of
    ``labkit.hello.elf_fields``), or one line saying why it cannot be built here.

    Example:
        >>> print(hello_map("tiny", "/tmp/labkit-doctest").title)
        the tiny hello: 170 bytes = ELF header 64 + program header 56 + instructions 30 + message 20
    """
    path, what = hello_program(variant, Path(folder) / f"hello-{variant}", engine)
    if path is None:
        return show.Note(what, show.PALETTE[3])
    fields = hello.elf_fields(path)
    return show.hexdump(fields, title=f"the {variant} hello: {show.hexdump(fields).title}")


# --- what a lesson's stored outputs assume of this machine ----------------------------------
#: The optional programs a lesson step uses, keyed by what the step calls (as a cell writes
#: it), whatever the notebook is called: the stored outputs were made where all exist. A
#: scenario counts when a cell runs it live (``scenario("name", engine=...)``, ``stores(...)``);
#: offline, its recording is shown either way.
CALL_NEEDS = {"labkit.registry.start(": ("docker-registry",), "labkit.registry.local(": ("docker-registry",),
              "labkit.lessons.busybox(": ("busybox",), "labkit.scenarios.busybox_layer()": ("busybox",)}
SCENARIO_NEEDS = {"hello-variants": ("gcc", "musl-gcc"), "scratch-exec": ("gcc",),
                  "scratch-user": ("busybox",), "scratch-runtime": ("busybox", "gcc"),
                  "busybox-whiteout": ("busybox",), "registry-push": ("docker-registry", "busybox"),
                  "registry-pull": ("docker-registry",)}
#: The Debian packages that install each (``apt.txt`` lists them all).
PACKAGES = {"docker-registry": "docker-registry", "busybox": "busybox-static", "gcc": "gcc libc6-dev",
            "musl-gcc": "musl-tools"}
#: Packages every Debian system has (never a reason to install anything).
ESSENTIAL = {"coreutils", "tar", "docker.io"}
_LIVE_SCENARIO = re.compile(r"labkit\.observe\.(?:scenario|stores)\(\s*\"([a-z0-9.-]+)\"[^)]*\bengine=")
#: A hello the notebook compiles here (``labkit.lessons.hello_image("dynamic", ...)``), and
#: the compiler each C variant needs (the tiny one is written byte by byte: none).
_HELLO_CALL = re.compile(r"labkit\.(?:lessons\.hello_(?:image|map)|hello\.build)\(\s*\"([a-z0-9.-]+)\"")
VARIANT_NEEDS = {"dynamic": ("gcc",), "glibc-static": ("gcc",), "nostdlib": ("gcc",), "musl-static": ("musl-gcc",)}


def assumes(notebook: str | Path, live: bool = True) -> list[str]:
    """The optional programs ``notebook``'s stored outputs assume (``live``: with an engine).

    Example:
        >>> import json, tempfile
        >>> cell = {"cell_type": "code", "source": ['reg = labkit.registry.start(work)']}
        >>> path = Path(tempfile.mkdtemp()) / "06-x.ipynb"
        >>> _ = path.write_text(json.dumps({"cells": [cell]}))
        >>> assumes(path)
        ['docker-registry']
    """
    cells = ["".join(c.get("source", "")) for c in json.loads(Path(notebook).read_text()).get("cells", [])
             if c.get("cell_type") == "code"]
    # a %%terminal cell's programs (docker counts through the engine, as the magic does)
    shell = {p for cell in cells if cell.startswith("%%terminal") for line in terminal.lines(cell.split("\n", 1)[-1])
             for p in terminal.programs(line) if terminal.PACKAGES.get(p, "coreutils") not in ESSENTIAL}
    return sorted(set(needs_of("\n".join(c for c in cells if not c.startswith("%%terminal")), live)) | shell)


def needs_of(source: str, live: bool = True) -> list[str]:
    """The optional programs Python ``source`` (a cell, a solution) uses, by what it calls.

    Example:
        >>> needs_of('labkit.observe.scenario("hello-variants", engine=eng)')
        ['gcc', 'musl-gcc']
        >>> needs_of('labkit.observe.scenario("hello-variants", engine=eng)', live=False)
        []
        >>> needs_of('labkit.lessons.hello_image("dynamic", work / "d.tar", "d:lab")', live=False)
        ['gcc']
    """
    needs = {p for call, programs in CALL_NEEDS.items() if call in source for p in programs}
    needs.update(p for name in _HELLO_CALL.findall(source) for p in VARIANT_NEEDS.get(name, ()))
    if live:
        needs.update(p for name in _LIVE_SCENARIO.findall(source) for p in SCENARIO_NEEDS.get(name, ()))
    return sorted(needs)


def have(program: str) -> bool:
    """True when this machine has ``program`` as the lessons use it (busybox: a static one
    for this host's architecture; gcc: able to link static and dynamic C programs).

    Example:
        >>> have("no-such-program")
        False
    """
    if program == "docker-registry":
        try:
            return bool(registry.server.binary())
        except LabkitError:
            return False
    if program == "busybox":
        return machine.busybox(hello.default_arch()).path is not None
    variants = {"gcc": ("nostdlib", "glibc-static", "dynamic"), "musl-gcc": ("musl-static",)}.get(program)
    if variants:
        can = hello.available()
        return all(can[v] is None for v in variants)
    return shutil.which(program) is not None


def missing_here(notebook: str | Path, live: bool = True) -> dict[str, str]:
    """What ``notebook``'s stored outputs assume and this machine lacks: program -> the
    Debian package that installs it (empty: its outputs can be compared exactly)."""
    return {p: PACKAGES.get(p) or terminal.PACKAGES.get(p, p) for p in assumes(notebook, live) if not have(p)}
