"""An engine per learner: the fleet's way of running Docker engines side by side, one
per learner, each with its own socket (group: that learner's own), data root and exec
root under the classroom's root. Isolation instead of hygiene -- at a price in memory
that the load test measures (``bench/bench_classroom.py --engine-per-learner``).

The engine is the fleet's Docker 20.10.24 (Debian bookworm's docker.io, the same
version as the machine's own engine here), unpacked once into the fleet's cache
(``~/.cache/labkit/engines``); nothing touches the instructor's running fleet.

Example:
    >>> dirs("/srv/c", "labkit-learner-01").sock
    PosixPath('/srv/c/engines/01/docker.sock')
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from labkit.errors import LabkitError
from labkit.fleet import Fleet, daemon
from labkit.fleet.daemon import EngineDirs
from labkit.fleet.fetch import Fetcher

ENGINE = "20.10.24"


def dirs(root, name: str) -> EngineDirs:
    """Learner ``name``'s engine folders: short, for unix socket paths (``engines/01``)."""
    number = name.rsplit("-", 1)[-1]
    folder = Path(root) / "engines" / number
    return EngineDirs(run=folder, data=folder / "data")


def _programs() -> tuple:
    """The PATH of the fleet's unpacked ENGINE (fetched and unpacked into its cache if needed)."""
    fleet = Fleet()
    spec = fleet.catalog.resolve(ENGINE)
    fetcher = Fetcher(fleet.cache, fleet.catalog.runc_fallbacks)
    found = fetcher.ready(spec)
    if found is None:
        fetcher.download([spec])
        found = fetcher.unpack(spec)
    return spec, found.layout.path


def start(root, learners: list[str], workers: int = 4) -> dict[str, str]:
    """Start one engine per learner; returns learner -> ``DOCKER_HOST``.

    Raises:
        LabkitError: an engine did not start (the others are stopped again).
    """
    spec, path = _programs()

    def one(name: str) -> tuple[str, str]:
        where = dirs(root, name)
        daemon.start(where, path, (*spec.flags, "--group", name), dict(spec.daemon_json))
        return name, where.base_url

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, name) for name in learners]
    started, errors = {}, []
    for future in futures:
        try:
            name, url = future.result()
            started[name] = url
        except (LabkitError, OSError) as err:
            errors.append(str(err))
    if errors:
        stop(root, learners)
        raise LabkitError(f"an engine per learner: {errors[0]}", hint="see its log under engines/")
    return started


def stop(root, learners: list[str]) -> None:
    """Stop every learner's engine and delete its folders (idempotent)."""
    for name in learners:
        where = dirs(root, name)
        if where.run.exists():
            daemon.stop(where)
            daemon.remove(where)


def memory(root, learners: list[str]) -> dict[str, list[int]]:
    """learner -> pids of their engine (dockerd, containerd, shims), for RSS sampling."""
    return {name: daemon.processes(dirs(root, name)) for name in learners}
