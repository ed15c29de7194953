"""A real registry on loopback: Debian's ``docker-registry`` (CNCF distribution 2.8) as an
ordinary process, with its own config, storage and log in one folder.

The folder (default ``~/.cache/labkit/registry``, or ``$LABKIT_CACHE/registry``; a
notebook passes its own work folder) holds only what labkit writes there:
``config.yml``, ``storage/``, ``registry.log`` and ``registry.json`` (pid, port, what
labkit created). :func:`down` stops the process and removes exactly those, and the folder
itself when labkit made it. No system service is used or touched: the Debian package's
own service (``/etc/docker/registry/config.yml``, port 5000) may run or not; labkit
listens on a free port of 127.0.0.1 and reads nothing of it.

Example:
    >>> s = up("/tmp/labkit-doctest-registry")                    # doctest: +SKIP
    >>> s.url                                                      # doctest: +SKIP
    'http://127.0.0.1:38411'
    >>> down("/tmp/labkit-doctest-registry")                       # doctest: +SKIP
"""
from __future__ import annotations

import atexit
import ctypes
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from labkit.errors import MissingTool, RegistryError
from labkit.registry import auth

BINARY = "docker-registry"
OWNED = ("config.yml", "storage", "registry.log", "registry.json", "htpasswd")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1
# Started by this process and not detached: stopped when it exits (atexit), reaped on down.
_CHILDREN: dict[int, subprocess.Popen] = {}

CONFIG = """\
# Written by labkit (labkit.registry): a registry for one learner, on loopback only.
version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: labkit-loopback-only
  headers:
    X-Content-Type-Options: [nosniff]
"""


@dataclasses.dataclass
class Server:
    """One registry labkit started: where it listens and what it owns.

    Attributes:
        root: its folder; ``port``: its TCP port on 127.0.0.1; ``pid``: its process.
        running: the process is alive; ``healthy``: ``GET /v2/`` answers 200.
        detached: it outlives the Python process that started it (``labkit registry up``).
    """

    root: Path
    port: int
    pid: int
    running: bool = True
    healthy: bool = True
    detached: bool = False
    version: str = ""
    #: it asks for a user and password (an htpasswd file: ``up(users=...)``).
    locked: bool = False

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, as image references name it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def to_dict(self) -> dict:
        """JSON-ready (what ``labkit registry status --json`` prints)."""
        data = dataclasses.asdict(self)
        data.update(root=str(self.root), host=self.host, url=self.url)
        return data


def default_root() -> Path:
    """``$LABKIT_CACHE/registry``, else ``~/.cache/labkit/registry`` (XDG_CACHE_HOME honoured)."""
    if os.environ.get("LABKIT_CACHE"):
        return Path(os.environ["LABKIT_CACHE"]) / "registry"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labkit" / "registry"


def binary() -> str:
    """Path of ``docker-registry``.

    Raises:
        MissingTool: it is not installed.
    """
    found = shutil.which(BINARY) or next((p for p in ("/usr/bin/docker-registry",
                                                      "/usr/local/bin/docker-registry")
                                          if os.access(p, os.X_OK)), None)
    if found is None:
        raise MissingTool("docker-registry is not installed",
                          hint="install Debian's or Ubuntu's docker-registry package "
                               "(apt-get install docker-registry)")
    return found


def version() -> str:
    """``docker-registry --version``'s last word, e.g. ``2.8.2+ds1``."""
    done = subprocess.run([binary(), "--version"], capture_output=True, text=True, timeout=10)
    return (done.stdout.split() or ["?"])[-1]


def _state_file(root: Path) -> Path:
    return root / "registry.json"


def _read_state(root: Path) -> dict | None:
    try:
        return json.loads(_state_file(root).read_text())
    except (OSError, ValueError):
        return None


def _alive(pid: int, config: Path) -> bool:
    """True when ``pid`` runs docker-registry with ``config`` (not a recycled pid, not a zombie)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z" and str(config).encode() in cmdline


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when ``GET url/v2/`` gives 200 with the registry's API version header (or 401
    with it: a registry that asks for a password, ``up(users=...)``)."""
    try:
        got = requests.get(f"{url}/v2/", timeout=timeout)
    except requests.RequestException:
        return False
    return got.status_code in (200, 401) and got.headers.get("Docker-Distribution-Api-Version") == "registry/2.0"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux only)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _root(root: str | Path | None) -> Path:
    return (Path(root) if root else default_root()).expanduser().resolve()


def status(root: str | Path | None = None) -> Server | None:
    """The registry labkit started in ``root`` (default :func:`default_root`), or None.

    Example:
        >>> status("/nonexistent/labkit-registry") is None
        True
    """
    root = _root(root)
    state = _read_state(root)
    if not state:
        return None
    server = Server(root, int(state["port"]), int(state["pid"]), detached=state.get("detached", False),
                    version=state.get("version", ""), locked=bool(state.get("locked")))
    server.running = _alive(server.pid, root / "config.yml")
    server.healthy = server.running and answers(server.url)
    return server


def up(root: str | Path | None = None, *, detached: bool = False, users: dict[str, str] | None = None) -> Server:
    """Start a registry in ``root`` on a free port of 127.0.0.1 (or return the one running).

    Args:
        root: its folder (default :func:`default_root`); made if missing.
        detached: keep it running after this Python process exits (the CLI's
            ``labkit registry up``); otherwise it stops with this process.
        users: name -> password: the registry then answers ``401`` to any request
            without one of them (basic authentication, an htpasswd file in ``root``).

    Raises:
        MissingTool: ``docker-registry`` is not installed.
        RegistryError: it did not start (the last lines of its log say why).
    """
    root = _root(root)
    running = status(root)
    if running is not None and running.healthy:
        return running
    if running is not None:
        down(root)
    program = binary()
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    (root / "storage").mkdir(exist_ok=True)
    config = root / "config.yml"
    error = ""
    for _ in range(3):  # a free port can be taken between the check and the bind
        port = _free_port()
        config.write_text(CONFIG.format(storage=root / "storage", port=port)
                          + (auth.config_section(auth.write_htpasswd(root / "htpasswd", users)) if users else ""))
        with open(root / "registry.log", "ab") as log:
            proc = subprocess.Popen([program, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=root, start_new_session=True,
                                    preexec_fn=None if detached or sys.platform != "linux" else _die_with_parent)
        _CHILDREN[proc.pid] = proc
        server = Server(root, port, proc.pid, detached=detached, locked=bool(users))
        _state_file(root).write_text(json.dumps({
            "pid": proc.pid, "port": port, "detached": detached, "root_created": created, "locked": bool(users),
            "binary": program, "version": "", "started": time.time()}, indent=1) + "\n")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None and not answers(server.url, 0.5):
            time.sleep(0.05)
        if proc.poll() is None and answers(server.url):
            if not detached:
                atexit.register(_stop_quietly, root)
            return server
        error = _log_tail(root / "registry.log")
        _stop(proc.pid, config)
    _cleanup(root, created)
    raise RegistryError(f"docker-registry did not start in {root}: {error}",
                        hint="see its log; is 127.0.0.1 usable here?")


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:]) or "(empty log)"


def _stop(pid: int, config: Path) -> None:
    if _alive(pid, config):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid, config) and time.monotonic() < deadline:
            child = _CHILDREN.get(pid)
            if child is not None and child.poll() is not None:
                break
            time.sleep(0.05)
        if _alive(pid, config):
            os.kill(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass


def _cleanup(root: Path, root_created: bool) -> None:
    for name in OWNED:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if root_created:
        try:
            root.rmdir()          # only when empty: something else put there stays
        except OSError:
            pass


def down(root: str | Path | None = None) -> bool:
    """Stop the registry in ``root`` and remove what labkit wrote there; idempotent.

    Returns:
        True when there was one (running or left behind) to stop and tidy.

    Example:
        >>> down("/nonexistent/labkit-registry")
        False
    """
    root = _root(root)
    state = _read_state(root)
    if state is None:
        return False
    _stop(int(state.get("pid", 0)), root / "config.yml")
    _cleanup(root, bool(state.get("root_created")))
    return True


def _stop_quietly(root: Path) -> None:
    try:
        down(root)
    except OSError:
        pass
