"""Several real Docker engines side by side, each with its own socket and data root
(and Podman services beside them: ``labkit.fleet.podman``).

``up`` fetches each engine's programs (Debian packages through a private apt, Docker's
static release, or a local archive), unpacks them under ``~/.cache/labkit/engines``
and starts one ``dockerd`` per engine with its own socket under ``/run/labkit/fleet``.
Nothing is installed system-wide. ``LABKIT_CACHE`` and ``LABKIT_FLEET_RUN`` move the
two directories; ``LABKIT_FLEET_CATALOG`` names another catalog file.

Example:
    >>> from labkit import fleet
    >>> [spec.name for spec in fleet.catalog()][:2]
    ['20.10.5', '20.10.24']
    >>> fleet.up(["26.1.5"])                                   # doctest: +SKIP
    >>> fleet.endpoints()                                      # doctest: +SKIP
    {'26.1.5': 'unix:///run/labkit/fleet/26.1.5/docker.sock'}
    >>> fleet.engine("26.1.5").facts.version                   # doctest: +SKIP
    '26.1.5+dfsg1'
"""
from __future__ import annotations

import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labkit import engine as engine_mod
from labkit.errors import FleetError, LabkitError
from labkit.fleet import daemon, podman
from labkit.fleet.specs import Catalog, EngineSpec, load
from labkit.fleet.daemon import EngineDirs
from labkit.fleet.fetch import Fetcher, Prepared

__all__ = ["Fleet", "EngineStatus", "catalog", "up", "status", "down", "endpoints", "engine",
           "leftovers", "provenance", "table", "cli"]
log = logging.getLogger("labkit.fleet")


@dataclass
class EngineStatus:
    """What one engine of the fleet is doing.

    Attributes:
        name: catalog ID; ``up``: its dockerd runs; ``healthy``: it answers ``/_ping``.
        version, api_version, storage_driver, containerd_store, buildkit: as it reports.
        expected_version: what the catalog promises (``None`` when unknown).
        base_url: its socket; ``docker_cli`` / ``docker_config``: for BuildKit builds on it.
        packages: the Debian package versions actually unpacked.
    """

    name: str
    up: bool = False
    healthy: bool = False
    version: str | None = None
    api_version: str | None = None
    storage_driver: str | None = None
    containerd_store: bool | None = None
    buildkit: bool | None = None
    expected_version: str | None = None
    base_url: str | None = None
    docker_cli: str | None = None
    docker_config: str | None = None
    packages: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready data."""
        return asdict(self)


def _default_cache() -> Path:
    if os.environ.get("LABKIT_CACHE"):
        return Path(os.environ["LABKIT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labkit"


def require_root() -> None:
    """Raise :class:`FleetError` unless this is Linux and we are root."""
    if not sys.platform.startswith("linux"):
        raise FleetError(f"the fleet runs Docker engines on Linux only (this is {sys.platform})",
                         hint="use a Linux machine or VM, or read the recorded observations")
    if os.geteuid() != 0:
        raise FleetError(f"starting and stopping Docker engines needs root (this is uid {os.geteuid()})",
                         hint="run it with sudo, or read the recorded observations")


class Fleet:
    """The fleet in one pair of directories.

    Args:
        catalog_path: catalog file (default: the packaged one / ``$LABKIT_FLEET_CATALOG``).
        cache: downloads and unpacked engines (default ``~/.cache/labkit``).
        run: sockets and exec roots (default ``/run/labkit/fleet``; keep it short).
    """

    def __init__(self, catalog_path=None, cache=None, run=None):
        self.catalog: Catalog = load(catalog_path)
        self.cache = Path(cache) if cache else _default_cache()
        self.run = Path(run or os.environ.get("LABKIT_FLEET_RUN") or "/run/labkit/fleet")

    # --- paths -------------------------------------------------------------------------
    def dirs(self, spec: EngineSpec) -> EngineDirs:
        """The run and data directories of ``spec``."""
        kind = podman.ServiceDirs if spec.engine == "podman" else EngineDirs
        return kind(run=self.run / spec.slug, data=self.cache / "engines" / spec.slug / "data")

    def _state(self, spec: EngineSpec) -> Path:
        return self.run / spec.slug / "engine.json"

    def _specs(self, names) -> list[EngineSpec]:
        return [self.catalog.resolve(n) for n in (names or self.catalog.default)]

    def _started(self) -> list[EngineSpec]:
        """Engines with a state file in the run directory (started, maybe dead), catalog order."""
        found = []
        for state in sorted(self.run.glob("*/engine.json")) if self.run.is_dir() else []:
            try:
                found.append(self.catalog.resolve(json.loads(state.read_text())["name"]))
            except (OSError, ValueError, KeyError, LabkitError):
                log.warning("ignoring unreadable fleet state %s", state)
        order = list(self.catalog.engines)
        return sorted(found, key=lambda s: (order.index(s.name) if s.name in order else len(order), s.name))

    @contextmanager
    def _lock(self):
        import fcntl  # POSIX only: imported here, so labkit itself imports on Windows

        self.run.mkdir(parents=True, exist_ok=True)
        path = self.run / ".lock"
        with open(path, "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FleetError(f"another `labkit fleet up` or `down` holds {path}",
                                 hint="wait for it to finish") from None
            yield

    # --- up ----------------------------------------------------------------------------
    def up(self, names=None, progress: bool = True) -> list[EngineStatus]:
        """Bring engines up (default: the catalog's default set); already-up ones are kept.

        Raises:
            FleetError: not root / not Linux, another up running, a fetch failed, or an
                engine failed to start (its log's last lines in the message).
        """
        require_root()        # first: a user who is not root hears why before anything loads
        from tqdm import tqdm

        specs = self._specs(names)
        with self._lock():
            todo = [s for s in specs if not self._healthy(s)]
            for spec in todo:
                daemon.stop(self.dirs(spec))         # leftovers of a killed run
            fetcher = Fetcher(self.cache, self.catalog.runc_fallbacks)
            prepared = {s.name: fetcher.ready(s) for s in todo}
            cold = [s for s in todo if prepared[s.name] is None]
            bar = tqdm(total=len(cold) * 2 + len(todo), desc="fleet", unit="step",
                       disable=not progress, file=sys.stderr, leave=False)
            with bar:
                bar.set_postfix_str("download")
                fetcher.download(cold, on_each=lambda spec: bar.update(1))
                bar.set_postfix_str("unpack")

                def unpack(spec):
                    prepared[spec.name] = fetcher.unpack(spec)
                    bar.update(1)

                with ThreadPoolExecutor(max_workers=2) as pool:
                    list(pool.map(unpack, cold))
                bar.set_postfix_str("start")
                errors = []

                def start(spec):
                    try:
                        self._start(spec, prepared[spec.name])
                    except (LabkitError, OSError) as err:
                        errors.append(f"{spec.name}: {err}" if isinstance(err, OSError) else str(err))
                    bar.update(1)

                with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
                    list(pool.map(start, todo))
            if errors:
                raise FleetError("; ".join(sorted(errors)))
        rows = self.status([s.name for s in specs])
        for row in rows:       # a suite that moved on: say so; the row names the real version
            if row.version and row.expected_version and not row.version.startswith(row.expected_version):
                log.warning("%s answers as Docker %s, not %s (unpacked: docker.io %s); "
                            "recordings name the real version", row.name, row.version,
                            row.expected_version, row.packages.get("docker.io", "?"))
        return rows

    def _start(self, spec: EngineSpec, found: Prepared) -> None:
        dirs = self.dirs(spec)
        dirs.run.mkdir(parents=True, exist_ok=True)
        self._state(spec).write_text(json.dumps({       # podman reads no DOCKER_CONFIG of ours
            "name": spec.name, "docker_cli": str(found.layout.docker_cli), "suite": spec.suite,
            "docker_config": None if spec.engine == "podman" else str(dirs.docker_config),
            "packages": found.packages}, indent=2) + "\n")
        if spec.engine == "podman":              # its CLI: the root's podman, a remote client
            podman.start(dirs, found.layout.root, spec.flags)
            return
        plugins = dirs.docker_config / "cli-plugins"
        plugins.mkdir(parents=True, exist_ok=True)
        if found.layout.buildx:
            link = plugins / "docker-buildx"
            link.unlink(missing_ok=True)
            link.symlink_to(found.layout.buildx)
        daemon.start(dirs, found.layout.path, spec.flags, spec.daemon_json)

    # --- status ------------------------------------------------------------------------
    def _healthy(self, spec: EngineSpec) -> bool:
        dirs = self.dirs(spec)
        return daemon.read_pid(dirs) is not None and daemon.ping(dirs.sock)

    def status(self, names=None) -> list[EngineStatus]:
        """Each engine (named, or started plus the default set): up, healthy, version, socket."""
        specs = self._specs(names) if names else self._started()
        specs += [s for s in self._specs(None) if not names and s.name not in {x.name for x in specs}]
        rows = []
        for spec in specs:
            dirs = self.dirs(spec)
            row = EngineStatus(name=spec.name, expected_version=spec.version)
            row.up = daemon.read_pid(dirs) is not None
            try:
                state = json.loads(self._state(spec).read_text())
            except (OSError, ValueError):
                state = {}
            row.docker_cli, row.docker_config = state.get("docker_cli"), state.get("docker_config")
            row.packages = state.get("packages", {})
            if row.up and daemon.ping(dirs.sock):
                row.base_url = dirs.base_url
                eng = engine_mod.try_connect(dirs.base_url, docker_cli=row.docker_cli,
                                             docker_config=row.docker_config)
                facts = None
                if eng is not None:
                    try:
                        facts = eng.facts
                    except LabkitError:              # it stopped answering just now
                        pass
                    finally:
                        eng.api.close()
                if facts is not None:
                    row.healthy = True
                    row.version, row.api_version = facts.version, facts.api_version
                    row.storage_driver, row.containerd_store = facts.storage_driver, facts.containerd_store
                    row.buildkit = facts.buildkit
            rows.append(row)
        return rows

    def endpoints(self) -> dict[str, str]:
        """name -> base_url of every started engine that answers ``/_ping``."""
        return {s.name: self.dirs(s).base_url for s in self._started() if self._healthy(s)}

    def engine(self, name: str):
        """A :class:`labkit.engine.Engine` for the running fleet engine ``name``.

        Raises:
            FleetError: it is not up.
        """
        spec = self.catalog.resolve(name)
        if not self._healthy(spec):
            raise FleetError(f"fleet engine {name} is not up", hint=f"run `labkit fleet up {name}`")
        try:
            state = json.loads(self._state(spec).read_text())
            docker_cli, docker_config = state["docker_cli"], state["docker_config"]
        except (OSError, ValueError, KeyError) as err:
            raise FleetError(f"fleet engine {name} answers but its state {self._state(spec)} is "
                             f"unreadable ({err})", hint=f"run `labkit fleet down {name}` and `up` again") from None
        return engine_mod.connect(self.dirs(spec).base_url, docker_cli=docker_cli,
                                  docker_config=docker_config)

    def leftovers(self, names=None) -> list[str]:
        """What engines (default: started ones plus the default set) left behind:
        processes, mounts and sockets, one line each. Empty after a clean ``down``."""
        specs = self._specs(names) if names else self._started() + list(self._specs(None))
        found = []
        for spec in {s.name: s for s in specs}.values():
            dirs = self.dirs(spec)
            found += [f"{spec.name}: process {pid}" for pid in daemon.processes(dirs)]
            found += [f"{spec.name}: mount {point}" for point in daemon.mounts(dirs)]
            found += [f"{spec.name}: socket {dirs.sock}"] if dirs.sock.exists() else []
        return found

    # --- down --------------------------------------------------------------------------
    def down(self, names=None, keep: bool = False) -> list[str]:
        """Stop engines (default: every started one), unmount, and remove state unless ``keep``.

        Idempotent. Returns the names it stopped or tidied.
        """
        require_root()
        specs = self._specs(names) if names else self._started()
        with self._lock():
            for spec in specs:
                dirs = self.dirs(spec)
                daemon.stop(dirs)
                if not keep:
                    daemon.remove(dirs)
        return [s.name for s in specs]


def _fleet() -> Fleet:
    return Fleet()


def catalog() -> list[EngineSpec]:
    """Every named engine in the catalog (``static:<ver>`` and ``archive:<path>`` also work)."""
    return list(load().engines.values())


def up(names=None, progress: bool = True) -> list[EngineStatus]:
    """Bring engines up; see :meth:`Fleet.up`."""
    return _fleet().up(names, progress=progress)


def status(names=None) -> list[EngineStatus]:
    """Engines and how they are; see :meth:`Fleet.status`."""
    return _fleet().status(names)


def down(names=None, keep: bool = False) -> list[str]:
    """Stop engines; see :meth:`Fleet.down`."""
    return _fleet().down(names, keep=keep)


def endpoints() -> dict[str, str]:
    """name -> base_url of every healthy fleet engine (``{}`` when none runs)."""
    return _fleet().endpoints()


def engine(name: str):
    """A :class:`labkit.engine.Engine` for fleet engine ``name`` (with its CLI and DOCKER_CONFIG)."""
    return _fleet().engine(name)


def leftovers(names=None) -> list[str]:
    """Processes, mounts and sockets engines left behind; see :meth:`Fleet.leftovers`."""
    return _fleet().leftovers(names)


def provenance(name: str) -> dict:
    """Fleet engine ``name``'s Debian suite and unpacked package versions, for a recording's
    provenance (what it cannot say is left out): ``{"suite": "bookworm", "packages": {...}}``."""
    fleet = _fleet()
    spec = fleet.catalog.resolve(name)
    try:
        state = json.loads(fleet._state(spec).read_text())
    except (OSError, ValueError):
        state = {}
    return {k: v for k, v in (("suite", spec.suite), ("packages", state.get("packages"))) if v}


def table(rows: list[EngineStatus]) -> str:
    """The status rows as a plain-text table."""
    lines = [("engine", "version", "API", "storage", "buildkit", "socket")]
    for r in rows:
        storage = (r.storage_driver or "-") + (" (containerd store)" if r.containerd_store else "")
        state = r.base_url if r.healthy else ("up, not answering" if r.up else "down")
        lines.append((r.name, r.version or "-", r.api_version or "-", storage,
                      {True: "yes", False: "no", None: "-"}[r.buildkit], state))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in lines)


def cli(args) -> int:
    """``labkit fleet list|up|status|down [ENGINE...] [--json] [--keep]``."""
    fleet = _fleet()
    if args.action == "list":
        specs = [fleet.catalog.resolve(n) for n in args.engines] or list(fleet.catalog.engines.values())
        if args.json:
            json.dump([s.to_dict() for s in specs], sys.stdout, indent=2)
            print()
        else:
            for s in specs:
                mark = "*" if s.name in fleet.catalog.default else " "
                print(f"{mark} {s.name:20} {s.suite or s.kind:9} {s.description}")
        return 0
    if args.action == "down":
        for name in fleet.down(args.engines or None, keep=args.keep):
            print(f"{name}: down")
        return 0
    rows = (fleet.up(args.engines or None, progress=sys.stderr.isatty()) if args.action == "up"
            else fleet.status(args.engines or None))
    if args.json:
        json.dump([r.to_dict() for r in rows], sys.stdout, indent=2)
        print()
    else:
        print(table(rows))
    return 0
