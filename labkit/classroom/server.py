"""A class server on this machine: a real JupyterHub on loopback, one system user per
learner, everyone on the machine's one Docker engine -- and a teardown that leaves no
process, user or file behind.

``up`` (as root) makes, under one root folder (default ``/srv/labkit-classroom``):
a readable copy of the lab (``lab/``), a venv with JupyterHub, JupyterLab and labkit
(``venv/``), the Hub's files (``run/``, root only), a home per learner (``home/<name>``,
0700, the notebooks copied in) and a progress folder per learner (``progress/<name>``).
Then it starts JupyterHub (proxy: ``configurable-http-proxy``; Debian's
``node-configurable-http-proxy``, or npm's). ``down`` stops the Hub (which stops every
learner's server), whatever those users still run, removes what each learner's
notebooks left on the engine (:meth:`labkit.engine.Engine.cleanup_namespace`), the users
and the root folder.

Example:
    >>> Classroom("/srv/labkit-classroom").url                    # doctest: +SKIP
    'http://127.0.0.1:8000'
"""
from __future__ import annotations

import grp
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from labkit import engine as engine_mod
from labkit.classroom import accounts, engines, hubconfig, ports, procs, rootless
from labkit.classroom import limits as limits_mod
from labkit.errors import LabkitError

DEFAULT_ROOT = Path(os.environ.get("LABKIT_CLASSROOM_ROOT") or "/srv/labkit-classroom")
CHECKOUT = Path(__file__).resolve().parents[2]
PROXY = "configurable-http-proxy"
#: Debian's proxy finds its modules there; a Node.js not from Debian (nodesource) does not look.
NODE_PATH = "/usr/share/nodejs:/usr/lib/nodejs"
SOCKET = Path("/var/run/docker.sock")
#: Where the learners' notebooks reach Docker: the machine's engine (default), one engine
#: of the class's own, one per learner (root engines: :mod:`labkit.classroom.engines`), or
#: a rootless one per learner, running as the learner (:mod:`labkit.classroom.rootless`).
ENGINES = ("machine", "class", "per-learner", "rootless")
#: The modes where learners share one engine (and labkit holds images before untagging).
SHARED = ("machine", "class")
#: The group that may open the class's own engine (``--engine class``).
CLASS_GROUP = "labkit-class"


def _world_reachable(path: Path) -> bool:
    """True when every folder above ``path`` lets any user pass (o+x)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [*Path(path).resolve().parents][::-1])


def learner_python() -> str:
    """A Python >= 3.10 that every learner can start, with venv (Debian: python3-venv)."""
    candidates = [shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin"),
                  os.path.realpath(sys.executable), getattr(sys, "_base_executable", None)]
    for python in dict.fromkeys(c for c in candidates if c):
        real = Path(os.path.realpath(python))
        if not (_world_reachable(real) and real.stat().st_mode & stat.S_IXOTH):
            continue
        done = subprocess.run([python, "-c", "import sys, venv, ensurepip; print(sys.version_info >= (3, 10))"],
                              capture_output=True, text=True, timeout=60)
        if done.stdout.strip() == "True":
            return python
    raise LabkitError("no Python >= 3.10 with venv that every user can run",
                      hint="apt-get install python3-venv")


class Classroom:
    """The class server whose files live under ``root``.

    Args:
        root: its folder (every folder above it must let learners pass).
    """

    def __init__(self, root: str | os.PathLike = DEFAULT_ROOT):
        self.root = Path(root).absolute()
        self.paths = hubconfig.paths(self.root)

    # --- what is there --------------------------------------------------------------------
    def settings(self) -> dict:
        """``run/classroom.json`` (what ``up`` made: learners, ports, pids); {} when none."""
        try:
            return hubconfig.read_settings(self.paths["settings"])
        except (OSError, ValueError):
            return {}

    def _save(self, settings: dict) -> None:
        self.paths["settings"].write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")

    @property
    def url(self) -> str:
        """The class's address (the proxy)."""
        return f"http://127.0.0.1:{self.settings().get('port', 8000)}"

    def admin_token(self) -> str:
        """The admin service's API token (``run/admin-token``)."""
        return (self.paths["run"] / "admin-token").read_text().strip()

    def password(self) -> str:
        """The class's shared password (demo logins)."""
        return (self.paths["run"] / "password").read_text().strip()

    def hub_running(self) -> bool:
        """True when the Hub's process is alive."""
        pid = self.settings().get("hub_pid")
        return bool(pid) and pid in procs.with_argument(str(self.paths["run"]))

    # --- up -------------------------------------------------------------------------------
    def up(self, learners: int, port: int = 8000, engine: str = "rootless", limits=None, log=print) -> dict:
        """Set up the class and start the Hub; returns the settings. See the module doc.
        ``limits`` (:class:`labkit.classroom.limits.Limits`) apply with ``engine="rootless"``.

        Raises:
            LabkitError: not root, no proxy, a learner user exists, the root is in use, or
                something failed (what was made is torn down again first).
        """
        if engine not in ENGINES:
            raise LabkitError(f"unknown engine choice {engine!r}", hint="choose one of " + ", ".join(ENGINES))
        self._preflight()
        if engine == "rootless" and rootless.missing():
            raise LabkitError(f"a rootless engine needs {', '.join(rootless.missing())}",
                              hint="apt-get install " + " ".join(rootless.missing()))
        names = accounts.learner_names(learners)
        taken = [n for n in names if accounts.exists(n)]
        if taken:
            raise LabkitError(f"user {taken[0]} exists already",
                              hint="a classroom is up somewhere: `labkit classroom down` (with its --root)")
        longest = hubconfig.runtime_dir(self.root, names[-1])
        if len(str(longest)) + hubconfig.KERNEL_SOCKET_TAIL > hubconfig.SOCKET_PATH_MAX:
            raise LabkitError(f"the root {self.root} is too long for the kernels' unix sockets",
                              hint="use a shorter --root, such as /srv/labkit-classroom")
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        settings = {"root": str(self.root), "learners": names, "created_users": [], "port": port,
                    "hub_port": ports.free_port(), "proxy_api_port": ports.free_port(), "docker_hosts": {},
                    "engine": engine, "created_group": None, "hub_pid": None}
        settings["server_ports"] = ports.server_ports(names, avoid={port})
        for key in ("run", "home", "progress", "no_fleet", "runtime"):
            self.paths[key].mkdir(parents=True, exist_ok=True)
        self.paths["run"].chmod(0o700)
        self._save(settings)
        try:
            started = time.monotonic()
            log(f"copying the lab and installing JupyterHub into {self.paths['venv']} ...")
            self._install()
            settings["install_seconds"] = round(time.monotonic() - started, 1)
            groups = self._engine_group(settings)
            log(f"creating {len(names)} learner accounts ({names[0]} ...)")
            for name in names:
                accounts.create(name, self.paths["home"] / name, groups, make_home=engine != "rootless")
                settings["created_users"].append(name)
                self._save(settings)
            engines_started = time.monotonic()
            if engine == "rootless":
                try:
                    engines.rootless_up(settings, limits or limits_mod.Limits(), log)
                finally:
                    self._save(settings)
            for name in names:
                hubconfig.prepare_learner(settings, name)
            if engine == "per-learner":
                log(f"starting {len(names)} Docker engines, one per learner ...")
                settings["docker_hosts"] = engines.start(self.root, {n: n for n in names})
            elif engine == "class":
                log("starting the class's own Docker engine ...")
                settings["docker_host"] = engines.start(self.root, {"class": CLASS_GROUP})["class"]
            settings["engines_seconds"] = round(time.monotonic() - engines_started, 1)
            self._save(settings)
            self._start_hub(settings)
        except BaseException:
            self.down(log=lambda *a: None)
            raise
        return settings

    def _preflight(self) -> None:
        if sys.platform != "linux" or os.geteuid() != 0:
            raise LabkitError("a class server creates users and starts servers as them: it needs root",
                              hint="run it with sudo (e.g. `sudo make classroom`)")
        if self.paths["settings"].exists():
            raise LabkitError(f"a classroom is set up in {self.root} already",
                              hint=f"stop it first: labkit classroom down --root {self.root}")
        if self.root.exists() and any(self.root.iterdir()):
            raise LabkitError(f"{self.root} is not empty", hint="choose an empty or new --root")
        parent = self.root.parent
        while not parent.exists():
            parent = parent.parent
        if not _world_reachable(parent / "x"):
            raise LabkitError(f"learners cannot reach {self.root}: a folder above it is closed "
                              f"to other users", hint="use a --root such as /srv/labkit-classroom")
        proxy = shutil.which(PROXY)
        if proxy is None:
            raise LabkitError(f"{PROXY} is not installed (JupyterHub's proxy)",
                              hint="apt-get install node-configurable-http-proxy "
                                   "(or npm install -g configurable-http-proxy)")
        done = subprocess.run([proxy, "--version"], capture_output=True, text=True, timeout=60,
                              env=self._hub_env())
        if done.returncode != 0:
            raise LabkitError(f"{PROXY} does not start: {(done.stderr.strip().splitlines() or ['?'])[-1]}",
                              hint="reinstall node-configurable-http-proxy")

    def _hub_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.paths['venv'] / 'bin'}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        env["NODE_PATH"] = ":".join(filter(None, [os.environ.get("NODE_PATH"), NODE_PATH]))
        for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTERHUB_API_TOKEN"):
            env.pop(key, None)
        return env

    def _install(self) -> None:
        """A readable copy of the lab, and a venv every learner can run, with it installed."""
        lab = self.paths["lab"]
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=CHECKOUT, capture_output=True, timeout=60)
        files = ([f for f in listed.stdout.decode().split("\0") if f] if listed.returncode == 0 else
                 [str(p.relative_to(CHECKOUT)) for p in CHECKOUT.rglob("*") if p.is_file()
                  and not {".git", ".venv", "__pycache__"} & set(p.relative_to(CHECKOUT).parts)])
        for rel in files:
            source = CHECKOUT / rel
            if source.is_file() and not source.is_symlink():
                (lab / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, lab / rel)
        venv, logfile = self.paths["venv"], self.paths["run"] / "install.log"
        with open(logfile, "w") as out:
            for argv in ([learner_python(), "-m", "venv", str(venv)],
                         [str(venv / "bin" / "pip"), "install", "--quiet", "-e", f"{lab}[lab,classroom]"]):
                done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=1200,
                                      cwd=self.root, env=self._hub_env())
                if done.returncode != 0:
                    raise LabkitError(f"{' '.join(argv[:3])} failed (exit {done.returncode})",
                                      hint=f"see {logfile}")
        for folder, dirs, names in os.walk(self.root):
            if Path(folder) in (self.paths["run"], self.paths["home"], self.paths["progress"]):
                dirs.clear()
                continue
            os.chmod(folder, 0o755)
            for name in names:
                path = Path(folder) / name
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.stat().st_mode & 0o100 else 0))

    def _engine_group(self, settings: dict) -> tuple[str, ...]:
        """The group that opens the shared engine's socket to learners: the machine's
        socket's (``docker``: a member is root-equivalent on this machine, see
        docs/instructors.md), the class's own group, or none (an engine per learner)."""
        if settings["engine"] == "per-learner":
            return ()
        if settings["engine"] == "class":
            accounts.create_group(CLASS_GROUP)
            settings["created_group"] = CLASS_GROUP
            self._save(settings)
            return (CLASS_GROUP,)
        try:
            info = SOCKET.stat()
        except OSError:
            raise LabkitError(f"no Docker engine socket at {SOCKET}",
                              hint="start Docker, or use --engine class") from None
        group = grp.getgrgid(info.st_gid).gr_name
        if group == "root" or not info.st_mode & stat.S_IRWXG:
            raise LabkitError(f"{SOCKET} is open to group {group} only with mode {oct(info.st_mode & 0o777)}",
                              hint="install Debian's docker.io (socket group docker), or use --engine class")
        return (group,)

    def _start_hub(self, settings: dict) -> None:
        run = self.paths["run"]
        (run / "password").write_text(secrets.token_urlsafe(9) + "\n")
        (run / "admin-token").write_text(secrets.token_hex(32) + "\n")
        for name in ("password", "admin-token"):
            (run / name).chmod(0o600)
        config = run / "jupyterhub_config.py"
        config.write_text("# Written by `labkit classroom up`; the configuration is labkit.classroom.hubconfig.\n"
                          "from labkit.classroom import hubconfig\n"
                          f"hubconfig.apply(c, {str(self.paths['settings'])!r})\n")
        with open(run / "jupyterhub.log", "ab") as out:
            hub = subprocess.Popen([str(self.paths["venv"] / "bin" / "jupyterhub"), "-f", str(config)],
                                   cwd=run, env=self._hub_env(), stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        settings["hub_pid"] = hub.pid
        self._save(settings)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if hub.poll() is not None:
                raise LabkitError(f"JupyterHub exited with status {hub.returncode}",
                                  hint=f"see {run / 'jupyterhub.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{settings['port']}/hub/api/", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise LabkitError("JupyterHub did not answer within 180 s", hint=f"see {run / 'jupyterhub.log'}")

    # --- down -----------------------------------------------------------------------------
    def down(self, log=print) -> list[str]:
        """Stop and remove everything ``up`` made; returns what is left (normally [])."""
        settings = self.settings()
        created = list(settings.get("created_users", []))
        learners = list(settings.get("learners", created))
        pid = settings.get("hub_pid")
        hub = [p for p in procs.with_argument(str(self.paths["run"])) if p == pid]
        mode = settings.get("engine", "machine")
        stopping = threading.Thread(target=engines.rootless_stop, args=(settings,))   # each engine, meanwhile
        if mode == "rootless":
            stopping.start()
        procs.stop(hub, timeout=30)                        # the Hub stops the servers and proxy
        if mode == "rootless":
            stopping.join()
        uids = {accounts.ids(n)[0] for n in created if accounts.exists(n)}
        ranges = [r for n in created for r in accounts.subids(n)]
        procs.stop(procs.processes_of(uids, ranges), timeout=20)   # what learners still run
        if mode == "rootless":
            engines.rootless_down(settings)                # cgroups, disks, devices
        proxy = self.paths["run"] / "proxy.pid"
        if proxy.exists():
            try:
                procs.stop([p for p in procs.with_argument(PROXY) if p == int(proxy.read_text())])
            except ValueError:
                pass
        if mode == "machine":
            self._clean_engine(learners, log)
        engines.stop(self.root, learners if mode == "per-learner" else ["class"])
        procs.stop(procs.with_argument(str(self.root)), timeout=20)
        for name in created:
            accounts.remove(name)
        if settings.get("created_group"):
            accounts.remove_group(settings["created_group"])
        if self.paths["settings"].exists() or self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        left = [f"user {n}" for n in created if accounts.exists(n)]
        left += [f"process {p}" for p in {*procs.with_argument(str(self.root)), *procs.processes_of(uids, ranges)}]
        left += [f"file {self.root}"] if self.root.exists() else []
        log(f"classroom in {self.root}: " + ("removed" if not left else "left " + ", ".join(left)))
        return left

    @staticmethod
    def _clean_engine(learners: list[str], log) -> None:
        """Remove what each learner's notebooks left on the shared engine (their namespace only)."""
        eng = engine_mod.try_connect()
        if eng is None:
            return
        try:
            removed = sum(eng.cleanup_namespace(name) for name in learners) + eng.release_held()
            if removed:
                log(f"removed {removed} images/containers the learners left on the engine")
        except LabkitError as err:
            log(f"warning: {err}")
        finally:
            eng.api.close()
