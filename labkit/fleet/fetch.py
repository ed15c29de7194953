"""Get each engine's programs into ``<cache>/engines/<name>/root``, once.

Debian engines: ``apt-get download`` of the pinned packages (one private ``apt-get
update`` for all suites, skipped when every package is already in ``<cache>/debs``);
when a suite has moved on, the suite's version is taken, with a warning, and the
version actually unpacked is recorded. Static engines: Docker's release archive,
downloaded to ``<cache>/static``. Archive engines: the local file.

Example:
    >>> from labkit.fleet.fetch import deb_name
    >>> deb_name("containerd", "1:1.7.24~ds1-6")
    'containerd_1%3a1.7.24~ds1-6_*.deb'
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import FleetError
from labkit.fleet import apt, archive, podman
from labkit.fleet.archive import Layout
from labkit.fleet.specs import EngineSpec

log = logging.getLogger("labkit.fleet")
MANIFEST = "engine.json"


@dataclass(frozen=True)
class Prepared:
    """An unpacked engine: where its programs are and which package versions it has."""

    layout: Layout
    packages: dict


def deb_name(package: str, version: str) -> str:
    """The glob for the file ``apt-get download package=version`` writes."""
    return f"{package}_{version.replace(':', '%3a')}_*.deb"


class Fetcher:
    """Downloads and unpacks engines under ``cache`` (``~/.cache/labkit``).

    Args:
        cache: the cache directory.
        runc_fallbacks: ``{"suite", "version"}`` runc packages to try, in order, when an
            engine's own runc cannot run on this machine.
    """

    def __init__(self, cache: Path, runc_fallbacks: tuple = ()):
        self.cache = Path(cache)
        self.debs = self.cache / "debs"
        self.runc_fallbacks = runc_fallbacks
        self._chosen: dict[str, dict[str, str]] = {}     # engine -> package -> version
        self._apt: apt.PrivateApt | None = None
        self._apt_lock = threading.Lock()

    def _private_apt(self) -> apt.PrivateApt:
        if self._apt is None:
            self._apt = apt.PrivateApt(self.cache / "apt", *apt.debian_archive(apt.machine_sources()))
        return self._apt

    def _home(self, spec: EngineSpec) -> Path:
        return self.cache / "engines" / spec.slug

    def _origin(self, spec: EngineSpec) -> dict:
        # What the unpacked root was made from; a different origin means unpack again.
        if spec.kind == "archive":
            stat = Path(spec.source).stat()
            return {"source": spec.source, "size": stat.st_size, "mtime": int(stat.st_mtime)}
        if spec.engine == "podman":               # and how its root is made
            return {"source": spec.source, "pins": spec.packages, "root": [podman.VARIANT, *podman.EXTRA]}
        return {"source": spec.source, "pins": spec.packages}

    def ready(self, spec: EngineSpec) -> Prepared | None:
        """The unpacked engine, or ``None`` when it must be fetched and unpacked."""
        try:
            manifest = json.loads((self._home(spec) / MANIFEST).read_text())
            if manifest["origin"] != self._origin(spec):
                return None
            if spec.engine == "podman":           # its runc runs chrooted in its own root
                return Prepared(podman.layout(self._home(spec) / "root"), manifest["packages"])
            found = archive.layout(self._home(spec) / "root")
        except (OSError, ValueError, KeyError, FleetError):
            return None
        if archive.runs(archive.runc(found)):       # e.g. a cache made on a newer machine
            return None
        return Prepared(found, manifest["packages"])

    # --- download ----------------------------------------------------------------------
    def download(self, specs: list[EngineSpec], on_each=lambda spec: None) -> None:
        """Fetch what ``specs`` need into the cache (apt for Debian, HTTPS for static)."""
        debian = [s for s in specs if s.kind == "debian"]
        if debian:
            self._download_debs(debian)
        for spec in specs:
            if spec.kind == "static":
                self._download_static(spec)
            on_each(spec)

    def _cached_deb(self, package: str, version: str) -> Path | None:
        return next(iter(sorted(self.debs.glob(deb_name(package, version)))), None)

    def _download_debs(self, specs: list[EngineSpec]) -> None:
        missing = {s.name for s in specs
                   if any(self._cached_deb(p, v) is None for p, v in s.packages.items())}
        for spec in specs:
            self._chosen[spec.name] = dict(spec.packages)
        if not missing:
            return
        specs = [s for s in specs if s.name in missing]
        private = self._private_apt()
        private.update([s.suite for s in specs])
        known = private.versions(sorted({p for s in specs for p in s.packages}))
        pins = set()
        for spec in specs:
            for package, pinned in spec.packages.items():
                version = self._choose(spec, package, pinned, known.get((package, spec.suite), []))
                self._chosen[spec.name][package] = version
                if self._cached_deb(package, version) is None:
                    pins.add(f"{package}={version}")
        if pins:
            private.download(sorted(pins), self.debs)

    @staticmethod
    def _choose(spec: EngineSpec, package: str, pinned: str, available: list[str]) -> str:
        if pinned in available:
            return pinned
        if not available:
            raise FleetError(f"{spec.name}: Debian {spec.suite} has no package {package}",
                             hint="fix the catalog entry")
        if spec.exact:
            raise FleetError(f"{spec.name}: {package}={pinned} is not in Debian {spec.suite} "
                             f"(it has {', '.join(available)})", hint="update the catalog pin")
        log.warning("%s: %s=%s is gone from Debian %s; taking %s", spec.name, package, pinned,
                    spec.suite, available[0])
        return available[0]

    def _static_path(self, spec: EngineSpec) -> Path:
        return self.cache / "static" / Path(spec.source).name

    def _download_static(self, spec: EngineSpec) -> None:
        target = self._static_path(spec)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            with urllib.request.urlopen(spec.source, timeout=60) as answer, open(partial, "wb") as out:
                shutil.copyfileobj(answer, out)
        except (urllib.error.URLError, OSError) as err:
            partial.unlink(missing_ok=True)
            raise FleetError(f"cannot download {spec.source}: {getattr(err, 'reason', err)}",
                             hint="static engines need internet access; or use archive:<path>") from None
        partial.rename(target)

    # --- unpack ------------------------------------------------------------------------
    def unpack(self, spec: EngineSpec) -> Prepared:
        """Unpack the downloaded engine into ``<cache>/engines/<name>/root``.

        Raises:
            FleetError: it cannot be unpacked, or its runc cannot run here (a Debian
                engine first tries the catalog's ``runc_fallbacks``).
        """
        root = self._home(spec) / "root"
        packages = {}
        if spec.engine == "podman":                # a root of its suite: mmdebstrap
            packages = self._chosen[spec.name]
            private = self._private_apt()
            found = podman.make_root(spec.suite, [self._cached_deb(p, v) for p, v in packages.items()],
                                     root, private.uri, private.keyring)
            (self._home(spec) / MANIFEST).write_text(json.dumps(
                {"name": spec.name, "origin": self._origin(spec), "packages": packages}, indent=2) + "\n")
            return Prepared(found, packages)
        if spec.kind == "debian":
            packages = self._chosen[spec.name]
            debs = [self._cached_deb(p, v) for p, v in packages.items()]
            found = archive.unpack_debs(debs, root)
        else:
            found = archive.unpack_archive(
                self._static_path(spec) if spec.kind == "static" else Path(spec.source), root)
        why = archive.runs(archive.runc(found))
        if why and spec.kind == "debian":
            packages = dict(packages, runc=self._replace_runc(spec, found, why))
        elif why:
            raise FleetError(f"{spec.name}: its runc cannot run here ({why})",
                             hint="use Docker's static release for this machine's architecture")
        (self._home(spec) / MANIFEST).write_text(json.dumps(
            {"name": spec.name, "origin": self._origin(spec), "packages": packages}, indent=2) + "\n")
        return Prepared(found, packages)

    # --- runc that runs here -----------------------------------------------------------
    def _replace_runc(self, spec: EngineSpec, found: Layout, why: str) -> str:
        """Put the first fallback runc that runs here in place of ``spec``'s own.

        Returns:
            what the engine's runc now is, e.g. ``"1.1.5+ds1-1+deb12u1 (bookworm; ...)"``.
        """
        glibc = re.search(r"`(GLIBC_[0-9.]+)' not found", why)
        why = f"it needs {glibc.group(1)}" if glibc else why
        with self._apt_lock:
            for fallback in self.runc_fallbacks:
                candidate = self._fallback_runc(fallback["suite"], fallback["version"])
                if archive.runs(candidate) is None:
                    target = archive.runc(found).resolve()
                    target.unlink()
                    shutil.copy2(candidate, target)
                    log.warning("%s: its runc cannot run here (%s); using runc %s from %s",
                                spec.name, why, fallback["version"], fallback["suite"])
                    return (f"{fallback['version']} (from {fallback['suite']}: {spec.suite}'s runc "
                            f"does not run here, {why})")
        raise FleetError(f"{spec.name}: its runc cannot run here ({why}) and no fallback runc does",
                         hint="add a runc that runs on this machine to runc_fallbacks in the catalog")

    def _fallback_runc(self, suite: str, version: str) -> Path:
        home = self.cache / "compat" / f"runc-{version}"
        program = home / "usr" / "sbin" / "runc"
        if program.exists():
            return program
        deb = self._cached_deb("runc", version)
        if deb is None:
            private = self._private_apt()
            if suite not in private.suites_listed():
                private.update(sorted(private.suites_listed() | {suite}))
            private.download([f"runc={version}"], self.debs)
            deb = self._cached_deb("runc", version)
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        archive.extract_deb(deb, home)
        return program
