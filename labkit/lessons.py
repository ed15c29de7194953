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
from labkit import hello, host, machine, registry, terminal
from labkit.errors import LabkitError


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
    """
    needs = {p for call, programs in CALL_NEEDS.items() if call in source for p in programs}
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
