"""``labkit classroom up`` in the foreground: set up, say how to log in, wait, tear down.

Ctrl-C (SIGINT), SIGTERM or SIGHUP ends the class: :meth:`Classroom.down` removes every
process, user and file ``up`` made (further signals wait until it has). ``--detach`` leaves it running instead, for
``labkit classroom down`` (``make classroom-down``) later.

Example:
    >>> print(login_text({"port": 8000, "learners": ["labkit-learner-01"], "engine": "machine"},
    ...                  "pw", "/srv/c"))                                  # doctest: +ELLIPSIS
    JupyterHub for 1 learner at http://127.0.0.1:8000 ...
"""
from __future__ import annotations

import signal
import time

from labkit import engine as engine_mod
from labkit.classroom import hubconfig
from labkit.classroom.accounts import exists
from labkit.classroom.hubapi import Hub, HubError
from labkit.classroom.server import Classroom
from labkit.errors import LabkitError


def login_text(settings: dict, password: str, root) -> str:
    """What the instructor reads once the class is up."""
    names = settings["learners"]
    engine = {"machine": "the machine's Docker engine (learners are in its socket's group)",
              "class": "the class's own Docker engine", "per-learner": "an engine per learner",
              "rootless": "a rootless engine per learner, running as the learner"}
    return "\n".join([
        f"JupyterHub for {len(names)} learner{'s' if len(names) != 1 else ''} at "
        f"http://127.0.0.1:{settings['port']} (loopback only; e.g. ssh -L {settings['port']}:127.0.0.1:"
        f"{settings['port']} to reach it)",
        f"  log in as {names[0]}{' ... ' + names[-1] if len(names) > 1 else ''} with the class password: {password}",
        f"  notebooks: ~/notebooks of each learner; Docker: {engine[settings['engine']]}",
        *([f"  limits per learner: {limits_text(settings)}"] if settings.get("limits_state") else []),
        f"  admin API token (create users, tokens, servers): {root}/run/admin-token",
        f"  class summary: labkit classroom summary --root {root}",
    ])


def limits_text(settings: dict) -> str:
    """``pids 1024 on, memory 1.5 GiB on, ...`` (off ones say why).

    Example:
        >>> limits_text({"limits": {"pids": 1024, "memory": 1 << 30, "cpus": 1.0, "disk": 1 << 30},
        ...              "limits_state": {"pids": "on", "memory": "on", "cpu": "on", "disk": "off: no mkfs"}})
        'pids 1024 on, memory 1.0 GiB on, cpu 1.0 cores on, disk 1.0 GiB off: no mkfs'
    """
    asked, state = settings.get("limits") or {}, settings.get("limits_state") or {}
    words = {"pids": f"pids {asked.get('pids')}", "memory": f"memory {asked.get('memory', 0) / (1 << 30):.1f} GiB",
             "cpu": f"cpu {asked.get('cpus')} cores", "disk": f"disk {asked.get('disk', 0) / (1 << 30):.1f} GiB"}
    return ", ".join(f"{words[key]} {state.get(key, 'off')}" for key in words)


def _stop(signum, frame):
    raise KeyboardInterrupt


def serve(room: Classroom, learners: int, port: int = 8000, engine: str = "rootless",
          detach: bool = False, limits=None, log=print) -> int:
    """Bring the class up; unless ``detach``, wait for Ctrl-C and tear it down. Exit status."""
    settings = room.up(learners, port=port, engine=engine, limits=limits, log=log)
    log(login_text(settings, room.password(), room.root))
    if detach:
        log(f"running in the background: stop it with `labkit classroom down --root {room.root}`")
        return 0
    log("Ctrl-C ends the class and removes its users, processes and files")
    # SIGINT too: a shell that started us in the background set it to "ignore".
    ending = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {sig: signal.signal(sig, _stop) for sig in ending}
    try:
        while room.hub_running():
            time.sleep(1)
        raise LabkitError("JupyterHub stopped by itself", hint=f"see {room.root}/run/jupyterhub.log")
    except KeyboardInterrupt:
        log("\nending the class ...")
        return 0
    finally:
        # A second Ctrl-C (or make passing the signal on) must not cut the teardown short.
        for sig in ending:
            signal.signal(sig, signal.SIG_IGN)
        try:
            room.down(log=log)
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)


def status(room: Classroom) -> dict:
    """What runs: the Hub, each learner's server (through the admin API), user and engine,
    and the limits (``limits``: each ``on``, or ``off`` with the reason)."""
    settings = room.settings()
    if not settings:
        return {"root": str(room.root), "up": False}
    mode = settings.get("engine")
    found = {"root": str(room.root), "up": room.hub_running(), "url": room.url, "engine": mode,
             "limits": settings.get("limits_state") or dict.fromkeys(
                 ("pids", "memory", "cpu", "disk"), f"off: only with --engine rootless (this class: {mode})"),
             "learners": {}}
    servers = {}
    if found["up"]:
        try:
            hub = Hub(room.url, room.admin_token(), timeout=10)
            servers = {u["name"]: bool(u.get("servers")) for u in hub.call("GET", "users").json()}
        except HubError:
            pass
    for name in settings.get("learners", []):
        url = hubconfig.environment(settings, name)["DOCKER_HOST"]
        eng = engine_mod.try_connect(url, timeout=2) if mode in ("rootless", "per-learner") else None
        if eng is not None:
            eng.api.close()
        found["learners"][name] = {"user": name, "user_exists": exists(name),
                                   "server": servers.get(name, False), "engine": mode, "docker_host": url,
                                   **({"engine_answers": eng is not None} if mode in ("rootless", "per-learner")
                                      else {})}
    return found
