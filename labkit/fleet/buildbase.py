"""The lab's compiler base, ``labkit/build-base:bookworm``: a minimal Debian with gcc,
libc6-dev and musl-tools, made from the distribution's own packages with mmdebstrap (the
archive read from this machine's apt sources), cached, and imported into an engine -- so
the lesson's multi-stage Dockerfile builds where no registry can be reached.

The name is the lab's own: it never hides a real image (``debian:bookworm``). An
instructor runs ``labkit build-base`` once (as root); ``.ci/run`` runs it too. The
tarball is a real root filesystem (never one of the sparse test tars).

Example:
    >>> TAG
    'labkit/build-base:bookworm'
    >>> source_line("http://mirror/debian", "/usr/share/keyrings/debian-archive-keyring.gpg")
    'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror/debian bookworm main'
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from labkit.errors import EngineError, FleetError, LabkitError, MissingTool
from labkit.fleet import apt
from labkit.hello.context import BUILD_BASE

log = logging.getLogger("labkit.fleet")

TAG = BUILD_BASE
SUITE = "bookworm"
PACKAGES = ("gcc", "libc6-dev", "musl-tools")
#: The image config ``docker import`` gives it (an imported image has none of its own).
LABEL = "org.labkit.build-base"
CHANGES = ("ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["bash"]',
           f"LABEL {LABEL}={SUITE}+{'+'.join(PACKAGES)}")
#: Dates in the tarball (mmdebstrap honours SOURCE_DATE_EPOCH): the same packages, the same bytes.
EPOCH = "1700000000"


def cache_file(cache: str | Path | None = None) -> Path:
    """Where the root filesystem tarball is kept: ``$LABKIT_CACHE/build-base/`` (default
    ``~/.cache/labkit``)."""
    if cache is None:
        cache = os.environ.get("LABKIT_CACHE") or Path(os.environ.get("XDG_CACHE_HOME")
                                                       or Path.home() / ".cache") / "labkit"
    return Path(cache) / "build-base" / f"debian-{SUITE}-{'-'.join(PACKAGES)}.tar"


def source_line(uri: str, keyring: str | None) -> str:
    """The apt source mmdebstrap reads: the machine's Debian archive, signed or trusted."""
    option = f"[signed-by={keyring}]" if keyring else "[trusted=yes]"
    return f"deb {option} {uri} {SUITE} main"


def tarball(cache: str | Path | None = None, rebuild: bool = False, progress=None) -> Path:
    """The root filesystem tarball, made once with mmdebstrap and cached.

    Raises:
        MissingTool: mmdebstrap is not installed.
        FleetError: mmdebstrap failed (its own last lines), or no Debian archive is in the
            machine's apt sources.
    """
    out = cache_file(cache)
    if out.is_file() and not rebuild:
        return out
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise MissingTool("mmdebstrap is not installed", hint="apt-get install mmdebstrap")
    uri, keyring = apt.debian_archive(apt.machine_sources())
    if keyring is None:
        log.warning("no Debian keyring found: package signatures are NOT checked (install debian-archive-keyring)")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{os.getpid()}.{out.name}")
    if progress:
        progress(f"mmdebstrap {SUITE} + {', '.join(PACKAGES)} from {uri} (a few minutes, once)")
    started = time.monotonic()
    try:
        done = subprocess.run([mmdebstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", "--format=tar",
                               "--quiet", SUITE, str(partial), source_line(uri, keyring)],
                              capture_output=True, text=True, timeout=3600,
                              env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        raise FleetError("mmdebstrap took over an hour", hint="check the network to the Debian archive") from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise FleetError(f"mmdebstrap failed: {tail}",
                         hint="run it as root, and check the network and the machine's apt sources")
    partial.rename(out)
    if progress:
        progress(f"{out} ({out.stat().st_size:,} bytes) in {time.monotonic() - started:.0f} s")
    return out


def present(engine) -> str | None:
    """The base's image ID on ``engine``, or None when it does not have it (or an older
    one, made of other packages)."""
    try:
        found = engine.inspect(TAG)
    except LabkitError:
        return None
    labels = (found.get("Config") or {}).get("Labels") or {}
    return found["Id"] if labels.get(LABEL) == CHANGES[2].split("=", 1)[1] else None


def ensure(engine, cache: str | Path | None = None, reimport: bool = False, progress=None) -> str:
    """Import the base into ``engine`` (``docker import``, as a learner would type it)
    unless it is there already; returns its image ID. Not labelled as the lab's: test
    sessions' cleanups leave it alone.

    Raises:
        EngineError: the engine refused the import (its own words).
    """
    found = present(engine)
    if found and not reimport:
        return found
    path = tarball(cache, progress=progress)
    args = ["import", *(arg for change in CHANGES for arg in ("--change", change)), str(path), TAG]
    run = engine.docker(args)
    if run.exit_code != 0:
        raise EngineError(f"docker import of {path.name} failed: {' '.join(run.output.split())[-300:]}")
    if progress:
        progress(f"{engine.base_url}: {TAG} imported")
    return present(engine) or ""


def cli(args, engines) -> int:
    """``labkit build-base [--fleet] [--rebuild]``: ``engines`` is the list to import into."""
    say = print
    path = tarball(rebuild=args.rebuild, progress=say)
    say(f"tarball: {path}")
    for eng in engines:
        image = ensure(eng, reimport=args.rebuild, progress=say)
        say(f"{eng.base_url}: {TAG} {image[:19]}")
    return 0
