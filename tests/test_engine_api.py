"""labkit.engine and the API floor: Docker 29.0-29.2 refuse clients below API 1.44.

A fake engine (tests/fake_docker.py) answers as the Docker 29 fixtures do and refuses
old API versions with the daemon's words; the docker SDK (version="auto") must
negotiate up to it, and BuildKit builds must pass over a docker CLI too old for it --
checked with the real docker CLIs of this machine. No engine is needed.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from fake_docker import FakeEngine, fixture
from labkit import engine as engine_mod
from labkit.engine.builds import api_version_tuple
from labkit.errors import EngineError

CLIS = ("/usr/bin/docker", "/usr/local/bin/docker")


def _clis() -> list[str]:
    found = [shutil.which("docker"), *CLIS]
    return [c for c in dict.fromkeys(found) if c and shutil.os.path.isfile(c)]


@pytest.mark.parametrize("name", ["desktop-29-arm64", "linux-29-amd64-containerd", "linux-20.10-amd64"])
def test_the_sdk_negotiates_the_engines_own_api_version(tmp_path, name):
    with FakeEngine(tmp_path, name) as url:
        eng = engine_mod.connect(url)
        try:
            answers = fixture(name)
            assert eng.api.api_version == answers["version"]["ApiVersion"]
            facts = eng.facts
            assert facts.version == answers["version"]["Version"]
            assert facts.min_api_version == answers["version"]["MinAPIVersion"]
        finally:
            eng.api.close()


def test_docker_sdk_floor_is_below_every_engine_here():
    import docker.constants

    assert api_version_tuple(docker.constants.MINIMUM_DOCKER_API_VERSION) <= (1, 24)


def test_a_cli_older_than_the_engine_accepts_is_passed_over(tmp_path):
    clis = _clis()
    if not clis:
        from conftest import need

        need("tools", "no docker CLI installed: apt-get install docker.io")
    with FakeEngine(tmp_path, "linux-29-amd64-containerd") as url:
        eng = engine_mod.connect(url)
        try:
            speaks = {cli: eng.cli_api_version(cli) for cli in clis}
            old = [cli for cli, api in speaks.items() if api and api_version_tuple(api) < (1, 44)]
            for cli in old:                     # what the real CLI gets from a 29.0-29.2 engine
                done = subprocess.run([cli, "version", "--format", "{{.Server.Version}}"],
                                      env=eng.cli_env(), capture_output=True, text=True)
                assert done.returncode != 0 and "Minimum supported API version is 1.44" in done.stderr
            chosen = eng._buildkit_cli
            assert chosen is None or chosen[0] not in old
            if chosen is None:
                with pytest.raises(EngineError) as err:
                    eng.build(tmp_path, "labkit-test:never", builder="buildkit")
                if old:
                    assert "accepts API 1.44 and newer" in str(err.value)
                    assert all(f"{cli} speaks API" in str(err.value) for cli in old)
        finally:
            eng.api.close()


def test_an_old_engine_keeps_the_cli_it_always_had(tmp_path):
    with FakeEngine(tmp_path, "linux-20.10-amd64") as url:
        eng = engine_mod.connect(url)
        try:
            assert eng._engine_min_api() == "1.12"
            for cli in _clis():
                assert api_version_tuple(eng.cli_api_version(cli)) >= (1, 12)
        finally:
            eng.api.close()


def test_the_namespace_is_the_learners_and_labels_every_api_container(monkeypatch):
    from labkit import scenarios
    from labkit.engine import containers
    from labkit.errors import LabkitError

    monkeypatch.delenv("LABKIT_NAMESPACE", raising=False)
    assert engine_mod.namespace() == scenarios.namespace() == "lab"
    monkeypatch.setenv("LABKIT_NAMESPACE", "labkit-learner-07")
    assert scenarios.Lab(None, None, "hello-legacy").tag("legacy") == "labkit-learner-07/hello-legacy:legacy"
    assert containers.labels() == {"org.labkit.lab": "1", "org.labkit.namespace": "labkit-learner-07"}
    monkeypatch.setenv("LABKIT_NAMESPACE", "Not A Name")
    with pytest.raises(LabkitError, match="not a repository name"):
        engine_mod.namespace()
