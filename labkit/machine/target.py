"""What to build for: the engine's architecture, not the notebook host's.

On a Mac the notebook runs on macOS, but every program the lab builds runs in the
engine's Linux VM: the hello is built for the engine (arm64 on Apple Silicon), compiled
variants only where a Linux compiler for that architecture exists here (else the lab
shows the recorded ones), and busybox must be a static Linux busybox of that
architecture -- never the host's.

Example:
    >>> from labkit import host, machine
    >>> t = machine.target({"arch": "arm64", "version": "29.1.3"}, host.Host("darwin", "aarch64"))
    >>> t.arch, t.oci_arch, t.variants["tiny"], t.variants["musl-static"] is not None
    ('aarch64', 'arm64', None, True)
"""
from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit import hello, host as host_mod
from labkit.errors import LabkitError

#: A static Linux busybox for the engine's architecture, where the host has none.
BUSYBOX_ENV = "LABKIT_BUSYBOX"
_BUSYBOX_PLACES = ("/bin/busybox", "/usr/bin/busybox")


def _facts(engine) -> dict | None:
    """Engine facts as a dict, from an Engine, EngineFacts, a facts dict or None."""
    if engine is None:
        return None
    if isinstance(engine, dict):
        return engine
    facts = getattr(engine, "facts", engine)
    return facts.to_dict() if hasattr(facts, "to_dict") else None


@dataclass(frozen=True)
class Target:
    """The architecture the lab builds for, and how each hello variant is made for it.

    Attributes:
        arch: the ELF name, ``x86_64`` or ``aarch64`` (``labkit.hello``'s ``arch``).
        oci_arch: the OCI name, ``amd64`` or ``arm64`` (``labkit.oci.Image``'s
            ``architecture``).
        source: ``"engine"`` (the engine's architecture) or ``"host"`` (no engine
            answered: this host's).
        variants: hello variant -> None when it is built live here, else why it comes
            from the recordings.
    """

    arch: str
    oci_arch: str
    source: str
    variants: dict[str, str | None]

    def summary(self) -> str:
        """One line: ``arm64 (the engine's): tiny built here; nostdlib, ... recorded``.

        Example:
            >>> Target("x86_64", "amd64", "host", {"tiny": None, "dynamic": "no gcc"}).summary()
            "amd64 (this host's: no engine answered): tiny built here; dynamic from the recordings"
        """
        whose = "the engine's" if self.source == "engine" else "this host's: no engine answered"
        live = [v for v, why in self.variants.items() if why is None]
        recorded = [v for v, why in self.variants.items() if why is not None]
        text = f"{self.oci_arch} ({whose}): {', '.join(live) or 'nothing'} built here"
        return text + (f"; {', '.join(recorded)} from the recordings" if recorded else "")

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)


def target(engine=None, host: host_mod.Host | None = None) -> Target:
    """Which architecture to build the hello for, and which variants can be built live.

    Args:
        engine: a ``labkit.engine.Engine``, its ``EngineFacts`` or their dict; None when
            no engine answered (then: this host's architecture).
        host: the notebook's host (default: ``labkit.host.current()``).

    Example:
        >>> target(None, host_mod.Host("linux", "x86_64")).oci_arch
        'amd64'
    """
    here = host or host_mod.current()
    facts = _facts(engine)
    engine_arch = host_mod.machine_arch((facts or {}).get("arch") or "")
    if engine_arch:
        arch, source = engine_arch, "engine"
    else:
        arch, source = (here.arch if here.arch in hello.ARCHES else "x86_64"), "host"
    if arch not in hello.ARCHES:
        why = f"labkit's hello exists for {' and '.join(hello.ARCHES)} only, not {arch}"
        variants = {variant: why for variant in hello.VARIANTS}
    else:
        variants = hello.available(arch)
    return Target(arch, host_mod.oci_arch(arch), source, variants)


@dataclass(frozen=True)
class Busybox:
    """A static Linux busybox for the target architecture, or why there is none here.

    Attributes:
        path: the busybox program, or None.
        arch: the architecture it must be for (ELF name).
        reason: why there is none (None when ``path`` is set).
    """

    path: Path | None
    arch: str
    reason: str | None = None

    def __str__(self) -> str:
        if self.path is not None:
            return f"busybox for {host_mod.oci_arch(self.arch)}: {self.path} ({hello.describe(self.path).summary()})"
        return f"busybox for {host_mod.oci_arch(self.arch)}: none here ({self.reason})"

    __repr__ = __str__

    def stand_in(self, folder: str | Path) -> Path:
        """Write a labelled stand-in for busybox into ``folder`` and return its path: the
        tiny hello for the target architecture, saying that it stands in for busybox.

        Example:
            >>> import tempfile
            >>> b = Busybox(None, "x86_64", "no busybox")
            >>> b.stand_in(tempfile.mkdtemp()).name
            'busybox-stand-in'
        """
        # The same bytes wherever it is made (recorded registry exchanges name its digest).
        message = f"labkit stand-in for busybox: no static busybox for {host_mod.oci_arch(self.arch)} here\n".encode()
        return hello.build("tiny", Path(folder) / "busybox-stand-in", message, arch=self.arch)

    def source(self, folder: str | Path) -> Path:
        """The busybox to put into an image: the real one, else :meth:`stand_in`."""
        return self.path if self.path is not None else self.stand_in(folder)


def _check_busybox(path: Path, arch: str) -> str | None:
    """Why ``path`` is not a static Linux busybox for ``arch`` (None when it is)."""
    try:
        info = hello.describe(path)
    except LabkitError as err:
        return err.message
    if info.arch != arch:
        return f"{path} is for {info.arch}, the engine runs {arch}"
    if not info.static:
        return f"{path} is dynamically linked; a FROM scratch image needs a static busybox"
    return None


def busybox(arch: str, host: host_mod.Host | None = None) -> Busybox:
    """A static Linux busybox for ``arch``: ``$LABKIT_BUSYBOX``, else (on a Linux host
    only) the host's own ``busybox``. ``LABKIT_BUSYBOX=none`` runs the lab as without one.

    Example:
        >>> busybox("aarch64", host_mod.Host("darwin", "aarch64")).path is None   # doctest: +SKIP
        True
    """
    arch = host_mod.machine_arch(arch)
    here = host or host_mod.current()
    rejected = []
    named = os.environ.get(BUSYBOX_ENV)
    if named == "none":
        return Busybox(None, arch, f"{BUSYBOX_ENV}=none: as on a machine without busybox")
    candidates = [Path(named)] if named else []
    if here.linux:
        found = shutil.which("busybox")
        candidates += [Path(p) for p in [*_BUSYBOX_PLACES, *([found] if found else [])]]
    for path in dict.fromkeys(candidates):
        if not path.is_file():
            if named and path == Path(named):
                rejected.append(f"{BUSYBOX_ENV}={named} is not a file")
            continue
        why = _check_busybox(path, arch)
        if why is None:
            return Busybox(path, arch)
        rejected.append(why)
    if not here.linux:
        reason = f"{here.name} has no Linux busybox; set {BUSYBOX_ENV} to a static one for {host_mod.oci_arch(arch)}"
    else:
        reason = f"no static busybox for {arch} here: apt-get install busybox-static (or set {BUSYBOX_ENV})"
    return Busybox(None, arch, "; ".join([*rejected, reason]))
