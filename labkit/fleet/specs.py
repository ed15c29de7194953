"""The fleet's catalog: which Docker engines exist and where each comes from.

The catalog is data (``labkit/fleet_catalog.json``). Three kinds of source:

* ``debian`` -- packages pinned in a Debian suite, fetched with apt;
* ``static`` -- Docker's official static release archive, named ``static:<version>``;
* ``archive`` -- a local archive in that same layout, named ``archive:/path/docker-X.tgz``
  (or a catalog entry with ``"kind": "archive"`` and its path in ``source``).

A ``debian`` entry with ``"engine": "podman"`` is a Podman engine (``podman system
service``, its Docker-compatible API), pinned by its ``podman`` package instead of
``docker.io`` (see ``labkit.fleet.podman``).

Example:
    >>> from labkit.fleet import specs
    >>> spec = specs.resolve("28.5.2-containerd")
    >>> spec.suite, spec.version, spec.containerd_store
    ('sid', '28.5.2', True)
    >>> specs.resolve("static:27.3.1").slug
    'static-27.3.1'
"""
from __future__ import annotations

import json
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path

from labkit.errors import FleetError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "fleet_catalog.json"
KINDS = ("debian", "static", "archive")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ARCHIVE_VERSION = re.compile(r"docker-(\d+\.\d+\.\d+[^/]*?)\.(?:tgz|tar\.gz|tar)$")


@dataclass(frozen=True)
class EngineSpec:
    """One engine configuration.

    Attributes:
        name: the public ID (``"20.10.24"``, ``"static:27.3.1"``, ``"archive:/x/docker-27.3.1.tgz"``).
        kind: ``"debian"``, ``"static"`` or ``"archive"``.
        version: the Docker version expected to answer (``None`` when unknown).
        suite: Debian suite (``debian`` kind only).
        packages: package name -> pinned Debian version (``debian`` kind only).
        source: download URL (``static``) or local path (``archive``).
        daemon_json: written to the engine's own ``daemon.json``.
        flags: extra ``dockerd`` flags.
        exact: refuse a different package version than the pin (default: take the suite's).
        description: one line for ``labkit fleet list``.
        engine: ``docker``, or ``podman`` (a Podman service in a root of its suite).
    """

    name: str
    kind: str
    version: str | None = None
    suite: str | None = None
    packages: dict = field(default_factory=dict)
    source: str | None = None
    daemon_json: dict = field(default_factory=dict)
    flags: tuple = ()
    exact: bool = False
    description: str = ""
    engine: str = "docker"

    @property
    def slug(self) -> str:
        """A short, path-safe name for the engine's state directories."""
        if self.name.startswith("archive:"):
            stem = re.sub(r"\.(tgz|tar\.gz|tar)$", "", Path(self.source).name)
            return _SLUG_UNSAFE.sub("-", f"archive-{stem}")
        return _SLUG_UNSAFE.sub("-", self.name.replace(":", "-"))

    @property
    def containerd_store(self) -> bool:
        """True when the daemon is configured for the containerd image store."""
        return bool(self.daemon_json.get("features", {}).get("containerd-snapshotter"))

    @property
    def buildx(self) -> bool:
        """True when the engine ships its own buildx plugin."""
        return "docker-buildx" in self.packages

    def to_dict(self) -> dict:
        """The spec as JSON-ready data."""
        return {
            "name": self.name, "kind": self.kind, "version": self.version, "suite": self.suite,
            "packages": dict(self.packages), "source": self.source,
            "daemon_json": self.daemon_json, "flags": list(self.flags),
            "containerd_store": self.containerd_store, "buildx": self.buildx,
            "description": self.description, "engine": self.engine,
        }


@dataclass(frozen=True)
class Catalog:
    """All named engines, the default set, the static URL template and runc fallbacks.

    ``runc_fallbacks`` lists ``{"suite", "version"}`` of runc packages to use, in order,
    when an engine's own runc cannot run on this machine (it needs a newer glibc).
    """

    engines: dict
    default: tuple
    static_url: str
    runc_fallbacks: tuple = ()

    def resolve(self, name: str) -> EngineSpec:
        """The spec for ``name`` (a catalog ID, ``static:<ver>`` or ``archive:<path>``).

        Raises:
            FleetError: unknown name, or an archive that does not exist.
        """
        if name in self.engines:
            return self.engines[name]
        if name.startswith("static:"):
            version = name.split(":", 1)[1]
            if not re.fullmatch(r"\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?", version):
                raise FleetError(f"bad static version {version!r}", hint="use e.g. static:27.3.1")
            url = self.static_url.format(arch=platform.machine(), version=version)
            return EngineSpec(name=name, kind="static", version=version, source=url,
                              description=f"Docker's static release {version}")
        if name.startswith("archive:"):
            path = Path(os.path.expanduser(name.split(":", 1)[1])).resolve()
            if not path.is_file():
                raise FleetError(f"no archive at {path}",
                                 hint="give archive:/path/to/docker-<version>.tgz")
            found = _ARCHIVE_VERSION.search(path.name)
            return EngineSpec(name=f"archive:{path}", kind="archive", source=str(path),
                              version=found.group(1) if found else None,
                              description=f"local archive {path.name}")
        raise FleetError(f"unknown engine {name!r}",
                         hint=f"known: {', '.join(self.engines)}; or static:<version>, archive:<path>")


def _spec(name: str, raw: dict) -> EngineSpec:
    # A catalog entry must say where it comes from and what it is; reject anything else.
    kind = raw.get("kind")
    if kind not in ("debian", "archive"):
        raise FleetError(f"catalog entry {name!r}: expected kind 'debian' or 'archive', got {kind!r}",
                         hint="Docker's static releases are named static:<version>")
    unknown = set(raw) - {"kind", "suite", "version", "packages", "source", "daemon_json",
                          "flags", "exact", "description", "engine"}
    if unknown:
        raise FleetError(f"catalog entry {name!r}: unknown keys {sorted(unknown)}")
    packages = raw.get("packages") or {}
    engine = raw.get("engine", "docker")
    if engine not in ("docker", "podman") or engine == "podman" and kind != "debian":
        raise FleetError(f"catalog entry {name!r}: expected engine 'docker', or 'podman' "
                         f"from Debian, got {engine!r} ({kind})")
    pin = "docker.io" if engine == "docker" else "podman"
    if kind == "debian" and (not raw.get("suite") or pin not in packages):
        raise FleetError(f"catalog entry {name!r}: expected a suite and a {pin} pin")
    if kind == "archive" and not raw.get("source"):
        raise FleetError(f"catalog entry {name!r}: expected the archive's path in source")
    return EngineSpec(
        name=name, kind=kind, version=raw.get("version"), suite=raw.get("suite"),
        packages=dict(packages), source=raw.get("source"),
        daemon_json=dict(raw.get("daemon_json") or {}), flags=tuple(raw.get("flags") or ()),
        exact=bool(raw.get("exact")), description=raw.get("description", ""), engine=engine,
    )


def load(path: str | os.PathLike | None = None) -> Catalog:
    """Read and validate a catalog file (default: the packaged one, or ``$LABKIT_FLEET_CATALOG``).

    Raises:
        FleetError: the file is missing, not JSON, or an entry is malformed.
    """
    path = Path(path or os.environ.get("LABKIT_FLEET_CATALOG") or DEFAULT_PATH)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise FleetError(f"cannot read the fleet catalog {path}: {err}") from None
    engines = {name: _spec(name, entry) for name, entry in raw.get("engines", {}).items()}
    default = tuple(raw.get("default", engines))
    missing = [name for name in default if name not in engines]
    if missing:
        raise FleetError(f"catalog default set names unknown engines {missing}")
    fallbacks = tuple(raw.get("runc_fallbacks", ()))
    if any(set(f) != {"suite", "version"} for f in fallbacks):
        raise FleetError("catalog runc_fallbacks: expected entries with suite and version only")
    return Catalog(engines=engines, default=default, static_url=raw.get("static_url", ""),
                   runc_fallbacks=fallbacks)


def resolve(name: str) -> EngineSpec:
    """The spec for ``name`` in the default catalog (see :meth:`Catalog.resolve`)."""
    return load().resolve(name)
