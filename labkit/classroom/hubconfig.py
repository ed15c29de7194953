"""JupyterHub's configuration for a class server, and what each learner's server gets.

The classroom writes its settings to ``<root>/run/classroom.json`` and a two-line
``jupyterhub_config.py`` that calls :func:`apply`; so the configuration is this
module's code, and the Hub reads it as its own (``jupyterhub -f``). What it sets:

- everything on loopback: the proxy (``configurable-http-proxy``) at the class port,
  the Hub and the proxy's API on ports of their own;
- logins: JupyterHub's dummy authenticator with one shared password (a demo: use your
  school's authenticator for real classes), only the class's learners allowed;
- an admin *service* token (file ``run/admin-token``, mode 0600) for scripts: create
  users and their tokens, start and stop servers (the load test uses it);
- each learner's server runs as that learner's system user (the local process
  spawner), from the classroom's own venv, in their home, with :func:`environment`,
  on the port the class chose for them at set-up (``server_ports``, never a "free" port
  picked at the moment thirty servers start).

Example:
    >>> env = environment({"root": "/srv/c", "docker_hosts": {}}, "labkit-learner-01")
    >>> env["LABKIT_NAMESPACE"], env["LABKIT_PROGRESS"]
    ('labkit-learner-01', '/srv/c/progress/labkit-learner-01/progress.json')
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from labkit.classroom import limits

#: The notebooks' folder in each learner's home (a copy of the lab's ``notebooks/``).
NOTEBOOKS = "notebooks"
ADMIN_SERVICE = "labkit-classroom"
#: What the admin service may do through the Hub's REST API.
ADMIN_SCOPES = ["admin:users", "admin:servers", "tokens", "list:users", "read:users",
                "access:servers"]


def paths(root: str | os.PathLike) -> dict[str, Path]:
    """The classroom's folders under ``root``.

    Example:
        >>> paths("/srv/c")["run"]
        PosixPath('/srv/c/run')
    """
    root = Path(root)
    return {"root": root, "lab": root / "lab", "venv": root / "venv", "run": root / "run",
            "home": root / "home", "progress": root / "progress", "no_fleet": root / "no-fleet",
            "runtime": root / "rt",
            "engines": root / "engines", "settings": root / "run" / "classroom.json"}


def runtime_dir(root, name: str) -> Path:
    """Learner ``name``'s Jupyter runtime folder (``JUPYTER_RUNTIME_DIR``), short on purpose:
    their kernels talk over unix sockets there, and a socket path has at most 107 bytes."""
    return Path(root) / "rt" / name.rsplit("-", 1)[-1]


#: The longest kernel socket path in a runtime folder: ``/kernel-<uuid>-ipc-4``.
KERNEL_SOCKET_TAIL = len("/kernel-") + 36 + len("-ipc-4")
SOCKET_PATH_MAX = 107


def progress_path(root, name: str) -> Path:
    """Where learner ``name``'s progress file is kept (``LABKIT_PROGRESS``)."""
    return paths(root)["progress"] / name / "progress.json"


def environment(settings: dict, name: str) -> dict[str, str]:
    """The environment of learner ``name``'s server and kernels.

    ``LABKIT_NAMESPACE`` = the learner's name: their images are ``<name>/<scenario>:<case>``
    and the containers labkit creates carry ``org.labkit.namespace=<name>``;
    ``LABKIT_PROGRESS``: their progress file, where the instructor's class summary reads it;
    ``LABKIT_FLEET_RUN``: an empty folder, so notebook 3 reads the recordings instead of
    driving the instructor's fleet (its sockets belong to the docker group too);
    ``DOCKER_HOST``: the shared engine, or the learner's own one;
    ``LABKIT_SHARED_ENGINE``: ``1`` on an engine learners share (labkit then holds an image
    before it removes a learner's tag: :meth:`labkit.engine.Engine._remove`);
    ``JUPYTER_RUNTIME_DIR``: their own folder for kernel connection files and sockets;
    ``TMPDIR``: a folder in their home (theirs alone, and inside their disk limit).
    """
    folders = paths(settings["root"])
    venv_bin = folders["venv"] / "bin"
    docker_host = settings.get("docker_hosts", {}).get(name) or settings.get("docker_host") \
        or "unix:///var/run/docker.sock"
    return {
        "LABKIT_NAMESPACE": name,
        "LABKIT_PROGRESS": str(progress_path(settings["root"], name)),
        "LABKIT_FLEET_RUN": str(folders["no_fleet"]),
        "JUPYTER_RUNTIME_DIR": str(runtime_dir(settings["root"], name)),
        "DOCKER_HOST": docker_host,
        "LABKIT_SHARED_ENGINE": "1" if settings.get("engine", "machine") in ("machine", "class") else "0",
        "TMPDIR": str(folders["home"] / name / "tmp"),
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": str(folders["venv"]),
        "LANG": "C.UTF-8",
    }


def prepare_learner(settings: dict, name: str) -> None:
    """Give learner ``name`` what a session needs: the lab's notebooks in ``~/notebooks``
    (as nbgitpuller does: files the learner already has are never overwritten, new ones
    are added) and a folder for their progress file; everything theirs."""
    import pwd  # POSIX only, as the whole class server

    entry = pwd.getpwnam(name)
    folders = paths(settings["root"])
    source = folders["lab"] / "notebooks"
    target = Path(entry.pw_dir) / NOTEBOOKS
    for folder, _, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        if any(part in ("work", ".ipynb_checkpoints", "__pycache__") for part in rel.parts):
            continue
        (target / rel).mkdir(parents=True, exist_ok=True)
        os.chown(target / rel, entry.pw_uid, entry.pw_gid)
        for file in files:
            dest = target / rel / file
            if not dest.exists():
                shutil.copyfile(Path(folder) / file, dest)
                os.chown(dest, entry.pw_uid, entry.pw_gid)
    for private in (progress_path(settings["root"], name).parent, runtime_dir(settings["root"], name),
                    Path(entry.pw_dir) / "tmp"):
        private.mkdir(parents=True, exist_ok=True)
        os.chown(private, entry.pw_uid, entry.pw_gid)
        private.chmod(0o700)


def read_settings(path: str | os.PathLike) -> dict:
    """The classroom's settings (``run/classroom.json``)."""
    return json.loads(Path(path).read_text())


def apply(c, settings_path: str | os.PathLike) -> None:
    """Configure JupyterHub (``c``, its config object) for the classroom in ``settings_path``."""
    settings = read_settings(settings_path)
    folders = paths(settings["root"])
    run = folders["run"]
    learners = list(settings["learners"])

    c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings['hub_port']}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
    c.ConfigurableHTTPProxy.pid_file = str(run / "proxy.pid")
    c.JupyterHub.pid_file = str(run / "jupyterhub.pid")
    c.JupyterHub.db_url = f"sqlite:///{run / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(run / "cookie_secret")
    c.JupyterHub.cleanup_servers = True          # stopping the Hub stops every server
    c.JupyterHub.cleanup_proxy = True

    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = (run / "password").read_text().strip()
    c.Authenticator.allowed_users = set(learners)
    c.JupyterHub.services = [{"name": ADMIN_SERVICE,
                              "api_token": (run / "admin-token").read_text().strip()}]
    c.JupyterHub.load_roles = [{"name": ADMIN_SERVICE, "scopes": ADMIN_SCOPES,
                                "services": [ADMIN_SERVICE]}]

    c.JupyterHub.spawner_class = _spawner(settings)
    c.Spawner.cmd = [str(folders["venv"] / "bin" / "jupyterhub-singleuser")]
    # Kernels over unix sockets in the learner's own runtime folder, not TCP ports on
    # 127.0.0.1: thirty servers picking "free" ports at once collide (measured: ZMQError
    # "Address already in use", a kernel that never answers), and any local user can
    # reach a TCP port.
    c.Spawner.args = ["--KernelManager.transport=ipc"]
    c.Spawner.notebook_dir = "~"
    c.Spawner.default_url = f"/lab/tree/{NOTEBOOKS}/00-start-here.ipynb"
    c.Spawner.environment = {key: (lambda spawner, key=key: environment(settings, spawner.user.name)[key])
                             for key in environment(settings, learners[0])}
    c.Spawner.pre_spawn_hook = lambda spawner: _before_spawn(settings, spawner)
    # Thirty servers starting at once on two cores take a while: wait, don't give up.
    c.Spawner.start_timeout = 600
    c.Spawner.http_timeout = 600
    c.JupyterHub.concurrent_spawn_limit = max(100, len(learners))
    c.JupyterHub.active_server_limit = 0


def _before_spawn(settings: dict, spawner) -> None:
    """Prepare the learner's files; put their server on the port the class chose for them
    (``server_ports`` in the settings; a class set up before it: JupyterHub's own choice)."""
    prepare_learner(settings, spawner.user.name)
    port = (settings.get("server_ports") or {}).get(spawner.user.name)
    if port:
        spawner.port = port


def _spawner(settings: dict):
    """JupyterHub's local process spawner; with per-learner limits (``--engine rootless``),
    one that starts each learner's server inside their control groups (as root, just
    before it becomes the learner), so their kernels and all they start stay there."""
    dirs = settings.get("cgroups") or []
    if not dirs or (settings.get("limits_state") or {}).get("pids") != "on":
        return "localprocess"
    from jupyterhub.spawner import LocalProcessSpawner   # only on the class server

    class LimitedSpawner(LocalProcessSpawner):
        def make_preexec_fn(self, name):
            become = super().make_preexec_fn(name)
            files = limits.procs_files(dirs, name)

            def preexec():
                limits.join(files)
                become()
            return preexec

    return LimitedSpawner
