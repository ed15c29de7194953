"""What this machine has, and the mode the lab runs in (``labkit doctor``).

Example:
    >>> report().target["oci_arch"] in ("amd64", "arm64")
    True
"""
from __future__ import annotations

import html
import platform
import shutil
from dataclasses import asdict, dataclass, field
from importlib import metadata

from labkit import engine as engine_mod
from labkit import fleet, host as host_mod
from labkit.errors import LabkitError
from labkit.machine.differences import differences
from labkit.machine.target import target

PACKAGES = ("labkit", "docker", "pyelftools", "matplotlib", "ipywidgets", "tqdm",
            "jupyterlab", "pytest", "nbval")
COMPILERS = ("gcc", "musl-gcc")


@dataclass
class Report:
    """The doctor's findings.

    Attributes:
        python: Python version and implementation.
        platform: OS and machine, e.g. ``Linux-6.1-x86_64``.
        packages: package -> installed version (None when missing).
        engine: the facts of the engine at DOCKER_HOST, or None.
        engine_error: why no engine answered (None when one did).
        compilers: program -> path (None when not found).
        hello_variants: variant -> None when it can be built here for the target
            architecture, else why not (then the lessons show the recorded one).
        mode: ``"live"`` or ``"offline"``.
        mode_reason: one line saying why.
        fleet: facts of each fleet engine that answered, by name.
        fleet_error: why the fleet could not be asked (None when it could or is absent).
        host: where the notebook runs (``labkit.host.Host`` as a dict: platform, arch,
            simulated).
        target: what the lab builds for (``labkit.machine.Target`` as a dict).
        differences: one line per way this setup differs from the recordings
            (``labkit.machine.differences``); ``[]`` on a setup like theirs.
    """

    python: str
    platform: str
    packages: dict[str, str | None]
    engine: dict | None
    engine_error: str | None
    compilers: dict[str, str | None]
    hello_variants: dict[str, str | None]
    mode: str
    mode_reason: str
    fleet: dict[str, dict] = field(default_factory=dict)
    fleet_error: str | None = None
    host: dict = field(default_factory=dict)
    target: dict = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict (the output of ``labkit doctor --json``)."""
        return asdict(self)

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("mode", f"{self.mode} ({self.mode_reason})"),
                ("python", self.python), ("platform", self.platform)]
        rows += [(name, version or "not installed") for name, version in self.packages.items()]
        rows.append(("engine", _engine_line(self.engine) if self.engine else self.engine_error))
        # host, build for, differs: never the last row (notebooks/sanitize.cfg drops them)
        if self.host:
            rows.append(("host", host_mod.Host(**self.host).summary()))
        if self.target:
            whose = "the engine's" if self.target["source"] == "engine" else "this host's"
            rows.append(("build for", f"{self.target['oci_arch']} ({whose})"))
        rows += [("differs", line) for line in self.differences]
        rows += [(f"fleet {name}", _engine_line(facts)) for name, facts in self.fleet.items()]
        if self.fleet_error:
            rows.append(("fleet", self.fleet_error))
        rows += [(name, path or "not found") for name, path in self.compilers.items()]
        rows += [(f"hello {variant}", reason or "can build")
                 for variant, reason in self.hello_variants.items()]
        return rows

    def __repr__(self) -> str:  # a notebook's plain-text view: the same lines as the CLI
        return self.text()

    def text(self) -> str:
        """Plain text, one finding per line (what ``labkit doctor`` prints)."""
        rows = self._rows()
        width = max(len(key) for key, _ in rows)
        return "\n".join(f"{key:<{width}}  {value}" for key, value in rows)

    def _repr_html_(self) -> str:
        cells = "".join(f"<tr><th style='text-align:left'>{html.escape(key)}</th>"
                        f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
                        for key, value in self._rows())
        return f"<table class='labkit-doctor'>{cells}</table>"


def _engine_line(facts: dict) -> str:
    store = "containerd image store" if facts["containerd_store"] else "classic image store"
    buildkit = "BuildKit available" if facts["buildkit"] else "no BuildKit CLI"
    where = (", Docker Desktop" if facts.get("desktop") else "") + (", rootless" if facts.get("rootless") else "")
    arch = f" on {facts['arch']}" if facts.get("arch") else ""
    if facts.get("family") == "podman":
        return (f"Podman {facts['version']} (Docker API {facts['api_version']}){arch} at "
                f"{facts['base_url']}, {facts['storage_driver']}, containers/storage, "
                f"builds with Buildah (no BuildKit), {facts.get('runtime') or 'runtime unknown'}")
    return (f"Docker {facts['version']} (API {facts['api_version']}){arch} at {facts['base_url']}"
            f"{where}, {facts['storage_driver']}, {store}, {buildkit}")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _fleet() -> tuple[dict[str, dict], str | None]:
    """Facts of every fleet engine that answers, or why the fleet can't be asked."""
    try:
        names = sorted(fleet.endpoints())
    except LabkitError as err:
        return {}, str(err)
    found = {}
    for name in names:
        try:
            found[name] = fleet.engine(name).facts.to_dict()    # with its own CLI + buildx
        except LabkitError:
            continue                                             # stopped since it was listed
    return found, None


def mode() -> str:
    """``"live"`` when a Docker engine answers at DOCKER_HOST, else ``"offline"``.

    Example:
        >>> mode() in ("live", "offline")
        True
    """
    eng = engine_mod.try_connect()
    if eng is None:
        return "offline"
    eng.api.close()  # only asked whether it answers: don't keep its connection open
    return "live"


def report() -> Report:
    """Look at this machine: Python, packages, engine, fleet, compilers, and the mode.

    Example:
        >>> print(report().text())                                   # doctest: +SKIP
        mode        live (a Docker engine answered at unix:///var/run/docker.sock)
        ...
    """
    try:
        eng = engine_mod.connect(timeout=3)
        try:
            facts, engine_error = eng.facts.to_dict(), None
        finally:
            eng.api.close()
        mode, reason = "live", f"a {eng.facts.product} engine answered at {eng.base_url}"
    except LabkitError as err:
        facts, engine_error = None, str(err)
        mode, reason = "offline", "no Docker engine: the lab uses labkit's builder and recorded observations"
    fleet, fleet_error = _fleet()
    here = host_mod.current()
    goal = target(facts, here)
    return Report(
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=platform.platform(),
        packages={name: _version(name) for name in PACKAGES},
        engine=facts,
        engine_error=engine_error,
        compilers={name: shutil.which(name) for name in COMPILERS},
        hello_variants=goal.variants,
        mode=mode,
        mode_reason=reason,
        fleet=fleet,
        fleet_error=fleet_error,
        host=here.to_dict(),
        target=goal.to_dict(),
        differences=differences(facts, here),
    )
