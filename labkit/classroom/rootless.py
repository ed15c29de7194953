"""A rootless Docker engine per learner (``--engine rootless``), started as the learner's
own system user: whatever their containers do, on the machine they are that user.

Debian's ``docker.io`` ships ``dockerd-rootless.sh`` (in ``/usr/share/docker.io/contrib``):
it starts ``rootlesskit``, which makes a user namespace where the learner is root (their
own uid maps to 0, a subordinate range of 65,536 ids of their own -- ``uidmap``'s
``newuidmap`` -- maps to 1..65535), and runs the learner's ``dockerd`` in it. Its socket,
exec root and state live in the learner's own runtime folder (0700), its data root in
their home; BuildKit is on; the storage driver is overlay2 inside the user namespace
(Linux 5.11+), or ``fuse-overlayfs`` where the kernel refuses that.

The network, measured here (bookworm: docker.io 20.10.24, rootlesskit 1.1.0):

- ``DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host`` leaves dockerd in the machine's network
  namespace, which its user namespace does not own. Each container's namespace it sets up
  (``--network none`` too) leaves a thread of dockerd stuck in it (moving back is refused),
  and the dials from those threads fail: ``docker push 127.0.0.1:PORT/...`` was refused 6
  times in 6 once three containers had run (moby#51363; Docker's own script rejects
  ``host`` since 2025).
- ``slirp4netns`` (the script's default) gives dockerd a network namespace of its own; the
  script passes ``--disable-host-loopback``, and ``127.0.0.1`` there is that namespace's
  own loopback, so a push to the learner's registry on the machine's ``127.0.0.1`` fails.
- So: ``slirp4netns`` with ``--disable-host-loopback=false`` (slirp4netns then forwards
  ``10.0.2.2`` to the machine's loopback), and in the engine's namespace one NAT rule that
  sends ``127.0.0.1`` there (``route_localnet``): the engine reaches the learner's
  registry at ``127.0.0.1:PORT`` exactly as the learner's own programs do. Containers keep
  no network (``--bridge=none``; the lab runs them with ``--network none``).
  slirp4netns opens ``/dev/net/tun``: udev makes it 0666; a machine without udev leaves
  it 0600, so ``up`` opens it (``down`` puts the mode back).

Example:
    >>> docker_host("/srv/c", "labkit-learner-01")
    'unix:///srv/c/rt/01/docker.sock'
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import time
from pathlib import Path

from labkit import engine as engine_mod
from labkit.errors import LabkitError

SCRIPT = Path("/usr/share/docker.io/contrib/dockerd-rootless.sh")
#: Debian packages a rootless engine needs: the tools each provides.
NEEDS = {"rootlesskit": "rootlesskit", "newuidmap": "uidmap", "slirp4netns": "slirp4netns",
         "iptables": "iptables", "nsenter": "util-linux", "dockerd": "docker.io"}
TUN = Path("/dev/net/tun")
FUSE = Path("/dev/fuse")
PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
#: In the engine's network namespace: its dials to 127.0.0.1 go to the machine's loopback,
#: which slirp4netns serves at 10.0.2.2 (rootlesskit's default network 10.0.2.0/24).
LOOPBACK_RULES = ["sysctl -qw net.ipv4.conf.all.route_localnet=1",
                  "iptables -t nat -A OUTPUT -d 127.0.0.1/32 -p tcp -j DNAT --to-destination 10.0.2.2",
                  "iptables -t nat -A POSTROUTING -s 127.0.0.1/32 -o tap0 -j SNAT --to-source 10.0.2.100"]


def runtime(root, name: str) -> Path:
    """Learner ``name``'s runtime folder (``XDG_RUNTIME_DIR``, 0700): the engine's socket."""
    return Path(root) / "rt" / name.rsplit("-", 1)[-1]


def docker_host(root, name: str) -> str:
    """Learner ``name``'s ``DOCKER_HOST``."""
    return f"unix://{runtime(root, name) / 'docker.sock'}"


def missing() -> list[str]:
    """Debian packages a rootless engine needs that are not installed (``[]`` when ready).

    Example:
        >>> isinstance(missing(), list)
        True
    """
    lost = [pkg for tool, pkg in NEEDS.items() if not shutil.which(tool, path=PATH)]
    return sorted(set(lost + (["docker.io"] if not SCRIPT.is_file() else [])))


def open_devices(devices=(TUN,)) -> dict[str, int]:
    """Make ``devices`` usable by every user, as udev does; returns path -> old mode of
    those changed (for :func:`restore_devices`)."""
    changed = {}
    for device in devices:
        mode = stat.S_IMODE(device.stat().st_mode)
        if mode & 0o006 != 0o006:
            device.chmod(mode | 0o666)
            changed[str(device)] = mode
    return changed


def restore_devices(changed: dict[str, int]) -> None:
    """Put back the modes :func:`open_devices` changed."""
    for path, mode in changed.items():
        try:
            Path(path).chmod(mode)
        except OSError:
            pass


def _as(uid: int, gid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups"]


def storage_driver(uid: int, gid: int, where: Path) -> str:
    """``overlay2`` when user ``uid`` may mount overlayfs in a user namespace of theirs in
    ``where`` (tried there), else ``fuse-overlayfs`` (its ``/dev/fuse`` opened to all)."""
    probe = where / ".labkit-overlay-probe"
    script = ("mkdir -p l u w m && mount -t overlay overlay "
              "-o lowerdir=l,upperdir=u,workdir=w m && umount m")
    probe.mkdir(parents=True, exist_ok=True)
    os.chown(probe, uid, gid)
    try:
        done = subprocess.run([*_as(uid, gid), "unshare", "--user", "--map-root-user", "--mount",
                               "sh", "-c", script], cwd=probe, capture_output=True, timeout=60)
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    return "overlay2" if done.returncode == 0 else "fuse-overlayfs"


def start(root, name: str, uid: int, gid: int, home: Path, cgroup_files: list[str], log_file: Path,
          driver: str = "overlay2", timeout: float = 120) -> dict:
    """Start learner ``name``'s rootless engine as ``uid``/``gid``, inside their control
    groups (``cgroup_files``: joined before it starts, so all it runs stays there).

    Returns:
        ``{"pid": rootlesskit's pid, "docker_host": ..., "driver": ...}``.

    Raises:
        LabkitError: it did not answer within ``timeout`` seconds (its log says why).
    """
    rt = runtime(root, name)
    rt.mkdir(parents=True, exist_ok=True)
    os.chown(rt, uid, gid)
    rt.chmod(0o700)
    config = rt / "daemon.json"
    config.write_text(json.dumps({"features": {"buildkit": True}}) + "\n")
    os.chown(config, uid, gid)
    env = {"HOME": str(home), "USER": name, "LOGNAME": name, "PATH": PATH, "XDG_RUNTIME_DIR": str(rt),
           "DOCKERD_ROOTLESS_ROOTLESSKIT_NET": "slirp4netns",
           "DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER": "none",
           "DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS": f"--disable-host-loopback=false --state-dir={rt / 'rk'}"}
    dockerd = ["-H", docker_host(root, name), "--data-root", str(home / ".local/share/docker"),
               "--exec-root", str(rt / "docker"), "--pidfile", str(rt / "docker.pid"),
               "--config-file", str(config), "--storage-driver", driver,
               "--bridge=none", "--iptables=false", "--ip6tables=false"]
    join = " && ".join(f"echo $$ > {shlex.quote(f)}" for f in cgroup_files) or "true"
    command = (f"{join} && exec {shlex.join(_as(uid, gid))} env -i "
               + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
               + f" {shlex.quote(str(SCRIPT))} {shlex.join(dockerd)}")
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(["/bin/sh", "-c", command], cwd=home, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    child = rt / "rk" / "child_pid"
    while not child.is_file() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    if child.is_file():
        _loopback(int(child.read_text()), log_file)
    url = docker_host(root, name)
    while time.monotonic() < deadline and proc.poll() is None:
        eng = engine_mod.try_connect(url, timeout=2)
        if eng is not None:
            eng.api.close()
            return {"pid": proc.pid, "docker_host": url, "driver": driver}
        time.sleep(0.5)
    proc.terminate()
    raise LabkitError(f"the rootless engine of {name} did not start", hint=f"see {log_file}")


def _loopback(child: int, log_file: Path) -> None:
    """The NAT rule in the engine's network namespace (see the module doc), as root."""
    for _ in range(50):
        done = subprocess.run(["nsenter", "-t", str(child), "-n", "sh", "-c", " && ".join(LOOPBACK_RULES)],
                              capture_output=True, text=True, timeout=30, env={"PATH": PATH})
        if done.returncode == 0:
            return
        time.sleep(0.2)                       # tap0 not there yet
    with open(log_file, "a") as out:
        out.write(f"labkit: the loopback rule failed: {done.stderr}\n")


def stop(pid: int | None, timeout: float = 20.0) -> None:
    """Ask the engine started as ``pid`` (rootlesskit) to stop, and wait until all it
    started in its session has ended (what is left is killed with the learner's groups)."""
    if not pid:
        return
    try:
        os.kill(pid, 15)                      # rootlesskit passes it on to dockerd
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
