"""The class server: real JupyterHub, real users, learners at once.

``test_three_learners_at_once...`` is the load test's CI-sized variant (bench/bench_classroom.py
at N = 3 on the class's own engine): ``labkit classroom up`` in the foreground, as an
instructor starts it; three learners log in through the Hub's REST API and run every
notebook through their own kernel at the same time; then Ctrl-C, and nothing it made may be
left (users, processes, files, images). ``test_two_learners_in_lockstep...`` drives two
learners' kernels through the notebooks on one shared engine, cell by cell at the same
moment, 20 rounds (issue 18). ``test_a_rootless_class...`` brings up ``--engine rootless``
for two learners, runs every notebook on learner 01's rootless engine, tries the attack
battery (and the same on a root engine, to show what the root modes allow), then Ctrl-C.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import stat
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, install, need

from labkit import engine as engine_mod
from labkit.classroom import accounts, battery, hubconfig, limits, lockstep, ports, procs, rootless
from labkit.classroom.ports import free_port
from labkit.classroom.server import Classroom
from labkit.errors import LabkitError

sys.path.insert(0, str(REPO))
from bench import bench_classroom  # noqa: E402


# --- without a Hub ------------------------------------------------------------------------
def test_learner_names_are_numbered_and_sortable():
    assert accounts.learner_names(2) == ["labkit-learner-01", "labkit-learner-02"]
    assert accounts.learner_names(100)[0] == "labkit-learner-001"
    with pytest.raises(LabkitError):
        accounts.learner_names(0)


def test_each_learner_gets_their_own_namespace_progress_file_and_no_fleet():
    settings = {"root": "/srv/c", "docker_hosts": {"labkit-learner-02": "unix:///srv/c/engines/02/docker.sock"}}
    one, two = (hubconfig.environment(settings, n) for n in ("labkit-learner-01", "labkit-learner-02"))
    assert one["LABKIT_NAMESPACE"] == "labkit-learner-01" != two["LABKIT_NAMESPACE"]
    assert one["LABKIT_PROGRESS"] == "/srv/c/progress/labkit-learner-01/progress.json"
    assert one["DOCKER_HOST"] == "unix:///var/run/docker.sock"
    assert two["DOCKER_HOST"] == "unix:///srv/c/engines/02/docker.sock"
    assert one["LABKIT_FLEET_RUN"] == "/srv/c/no-fleet"        # notebook 3 reads recordings
    assert one["PATH"].startswith("/srv/c/venv/bin:")


class _Config:
    """Enough of traitlets' config object: attributes spring into being."""

    def __getattr__(self, name):
        value = _Config()
        object.__setattr__(self, name, value)
        return value


def test_hub_config_is_loopback_only_and_spawns_each_learner_as_themselves(tmp_path):
    folders = hubconfig.paths(tmp_path)
    folders["run"].mkdir()
    (folders["run"] / "password").write_text("pw\n")
    (folders["run"] / "admin-token").write_text("t0k\n")
    folders["settings"].write_text('{"root": "%s", "learners": ["labkit-learner-01"], "port": 8000, '
                                   '"hub_port": 8081, "proxy_api_port": 8001}' % tmp_path)
    c = _Config()
    hubconfig.apply(c, folders["settings"])
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8000"
    assert c.JupyterHub.hub_bind_url.startswith("http://127.0.0.1:")
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.spawner_class == "localprocess"
    assert c.Authenticator.allowed_users == {"labkit-learner-01"}
    assert c.DummyAuthenticator.password == "pw"
    assert c.JupyterHub.services == [{"name": "labkit-classroom", "api_token": "t0k"}]

    class Spawner:
        class user:
            name = "labkit-learner-01"

    env = {k: f(Spawner) for k, f in c.Spawner.environment.items()}
    assert env["LABKIT_NAMESPACE"] == "labkit-learner-01"


def test_each_learners_server_has_a_port_of_its_own_outside_the_ephemeral_range(tmp_path, monkeypatch):
    names = accounts.learner_names(30)
    chosen = ports.server_ports(names, avoid={8000})
    assert sorted(chosen) == names and len(set(chosen.values())) == 30 and 8000 not in chosen.values()
    assert all(10000 <= p < ports.ephemeral_range()[0] for p in chosen.values())
    with socket.socket() as held:                 # a port something listens on is never chosen
        held.bind(("127.0.0.1", 0))
        busy = held.getsockname()[1]
        held.listen()
        two = ports.server_ports(names[:2], low=busy - 1, high=busy + 2)
        assert sorted(two.values()) == [busy - 1, busy + 1]
        with pytest.raises(LabkitError, match="no free port"):
            ports.server_ports(names[:3], low=busy - 1, high=busy + 2)
    assert ports.ephemeral_range(str(tmp_path / "absent")) == (32768, 60999)

    monkeypatch.setattr(hubconfig, "prepare_learner", lambda settings, name: None)

    class Spawner:
        port = 0

        class user:
            name = "labkit-learner-02"

    hubconfig._before_spawn({"server_ports": chosen}, Spawner)
    assert Spawner.port == chosen["labkit-learner-02"]
    Spawner.port = 0
    hubconfig._before_spawn({}, Spawner)           # a class set up before: JupyterHub chooses
    assert Spawner.port == 0


def test_shared_engines_hold_images_and_every_learner_has_their_own_tmp():
    for mode, shared in (("machine", "1"), ("class", "1"), ("per-learner", "0"), ("rootless", "0")):
        env = hubconfig.environment({"root": "/srv/c", "engine": mode, "docker_hosts": {}}, "labkit-learner-01")
        assert env["LABKIT_SHARED_ENGINE"] == shared, mode
        assert env["TMPDIR"] == "/srv/c/home/labkit-learner-01/tmp"
    rootless_settings = {"root": "/srv/c", "engine": "rootless",
                         "docker_hosts": {"labkit-learner-01": rootless.docker_host("/srv/c", "labkit-learner-01")}}
    assert hubconfig.environment(rootless_settings, "labkit-learner-01")["DOCKER_HOST"] == \
        "unix:///srv/c/rt/01/docker.sock"


def test_subordinate_ids_never_overlap_anyones(tmp_path):
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("alice:100000:65536\npodman-user:2000000:65536\n")
    subgid.write_text("alice:100000:65536\n")
    starts = accounts.free_subids(30, files=(subuid, subgid))
    taken = [(100000, 65536), (2000000, 65536)]
    spans = [(s, accounts.SUBID_COUNT) for s in starts] + taken
    for i, (a, n) in enumerate(spans):
        for b, m in spans[i + 1:]:
            assert a + n <= b or b + m <= a, (a, b)
    assert accounts.subids("alice", files=(subuid, subgid)) == [(100000, 65536)]


def test_limits_read_from_the_command_line():
    asked = limits.Limits.parse(pids="512", memory="768M", cpus="0.5", disk="1G")
    assert (asked.pids, asked.memory, asked.cpus, asked.disk) == (512, 768 << 20, 0.5, 1 << 30)
    assert limits.Limits.parse().to_dict() == limits.Limits().to_dict()
    with pytest.raises(LabkitError, match="not a size"):
        limits.size("lots")
    assert limits.version() in ("v1", "v2", "none")


def test_the_bench_and_the_lockstep_take_every_notebook_found():
    found = sorted(p.name for p in (REPO / "notebooks").glob("[0-9]*.ipynb"))
    assert [p.name for p in lockstep.notebooks(REPO / "notebooks")] == found
    assert [f"{n}.ipynb" for n in bench_classroom.lesson_notebooks()] == found
    assert any("registry" in n for n in found)          # the registry notebook is measured too


def test_lockstep_reruns_the_cheapest_image_cells_within_its_budget():
    log = [("a", 1, 2.0, []), ("a", 2, 0.5, []), ("b", 3, 1.0, [])]
    assert lockstep._within({"a": [1, 2], "b": [3]}, log, 1.6) == {"a": [2], "b": [3]}
    assert lockstep._within({"a": [1], "b": []}, log, 0.1) == {"a": [1], "b": []}   # at least one
    assert lockstep._within({"a": [1, 2]}, log, None) == {"a": [1, 2]}


def test_the_attack_table_has_a_column_per_mode():
    table = battery.table({"rootless": [battery.Outcome("read /etc/shadow", "c", True, "Permission denied")],
                           "root engine": [battery.Outcome("read /etc/shadow", "c", False, "read it")]})
    assert table.splitlines()[0] == "| attempt | rootless | root engine |"
    assert "| read /etc/shadow | blocked: Permission denied | **allowed**: read it |" in table


def test_down_of_a_classroom_that_never_was_is_harmless(tmp_path):
    assert Classroom(tmp_path / "none").down(log=lambda *a: None) == []


# --- a real class -------------------------------------------------------------------------
def _ready_for_a_class() -> None:
    if os.geteuid() != 0:
        need("classroom", "a class server creates users: it needs root")
    if shutil.which("configurable-http-proxy") is None:
        need("classroom", f"configurable-http-proxy is not installed: {install('configurable-http-proxy')}")
    if not Path("/var/run/docker.sock").exists():
        need("classroom", "no Docker engine socket at /var/run/docker.sock")


def _ctrl_c(proc: subprocess.Popen, root: Path, timeout: float) -> str:
    """Ctrl-C to ``labkit classroom up``, and what it printed; if it has not ended within
    ``timeout`` s, kill it, take the class down as root would, and fail."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        Classroom(root).down(log=lambda *a: None)
        raise


def _wait_for(proc: subprocess.Popen, text: str, timeout: float) -> str:
    """Lines of ``proc``'s output until one contains ``text``."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    proc.kill()
    pytest.fail(f"no {text!r} within {timeout:.0f} s:\n" + "".join(seen)[-3000:])


@pytest.mark.classroom
def test_three_learners_at_once_then_ctrl_c_leaves_nothing():
    _ready_for_a_class()
    root = Path(f"/srv/lkt-{os.getpid()}" if Path("/srv").is_dir() else f"/tmp/lkt-{os.getpid()}")
    labkit = Path(sys.executable).with_name("labkit")
    started = time.monotonic()
    proc = subprocess.Popen([str(labkit), "classroom", "up", "--learners", "3", "--engine", "class",
                             "--root", str(root), "--port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    try:
        _wait_for(proc, "Ctrl-C ends the class", timeout=900)
        room = Classroom(root)
        settings = room.settings()
        names = settings["learners"]
        # Real users, private homes with the notebooks, the Hub answering its admin token.
        for name in names:
            home = Path(pwd.getpwnam(name).pw_dir)
            assert stat.S_IMODE(home.stat().st_mode) == 0o700 and home.stat().st_uid == pwd.getpwnam(name).pw_uid
            assert (home / "notebooks" / "00-start-here.ipynb").is_file()
        assert stat.S_IMODE((root / "run").stat().st_mode) == 0o700
        report = bench_classroom.measure(room, (3,), alone_rounds=1, log=lambda *a: None)
        print(bench_classroom.text(report))
        (crowd,) = report["crowds"]
        assert crowd["failures"] == [] and crowd["finished"] == 3
        assert crowd["before"] == crowd["after"], "the learners left images or containers on the engine"
        assert crowd["left"] == {}
        assert crowd["foreign_tags"] == [] and crowd["foreign_containers"] == []
        assert crowd["tags_seen"] > 0 and all(v > 0 for v in crowd["peak_rss"].values())
        # Every learner passed nothing (the notebooks leave answers at None), and the
        # instructor's summary sees each of them from their progress file alone.
        done = subprocess.run([str(labkit), "classroom", "summary", "--root", str(root)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "Class progress: 3 learners" in done.stdout, done.stdout + done.stderr
    finally:
        out = _ctrl_c(proc, root, timeout=180)
    print(f"class of 3, up to down: {time.monotonic() - started:.0f} s")
    assert proc.returncode == 0, out[-3000:]
    assert "removed" in out
    assert not root.exists()
    assert not any(accounts.exists(n) for n in accounts.learner_names(3))
    assert not accounts.group_exists("labkit-class")
    assert procs.with_argument(str(root)) == []


# --- two learners in lockstep on one shared engine (issue 18) ---------------------------------
@pytest.mark.engine
def test_two_learners_in_lockstep_keep_their_images(engine):
    """Two learners' kernels, the same notebook cell at the same moment, 20 rounds on one
    engine: round 1 every cell of every notebook, then the cells that load, import or pull
    the lab's reproducible images (cheapest first, LABKIT_LOCKSTEP_BUDGET seconds of round 1,
    default 1.5: CI-sized), the second learner a random part of the cell later. No cell may fail, and
    each learner's keepers (their own tags on the empty and busybox images) must survive
    every round."""
    pytest.importorskip("jupyter_client")
    started = time.monotonic()
    names = [f"labkit-lockstep-a{os.getpid()}", f"labkit-lockstep-b{os.getpid()}"]
    report = lockstep.run(lockstep.notebooks(REPO / "notebooks"), engine.base_url, names, rounds=20,
                          budget=float(os.environ.get("LABKIT_LOCKSTEP_BUDGET", "1.5")), log=print)
    print(f"lockstep: {report.rounds} rounds, {report.cells[0]} cells in round 1, {report.cells[1]} "
          f"rerun after; round 1 {report.seconds[0]:.0f} s, later rounds {report.seconds[1]:.1f} s "
          f"(median); {time.monotonic() - started:.0f} s in all")
    assert report.rounds == 20 and report.cells[1] >= 1
    assert report.failures == []
    assert report.keepers_lost == []
    assert engine.owned_by(names[0]) == ([], []) and engine.owned_by(names[1]) == ([], [])
    assert not engine.api.images(name="labkit-held")


# --- a rootless class: every notebook, the attack battery, nothing left ------------------------
def _learner_side(settings: dict, name: str) -> battery.Side:
    home = Path(pwd.getpwnam(name).pw_dir)
    return battery.Side(name, settings["docker_hosts"][name], home, name,
                        rootless.runtime(settings["root"], name), settings["engine_pids"][name])


def _attack(me: battery.Side, other: battery.Side, settings: dict, work: Path, busybox: Path,
            mode: str) -> list[battery.Outcome]:
    """The battery, ``me`` against ``other`` (their secret file, container, image, process)."""
    secret = other.home / battery.SECRET
    secret.write_text("labkit-secret\n")
    owner = pwd.getpwnam(other.user or "root")
    os.chown(secret, owner.pw_uid, owner.pw_gid)
    secret.chmod(0o600)
    image, theirs = battery.prepare(me, work, busybox), battery.prepare(other, work, busybox)
    code, out = battery.docker(other, "run", "-d", "--network", "none", theirs, "/bin/busybox", "sleep", "600")
    assert code == 0, out
    victim = out.strip()
    try:
        found = battery.filesystem(me, other, image) + battery.devices(me, image)
        found += battery.processes(me, other, image) + battery.neighbours(me, other, victim, theirs)
        if mode == "rootless":
            found += battery.resources(
                me, image, settings["limits_state"], lambda: limits.usage(settings["cgroups"], me.user),
                lambda: battery.docker(other, "version", timeout=15)[0] == 0, settings["limits"]["cpus"])
    finally:
        battery.docker(other, "rm", "-f", victim)
        secret.unlink(missing_ok=True)
    return found


@pytest.mark.classroom
def test_a_rootless_class_keeps_learners_apart_and_down_leaves_nothing(engine, tmp_path):
    _ready_for_a_class()
    if rootless.missing():
        need("classroom", "a rootless engine needs " + ", ".join(rootless.missing()))
    from labkit import machine

    busybox = machine.busybox(machine.target(engine).arch).path
    if busybox is None:
        need("tools", "no static busybox (Debian: busybox-static)")
    root = Path(f"/srv/lkr-{os.getpid()}" if Path("/srv").is_dir() else f"/tmp/lkr-{os.getpid()}")
    tun_mode = stat.S_IMODE(rootless.TUN.stat().st_mode)
    labkit = Path(sys.executable).with_name("labkit")
    started = time.monotonic()
    proc = subprocess.Popen([str(labkit), "classroom", "up", "--learners", "2", "--engine", "rootless",
                             "--root", str(root), "--port", str(free_port()), "--pids", "512",
                             "--memory", "512M", "--disk", "1G"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    uids, ranges, outcomes, times = set(), [], {}, {}
    try:
        _wait_for(proc, "Ctrl-C ends the class", timeout=900)
        times["up"] = time.monotonic() - started
        room = Classroom(root)
        settings = room.settings()
        names = settings["learners"]
        uids = {pwd.getpwnam(n).pw_uid for n in names}
        ranges = [r for n in names for r in accounts.subids(n)]
        # status --json: per learner the user, server, engine mode and DOCKER_HOST; the limits.
        done = subprocess.run([str(labkit), "classroom", "status", "--root", str(root), "--json"],
                              capture_output=True, text=True, timeout=120)
        status = json.loads(done.stdout)
        for name in names:
            mine = status["learners"][name]
            assert (mine["user"], mine["server"], mine["engine"]) == (name, False, "rootless")
            assert mine["docker_host"] == rootless.docker_host(root, name) and mine["engine_answers"]
        print("limits:", status["limits"])
        assert set(status["limits"]) == {"pids", "memory", "cpu", "disk"}
        # Each engine: rootless, as the learner, socket in their own 0700 folder, ids apart.
        for name in names:
            eng = engine_mod.connect(settings["docker_hosts"][name])
            assert eng.facts.rootless and eng.facts.storage_driver in ("overlay2", "fuse-overlayfs")
            eng.api.close()
            folder = rootless.runtime(root, name)
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            assert folder.stat().st_uid == pwd.getpwnam(name).pw_uid
            assert (Path(f"/proc/{settings['engine_pids'][name]}").stat().st_uid == pwd.getpwnam(name).pw_uid)
        assert len(ranges) == 2 and ranges[0][0] + ranges[0][1] <= ranges[1][0]
        # Every notebook, live to the end, through learner 01's own server and kernel.
        t0 = time.monotonic()
        report = bench_classroom.measure(room, (1,), alone_rounds=0, log=print)
        times["notebooks"] = time.monotonic() - t0
        (crowd,) = report["crowds"]
        print(bench_classroom.text(report))
        assert crowd["failures"] == [] and crowd["finished"] == 1
        # The battery: learner 01 against learner 02, rootless; then on a root engine.
        t0 = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix="labkit-battery-"))      # learners read its tar
        work.chmod(0o755)
        me, other = _learner_side(settings, names[0]), _learner_side(settings, names[1])
        outcomes["rootless"] = _attack(me, other, settings, work, busybox, "rootless")
        times["battery rootless"] = time.monotonic() - t0
        t0 = time.monotonic()
        as_root = battery.Side(None, engine.base_url, tmp_path, f"labkit-battery-a{os.getpid()}")
        victim = battery.Side(None, engine.base_url, other.home, f"labkit-battery-b{os.getpid()}",
                              pid=other.pid)
        try:
            outcomes["root engine"] = _attack(as_root, victim, settings, work, busybox, "root")
        finally:
            for side in (as_root, victim):
                engine.cleanup_namespace(side.namespace)
        times["battery root"] = time.monotonic() - t0
        shutil.rmtree(work, ignore_errors=True)
    finally:
        t0 = time.monotonic()
        out = _ctrl_c(proc, root, timeout=300)
        times["down"] = time.monotonic() - t0
    for mode, found in outcomes.items():
        print(f"\n{mode}:")
        for o in found:
            print(f"  {o.row()['blocked']:9} {o.attempt}: {o.detail}")
    print("\n" + battery.table(outcomes))
    print("times: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
          + f"; in all {time.monotonic() - started:.0f} s")
    assert proc.returncode == 0, out[-3000:]
    # Rootless: every attempt stopped (a limit the machine cannot set is "not tried", and
    # status said so above).
    assert [o for o in outcomes["rootless"] if o.blocked is False] == []
    off = [k for k, v in status["limits"].items() if v != "on"]
    assert len([o for o in outcomes["rootless"] if o.blocked is None]) <= len(off) + 2   # + no block device
    # A root engine: what its docker group gives any learner (the table's other column).
    allowed = {o.attempt for o in outcomes["root engine"] if o.blocked is False}
    assert {"read the machine's /etc/shadow", "read another learner's private file",
            "write the machine's /etc"} <= allowed, allowed
    assert any(a.startswith("see, remove another learner's container") for a in allowed), allowed
    # Nothing left: users, processes (theirs and their containers'), groups, mounts, devices.
    assert "removed" in out and not root.exists()
    assert not any(accounts.exists(n) for n in accounts.learner_names(2))
    assert procs.processes_of(uids, ranges) == {}
    assert procs.with_argument(str(root)) == []
    assert not any(str(root) in line for line in Path("/proc/self/mounts").read_text().splitlines())
    assert all(not Path(d).exists() for d in settings["cgroups"])
    assert stat.S_IMODE(rootless.TUN.stat().st_mode) == tun_mode
    assert not any(accounts.subids(n) for n in accounts.learner_names(2))
