"""The class's own Docker engines, started the fleet's way: each with its own socket,
data root and exec root under the classroom's root.

Two uses: *one engine for the class* (``--engine class``: like the machine's engine, but
nobody else's images on it, so a load test counts exactly what the class made and left),
and *an engine per learner* (``--engine per-learner``: isolation instead of hygiene, at
a price in memory the load test measures). A socket's group is the one allowed to use
it: the class's group, or the learner's own.

The engine is the fleet's Docker 20.10.24 (Debian bookworm's docker.io, the same
version as the machine's own engine here), unpacked once into the fleet's cache
(``~/.cache/labkit/engines``); nothing touches the instructor's running fleet.

Example:
    >>> dirs("/srv/c", "labkit-learner-01").sock
    PosixPath('/srv/c/engines/01/docker.sock')
    >>> dirs("/srv/c", "class").sock
    PosixPath('/srv/c/engines/class/docker.sock')
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
    """Engine ``name``'s folders (a learner's: ``engines/01``; short, for unix socket paths)."""
    folder = Path(root) / "engines" / name.rsplit("-", 1)[-1]
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


def start(root, groups: dict[str, str], workers: int = 4) -> dict[str, str]:
    """Start engines: name -> the group that may use its socket; returns name -> ``DOCKER_HOST``.

    Raises:
        LabkitError: an engine did not start (the others are stopped again).
    """
    spec, path = _programs()

    def one(name: str) -> tuple[str, str]:
        where = dirs(root, name)
        daemon.start(where, path, (*spec.flags, "--group", groups[name]), dict(spec.daemon_json))
        return name, where.base_url

    learners = list(groups)
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
        raise LabkitError(f"a class engine did not start: {errors[0]}", hint="see its log under engines/")
    return started


def stop(root, learners: list[str]) -> None:
    """Stop these engines and delete their folders (idempotent)."""
    for name in learners:
        where = dirs(root, name)
        if where.run.exists():
            daemon.stop(where)
            daemon.remove(where)


def pids(root, learners: list[str]) -> dict[str, list[int]]:
    """name -> pids of its engine (dockerd, containerd, shims), for RSS sampling."""
    return {name: daemon.processes(dirs(root, name)) for name in learners}
