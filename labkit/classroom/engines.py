"""The class's own Docker engines: root engines started the fleet's way, each with its own
socket, data root and exec root under the classroom's root -- or a rootless engine per
learner (:func:`rootless_up`, :mod:`labkit.classroom.rootless`).

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

from labkit.classroom import accounts, limits, rootless
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


# --- a rootless engine per learner (--engine rootless) -------------------------------------
def rootless_up(settings: dict, limits_asked, log=print, workers: int = 4) -> None:
    """For each learner of ``settings`` (their user made, without a home yet): their home
    (a filesystem of its own when a disk limit is asked), subordinate ids, control groups
    with ``limits_asked`` and a rootless engine as them. Records all of it in ``settings``
    (``docker_hosts``, ``engine_pids``, ``cgroups``, ``limits``, ``devices``...).

    Raises:
        LabkitError: a learner's engine did not start.
    """
    import pwd

    root, names = Path(settings["root"]), settings["learners"]
    settings["limits"] = limits_asked.to_dict()
    settings["cgroups"] = [str(d) for d in limits.class_dirs(root)]
    states = {}
    for name, start in zip(names, accounts.free_subids(len(names))):
        entry = pwd.getpwnam(name)
        home = Path(entry.pw_dir)
        states[name] = {"disk": limits.make_disk(root, name, home, entry.pw_uid, entry.pw_gid, limits_asked.disk),
                        **limits.cgroups(settings["cgroups"], name, limits_asked)}
        accounts.grant_subids(name, start)
    settings["limits_state"] = {key: next((s[key] for s in states.values() if s[key] != "on"), "on")
                                for key in ("pids", "memory", "cpu", "disk")}
    first = pwd.getpwnam(names[0])
    settings["storage_driver"] = rootless.storage_driver(first.pw_uid, first.pw_gid, Path(first.pw_dir))
    devices = (rootless.TUN, rootless.FUSE) if settings["storage_driver"] == "fuse-overlayfs" else (rootless.TUN,)
    settings["devices"] = rootless.open_devices(devices)
    logs = Path(settings["root"]) / "run" / "engines"
    logs.mkdir(exist_ok=True)

    def one(name: str) -> tuple[str, dict]:
        entry = pwd.getpwnam(name)
        return name, rootless.start(root, name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir),
                                    limits.procs_files(settings["cgroups"], name)
                                    if states[name]["pids"] == "on" else [],
                                    logs / f"{name.rsplit('-', 1)[-1]}.log", settings["storage_driver"])

    log(f"starting {len(names)} rootless Docker engines, one per learner, as the learners ...")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, name) for name in names]
    settings["engine_pids"], errors = {}, []
    for future in futures:
        try:
            name, info = future.result()
            settings["docker_hosts"][name] = info["docker_host"]
            settings["engine_pids"][name] = info["pid"]
        except (LabkitError, OSError) as err:
            errors.append(str(err))
    if errors:
        raise LabkitError(errors[0], hint=f"see {logs}")


def rootless_stop(settings: dict) -> None:
    """Ask every learner's rootless engine to stop (it stops its containers), and wait."""
    pids = list((settings.get("engine_pids") or {}).values())
    with ThreadPoolExecutor(max_workers=max(1, len(pids))) as pool:
        list(pool.map(rootless.stop, pids))


def rootless_down(settings: dict) -> None:
    """After :func:`rootless_stop`: end every process left in the learners' control groups,
    remove the groups, unmount their filesystems, put the devices back."""
    root, dirs = Path(settings["root"]), settings.get("cgroups") or []
    names = list(settings.get("learners", []))
    for name in names:
        limits.kill(dirs, name)
    limits.remove(dirs, names)
    for name in names:
        limits.drop_disk(root, name, root / "home" / name)
    rootless.restore_devices(settings.get("devices") or {})
