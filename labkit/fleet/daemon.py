"""Start, watch and stop one private ``dockerd``, and clean up after it.

Each engine owns two directories: a short *run* directory (socket, pidfile, exec root,
log, daemon.json, DOCKER_CONFIG) and a *data* root. Every process, mount and socket it
leaves behind is found through those two paths (``/proc/*/cmdline`` and
``/proc/self/mountinfo``), so a killed run can always be cleaned up.

Example:
    >>> from pathlib import Path
    >>> from labkit.fleet.daemon import EngineDirs
    >>> EngineDirs(Path("/run/labkit/fleet/26.1.5"), Path("/d")).base_url
    'unix:///run/labkit/fleet/26.1.5/docker.sock'
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import FleetError

LOG_TAIL = 20
SOCKET_PATH_MAX = 100      # sun_path is 108 bytes; containerd's socket sits deeper still
MNT_DETACH = 2
# Started in this process: kept so that `down` can reap them (no zombies left behind).
_CHILDREN: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class EngineDirs:
    """The paths one engine uses (``run``: short, for sockets; ``data``: the data root)."""

    run: Path
    data: Path

    @property
    def sock(self) -> Path:
        return self.run / "docker.sock"

    @property
    def base_url(self) -> str:
        return f"unix://{self.sock}"

    @property
    def pidfile(self) -> Path:
        return self.run / "docker.pid"

    @property
    def exec_root(self) -> Path:
        return self.run / "exec"

    @property
    def log(self) -> Path:
        return self.run / "dockerd.log"

    @property
    def daemon_json(self) -> Path:
        return self.run / "daemon.json"

    @property
    def docker_config(self) -> Path:
        return self.run / "docker-config"

    @property
    def containerd_sock(self) -> Path:
        return self.run / "containerd" / "containerd.sock"

    @property
    def containerd_toml(self) -> Path:
        return self.run / "containerd.toml"

    @property
    def containerd_pidfile(self) -> Path:
        return self.run / "containerd.pid"

    @property
    def containerd_log(self) -> Path:
        return self.run / "containerd.log"


def log_tail(path: Path, lines: int = LOG_TAIL) -> str:
    """The last ``lines`` lines of a log file, joined with `` | `` (one-line messages)."""
    try:
        with open(path, errors="replace") as fh:
            tail = deque((line.strip() for line in fh if line.strip()), maxlen=lines)
    except OSError:
        return "(no log)"
    return " | ".join(tail) or "(empty log)"


def ping(sock: Path, timeout: float = 2.0) -> bool:
    """True when a Docker engine answers ``GET /_ping`` with ``OK`` on ``sock``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(sock))
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
    except OSError:
        return False
    return answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n", 1)[0] \
        and answer.endswith(b"OK")


def pid_alive(pid: int) -> bool:
    """True when ``pid`` is a running (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def read_pid(dirs: EngineDirs, pidfile: Path | None = None) -> int | None:
    """The dockerd pid (or the one in ``pidfile``), when that process still runs and is
    this engine's (a reused pid after a reboot is not)."""
    try:
        pid = int((pidfile or dirs.pidfile).read_text().strip())
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            ours = f"{dirs.run}/".encode() in fh.read()
    except (OSError, ValueError):
        return None
    return pid if ours and pid_alive(pid) else None


CONTAINERD_TOML = """\
# Written by labkit: this engine's own containerd, never the machine's.
version = 2
root = "{root}"
state = "{state}"
# CRI is for Kubernetes; "opt" would write to /opt/containerd.
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images",
                    "io.containerd.cri.v1.runtime", "io.containerd.internal.v1.opt"]

[grpc]
  address = "{sock}"

[debug]
  address = "{debug}"
"""


def _answers(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(1.0)
            conn.connect(str(sock))
    except OSError:
        return False
    return True


def _spawn(cmd: list[str], env: dict, log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, start_new_session=True)
    _CHILDREN[proc.pid] = proc
    return proc


def _wait_ready(proc: subprocess.Popen, ready, what: str, log: Path, timeout: float,
                dirs: EngineDirs) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            _CHILDREN.pop(proc.pid, None)
            stop(dirs)
            raise FleetError(f"{what} exited with status {proc.returncode}: {log_tail(log)}")
        if time.monotonic() > deadline:
            stop(dirs)
            raise FleetError(f"{what} did not answer within {timeout:.0f} s: {log_tail(log)}")
        time.sleep(0.2)


def start(dirs: EngineDirs, path: tuple, dockerd_flags: tuple, daemon_json: dict,
          timeout: float = 60.0) -> int:
    """Start the engine's own containerd, then ``dockerd``; wait until it answers ``/_ping``.

    containerd is started here rather than by dockerd: dockerd would otherwise use the
    machine's containerd whenever ``/run/containerd/containerd.sock`` exists.

    Args:
        dirs: the engine's directories (created here).
        path: directories with its own dockerd, containerd, runc, docker-init, first in PATH.
        dockerd_flags: extra flags from the catalog.
        daemon_json: written to its own ``daemon.json`` (never ``/etc/docker``'s).
        timeout: seconds to wait for each daemon's first answer.

    Returns:
        the dockerd pid.

    Raises:
        FleetError: a daemon exited or did not answer in time; the message ends with its log.
    """
    if len(str(dirs.containerd_sock)) + len(".ttrpc") > SOCKET_PATH_MAX:
        raise FleetError(f"socket paths under {dirs.run} are too long for unix sockets",
                         hint="use a shorter LABKIT_FLEET_RUN directory")
    for d in (dirs.run, dirs.data, dirs.containerd_sock.parent, dirs.docker_config):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "CONTAINERD_"))}
    env["PATH"] = os.pathsep.join([*map(str, path), "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
    program = {name: next(str(Path(d) / name) for d in path if (Path(d) / name).exists())
               for name in ("dockerd", "containerd")}

    dirs.containerd_toml.write_text(CONTAINERD_TOML.format(
        root=dirs.data / "containerd", state=dirs.containerd_sock.parent,
        sock=dirs.containerd_sock, debug=dirs.containerd_sock.with_name("containerd-debug.sock")))
    containerd = _spawn([program["containerd"], "--config", str(dirs.containerd_toml)], env,
                        dirs.containerd_log, dirs.run)
    dirs.containerd_pidfile.write_text(f"{containerd.pid}\n")
    _wait_ready(containerd, lambda: _answers(dirs.containerd_sock),
                f"containerd for {dirs.run.name}", dirs.containerd_log, timeout, dirs)

    dirs.daemon_json.write_text(json.dumps(daemon_json, indent=2) + "\n")
    dockerd = _spawn([program["dockerd"], "-H", dirs.base_url, "--data-root", str(dirs.data),
                      "--exec-root", str(dirs.exec_root), "--pidfile", str(dirs.pidfile),
                      "--config-file", str(dirs.daemon_json),
                      "--containerd", str(dirs.containerd_sock),
                      "--bridge=none", "--iptables=false", "--ip6tables=false", *dockerd_flags],
                     env, dirs.log, dirs.run)
    _wait_ready(dockerd, lambda: ping(dirs.sock, timeout=1.0), f"dockerd for {dirs.run.name}",
                dirs.log, timeout, dirs)
    return dockerd.pid


# --- leftovers -------------------------------------------------------------------------
def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        table[int(entry)] = (ppid, cmdline)
    return table


def processes(dirs: EngineDirs) -> list[int]:
    """Live processes of this engine: dockerd, its containerd, shims and their children."""
    table = _processes()
    marks = (f"{dirs.run}/", f"{dirs.data}/", f"{dirs.run} ", f"{dirs.data} ")
    found = {pid for pid, (_, cmd) in table.items() if any(m in cmd + " " for m in marks)}
    found |= {pid for pid in [read_pid(dirs)] if pid}
    grew = True
    while grew:        # add descendants (processes inside containers)
        more = {pid for pid, (ppid, _) in table.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    found.discard(os.getpid())
    return sorted(pid for pid in found if pid_alive(pid))


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \\ooo.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts(dirs: EngineDirs) -> list[str]:
    """Mount points under this engine's run or data directory, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = _unescape(line.split()[4])
            if any(point == str(d) or point.startswith(f"{d}/") for d in (dirs.run, dirs.data)):
                found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def _unmount(point: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(point.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (22, 2):          # EINVAL: not a mount point (any more); ENOENT
            raise FleetError(f"cannot unmount {point}: {os.strerror(err)}")


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _reap(pids: list[int]) -> None:
    for pid in pids:
        proc = _CHILDREN.pop(pid, None)
        if proc is not None:
            proc.wait(timeout=5)


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        _reap([pid for pid in pids if pid in _CHILDREN and _CHILDREN[pid].poll() is not None])
        alive = [pid for pid in pids if pid_alive(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def stop(dirs: EngineDirs, timeout: float = 20.0) -> None:
    """Stop the engine: SIGTERM dockerd, wait, SIGKILL whatever is left, unmount, tidy.

    Idempotent: a stopped engine, or one killed half-way, is cleaned the same way.
    """
    for child, proc in list(_CHILDREN.items()):      # reap engines that died on their own
        if proc.poll() is not None:
            del _CHILDREN[child]
    pids = []
    for pidfile in (dirs.pidfile, dirs.containerd_pidfile):   # dockerd first, then containerd
        pid = read_pid(dirs, pidfile)
        if pid:
            pids.append(pid)
            _signal([pid], signal.SIGTERM)
            _wait_gone([pid], timeout)
    left = processes(dirs)
    _signal(left, signal.SIGKILL)
    ours = left + pids
    still = _wait_gone(ours, 10.0)
    _reap([p for p in ours if p in _CHILDREN])
    if still:
        raise FleetError(f"processes {still} of {dirs.run.name} survived SIGKILL")
    for point in mounts(dirs):
        _unmount(point)
    for path in (dirs.sock, dirs.pidfile, dirs.containerd_pidfile):
        path.unlink(missing_ok=True)
    for runtime in (dirs.exec_root, dirs.containerd_sock.parent):    # runtime state only
        shutil.rmtree(runtime, ignore_errors=True)


def remove(dirs: EngineDirs) -> None:
    """Delete the engine's run and data directories (after :func:`stop`)."""
    if mounts(dirs):
        raise FleetError(f"{dirs.run.name} still has mounts; not removing its directories")
    for d in (dirs.run, dirs.data):
        shutil.rmtree(d, ignore_errors=True)
