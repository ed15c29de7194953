"""The attack battery: what a learner can do, through their own ``DOCKER_HOST``, to the
machine and to another learner -- tried for real, each outcome one :class:`Outcome`.

The attacker runs the docker CLI as themselves (their system user, their environment); the
victim is another learner with a private file (0600) in their home, a running container and
an image on their engine, a process, and a Jupyter server. :func:`run` tries:

``-v /:/host`` (read ``/etc/shadow``, and the victim's private file), ``--privileged``
(write the machine's ``/etc``), ``--device`` (mount the machine's root disk), ``--cap-add=ALL``
(make a device node of that disk and read it), ``--pid=host`` (kill the victim's process), the
victim's engine socket, the victim's containers and images through one's own engine, the
victim's runtime folder (their kernels' sockets), and -- where the engine's limits hold
them -- a fork bomb, memory and disk past the learner's limits, CPU past their share.

``blocked`` is True when the attempt did not get what it was after; ``detail`` says what
happened, in the engine's or the kernel's words. The table in docs/instructors.md is
:func:`table` of two runs: a rootless class, and a root engine.

Example:
    >>> Outcome("read /etc/shadow", "docker run -v /:/host ...", True, "Permission denied").row()["blocked"]
    'yes'
"""
from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import time
from pathlib import Path

from labkit import oci
from labkit.scenarios.busybox import _busybox_layer


@dataclasses.dataclass
class Outcome:
    """One attempt: what was tried, how (the command), whether it was stopped, and how."""

    attempt: str
    command: str
    blocked: bool | None          # None: not tried here (``detail`` says why)
    detail: str

    def row(self) -> dict:
        """The outcome as a table row."""
        word = {True: "yes", False: "NO", None: "not tried"}[self.blocked]
        return {"attempt": self.attempt, "command": self.command, "blocked": word, "what happened": self.detail}


@dataclasses.dataclass
class Side:
    """One learner as the battery sees them.

    Attributes:
        user: system user name (None: run as this process, e.g. root on a root engine).
        docker_host: their ``DOCKER_HOST``.
        home: their home folder.
        namespace: the prefix of their images.
        runtime: their runtime folder (kernel sockets; a rootless engine's socket).
        pid: a process of theirs to aim at (their Jupyter server or engine).
    """

    user: str | None
    docker_host: str
    home: Path
    namespace: str
    runtime: Path | None = None
    pid: int | None = None


IMAGE = "attack:busybox"
SECRET = "labkit-battery-secret.txt"


def _one_line(text: str, limit: int = 160) -> str:
    """The end of ``text`` on one line (an engine's error says what matters last)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()
             and not ln.startswith("Run 'docker run --help'")]
    joined = " / ".join(lines[-2:])
    return ("…" + joined[-limit:] if len(joined) > limit else joined) if lines else "(no output)"


def docker(side: Side, *args: str, timeout: float = 120, host: str | None = None) -> tuple[int, str]:
    """Run ``docker ARGS`` as ``side``'s user with their ``DOCKER_HOST`` (or ``host``)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(side.home), "DOCKER_HOST": host or side.docker_host}
    prefix = ["setpriv", "--reuid", side.user, "--regid", side.user, "--init-groups"] if side.user else []
    try:
        done = subprocess.run([*prefix, "/usr/bin/docker", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, cwd="/")
    except subprocess.TimeoutExpired:
        return 124, f"(no answer within {timeout:.0f} s)"
    return done.returncode, done.stdout + done.stderr


def shell(side: Side, argv: list[str], timeout: float = 30) -> tuple[int, str]:
    """Run ``argv`` on the machine as ``side``'s user (not in a container)."""
    prefix = ["setpriv", "--reuid", side.user, "--regid", side.user, "--init-groups"] if side.user else []
    done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=timeout, cwd="/",
                          env={"PATH": "/usr/bin:/bin", "HOME": str(side.home)})
    return done.returncode, done.stdout + done.stderr


def prepare(side: Side, workdir: Path, busybox: Path) -> str:
    """Load the battery's busybox image into ``side``'s engine; returns its tag."""
    tag = f"{side.namespace}/{IMAGE}"
    tar = oci.Image([_busybox_layer(busybox)], cmd=["/bin/sh"]).write(workdir / "attack.tar", tag=tag)
    tar.chmod(0o644)
    code, out = docker(side, "load", "-i", str(tar))
    if code != 0:
        raise RuntimeError(f"cannot load the battery's image: {_one_line(out)}")
    return tag


def root_disk() -> str | None:
    """The block device the machine's ``/`` is on (``/dev/vda``), if it is one."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        device, target = line.split()[:2]
        if target == "/" and device.startswith("/dev/"):
            return device
    return None


def _run(side: Side, image: str, *flags: str, cmd: str, timeout: float = 60) -> tuple[int, str, str]:
    argv = ["run", "--rm", "--network", "none", *flags, image, "/bin/busybox", "sh", "-c", cmd]
    code, out = docker(side, *argv, timeout=timeout)
    return code, out, "docker " + " ".join(shlex.quote(a) for a in argv)


def filesystem(me: Side, other: Side, image: str) -> list[Outcome]:
    """Reading and writing the machine's files, and the other learner's, from a container."""
    found = []
    code, out, cmd = _run(me, image, "-v", "/:/host", cmd="/bin/busybox cat /host/etc/shadow")
    found.append(Outcome("read the machine's /etc/shadow", cmd.replace(image, "IMG"),
                         "root:" not in out, "read it" if "root:" in out else _one_line(out)))
    code, out, cmd = _run(me, image, "-v", f"{other.home}:/other",
                          cmd=f"/bin/busybox cat /other/{SECRET}")
    found.append(Outcome("read another learner's private file", cmd.replace(image, "IMG"),
                         "labkit-secret" not in out, "read it" if "labkit-secret" in out else _one_line(out)))
    mark = f"labkit-attack-{os.getpid()}"
    for folder, flags in (("/etc", ()), ("/usr", ()), ("/etc", ("--privileged",))):
        code, out, cmd = _run(me, image, *flags, "-v", f"{folder}:/target",
                              cmd=f"/bin/busybox touch /target/{mark} && echo written")
        wrote = Path(folder, mark).exists()
        Path(folder, mark).unlink(missing_ok=True)
        if wrote:
            detail = f"wrote {folder}/{mark} (removed again)"
        elif "written" in out:   # rootlesskit --copy-up=/etc: the engine's own tmpfs copy
            detail = (f"wrote only the engine's private copy of {folder} (rootlesskit --copy-up, a tmpfs in "
                      f"its mount namespace); the machine's {folder} is unchanged")
        else:
            detail = _one_line(out)
        found.append(Outcome(f"write the machine's {folder}" + (" with --privileged" if flags else ""),
                             cmd.replace(image, "IMG"), not wrote, detail))
    return found


def devices(me: Side, image: str) -> list[Outcome]:
    """The machine's disk: as a device given to the container, and as a node made inside it."""
    disk = root_disk()
    if disk is None:
        why = "/ is not on a block device here"
        return [Outcome("mount the machine's disk (--device)", "", None, why),
                Outcome("read the machine's disk (--cap-add=ALL, mknod)", "", None, why)]
    found = []
    code, out, cmd = _run(me, image, "--privileged", "--device", f"{disk}:/dev/hostdisk",
                          cmd="/bin/busybox mkdir -p /m && /bin/busybox mount -o ro /dev/hostdisk /m "
                              "&& /bin/busybox ls /m/etc/shadow")
    found.append(Outcome("mount the machine's disk (--device, --privileged)", cmd.replace(image, "IMG"),
                         code != 0, "mounted it" if code == 0 else _one_line(out)))
    major, minor = os.major(os.stat(disk).st_rdev), os.minor(os.stat(disk).st_rdev)
    code, out, cmd = _run(me, image, "--cap-add=ALL",
                          cmd=f"/bin/busybox mknod /d b {major} {minor} && /bin/busybox head -c 512 /d "
                              "| /bin/busybox wc -c")
    read = code == 0 and out.strip().endswith("512")
    found.append(Outcome("read the machine's disk (--cap-add=ALL, mknod)", cmd.replace(image, "IMG"),
                         not read, "read 512 bytes of it" if read else _one_line(out)))
    return found


def processes(me: Side, other: Side, image: str) -> list[Outcome]:
    """``--pid=host``: signal the other learner's process."""
    if other.pid is None:
        return [Outcome("kill another learner's process (--pid=host)", "", None, "no process to aim at")]
    code, out, cmd = _run(me, image, "--pid=host", cmd=f"/bin/busybox kill -STOP {other.pid}")
    stopped = "T" in _state(other.pid)
    if stopped:
        os.kill(other.pid, 18)                    # SIGCONT: let it run again
    return [Outcome("stop another learner's process (--pid=host)",
                    cmd.replace(image, "IMG").replace(str(other.pid), "PID"), not stopped,
                    "stopped it (then let it go on)" if stopped else _one_line(out))]


def _state(pid: int) -> str:
    try:
        return next(ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if ln.startswith("State:"))
    except (OSError, StopIteration):
        return ""


def neighbours(me: Side, other: Side, victim_container: str, victim_image: str) -> list[Outcome]:
    """The other learner's engine socket, containers, images and runtime folder."""
    found = []
    if other.docker_host != me.docker_host:
        code, out = docker(me, "ps", host=other.docker_host, timeout=30)
        found.append(Outcome("use another learner's engine socket", f"DOCKER_HOST={other.docker_host} docker ps",
                             code != 0, _one_line(out)))
    code, out = docker(me, "ps", "-a", "--no-trunc")
    seen = victim_container in out
    code, out = docker(me, "rm", "-f", victim_container)
    code, images = docker(me, "rmi", victim_image)
    code, alive = docker(other, "inspect", "--format", "{{.State.Running}}", victim_container)
    code, kept = docker(other, "image", "inspect", "--format", "{{.Id}}", victim_image)
    running, kept = alive.strip() == "true", kept.strip().startswith("sha256:")
    found.append(Outcome("see, remove another learner's container and image through one's own engine",
                         "docker ps -a; docker rm -f THEIRS; docker rmi THEIR/IMAGE", running and kept and not seen,
                         "both intact, not even listed" if running and kept and not seen else
                         f"{'listed' if seen else 'did not list'} their container, "
                         f"{'stopped and removed it' if not running else 'left it running'}; "
                         f"their image {'kept' if kept else 'untagged'}"))
    if other.runtime is not None:
        code, out = shell(me, ["ls", str(other.runtime)])
        found.append(Outcome("open another learner's runtime folder (kernel sockets)", f"ls {other.runtime}",
                             code != 0, _one_line(out)))
    return found


def resources(me: Side, image: str, limits: dict, usage, others_answer, cpus: float = 1.0) -> list[Outcome]:
    """A fork bomb, memory and disk past the limits, CPU past one's share -- each only when
    the limit is on (``limits``: limit -> ``on`` / ``off: why``). ``usage()`` reads the
    learner's counters; ``others_answer()`` is True when the other learner's engine answers
    within a few seconds (the machine is still serving them)."""
    found = []
    if limits.get("pids") == "on":
        name = f"bomb-{os.getpid()}"
        cmd = "b(){ b|b& }; b; /bin/busybox sleep 600"
        refused = usage()["pids_refused"]
        docker(me, "run", "-d", "--network", "none", "--name", name, image, "/bin/busybox", "sh", "-c", cmd)
        time.sleep(6)
        answered, counts = others_answer(), usage()
        code, out = docker(me, "rm", "-f", name, timeout=120)
        own = docker(me, "version", "--format", "{{.Server.Version}}", timeout=60)[0] == 0
        refused = counts["pids_refused"] - refused
        found.append(Outcome("fork bomb", f"docker run IMG sh -c '{cmd}'", refused > 0 and answered and own,
                             f"{refused} forks refused at the limit (peak {counts['pids_peak']} pids); the other "
                             f"learner's engine answered: {answered}; own engine answered after: {own}"))
    else:
        found.append(Outcome("fork bomb", "", None, f"pids limit {limits.get('pids')}"))
    if limits.get("memory") == "on":
        before = usage()["oom_kills"]
        code, out, cmd = _run(me, image, cmd="/bin/busybox head -c 8000000000 /dev/zero | /bin/busybox tail "
                                             "| /bin/busybox wc -c", timeout=300)
        kills, answered = usage()["oom_kills"] - before, others_answer()
        own = docker(me, "version", "--format", "{{.Server.Version}}", timeout=30)[0] == 0
        found.append(Outcome("memory past the limit (tail of 8 GB without a newline)", cmd.replace(image, "IMG"),
                             kills > 0 and answered and own,
                             f"the kernel killed {kills} process(es) in the learner's group ({_one_line(out, 60)}); "
                             f"own engine answered after: {own}; the other learner's: {answered}"))
    else:
        found.append(Outcome("memory past the limit", "", None, f"memory limit {limits.get('memory')}"))
    if limits.get("disk") == "on":
        code, out, cmd = _run(me, image, cmd="/bin/busybox dd if=/dev/zero of=/big bs=1M count=4096 2>&1; "
                                             "/bin/busybox ls -l /big", timeout=300)
        full = "No space left" in out
        wrote = next((ln.split()[4] for ln in out.splitlines() if ln.endswith("/big")), "?")
        found.append(Outcome("disk past the limit (4 GB into a container)", cmd.replace(image, "IMG"), full,
                             f"'No space left on device' after {wrote} bytes" if full else _one_line(out)))
    else:
        found.append(Outcome("disk past the limit", "", None, f"disk limit {limits.get('disk')}"))
    if limits.get("cpu") == "on":
        before, started = usage(), time.monotonic()
        code, out, cmd = _run(me, image, cmd="for i in 1 2 3 4; do (while :; do :; done) & done; "
                                             "/bin/busybox sleep 4; kill $(jobs -p) 2>/dev/null; true")
        after, seconds = usage(), time.monotonic() - started
        cores = (after["cpu_ns"] - before["cpu_ns"]) / 1e9 / seconds
        found.append(Outcome("CPU past the limit (4 busy loops, 4 s)", cmd.replace(image, "IMG"),
                             cores <= cpus * 1.1 if before["cpu_ns"] or after["cpu_ns"] else None,
                             f"used {cores:.2f} cores on average (limit {cpus}); held back "
                             f"{after['throttled'] - before['throttled']} times"))
    else:
        found.append(Outcome("CPU past the limit (4 busy loops)", "", None, f"cpu limit {limits.get('cpu')}"))
    return found


def table(runs: dict[str, list[Outcome]]) -> str:
    """A markdown table: one row per attempt, a column per mode (``runs``: mode -> outcomes).

    Example:
        >>> print(table({"rootless": [Outcome("a", "c", True, "denied")]}))
        | attempt | rootless |
        | --- | --- |
        | a | blocked: denied |
    """
    modes = list(runs)
    attempts = list(dict.fromkeys(o.attempt for outcomes in runs.values() for o in outcomes))
    cell = {(m, o.attempt): o for m, outcomes in runs.items() for o in outcomes}
    lines = ["| attempt | " + " | ".join(modes) + " |", "| --- |" + " --- |" * len(modes)]
    for attempt in attempts:
        words = []
        for mode in modes:
            o = cell.get((mode, attempt))
            words.append("—" if o is None else
                         {True: "blocked: ", False: "**allowed**: ", None: "not tried: "}[o.blocked]
                         + o.detail.replace("|", "\\|"))
        lines.append(f"| {attempt} | " + " | ".join(words) + " |")
    return "\n".join(lines)
