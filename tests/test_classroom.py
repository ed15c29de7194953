"""The class server: real JupyterHub, real users, three learners at once on one engine.

The marked test is the load test's CI-sized variant (bench/bench_classroom.py at N = 3):
``labkit classroom up`` in the foreground, as an instructor starts it; three learners log
in through the Hub's REST API and run every notebook through their own kernel at the
same time; then Ctrl-C, and nothing it made may be left (users, processes, files, images).
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, install, need

from labkit.classroom import accounts, hubconfig, procs
from labkit.classroom.server import Classroom, free_port
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
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            Classroom(root).down(log=lambda *a: None)
            raise
    print(f"class of 3, up to down: {time.monotonic() - started:.0f} s")
    assert proc.returncode == 0, out[-3000:]
    assert "removed" in out
    assert not root.exists()
    assert not any(accounts.exists(n) for n in accounts.learner_names(3))
    assert not accounts.group_exists("labkit-class")
    assert procs.with_argument(str(root)) == []
