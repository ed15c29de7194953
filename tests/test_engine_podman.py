"""labkit.engine.podman: Podman through its Docker-compatible API (no engine needed here;
tests/test_fleet.py runs real Podman services)."""
from __future__ import annotations

import pytest

from fake_docker import fixture
from labkit.engine import EngineFacts
from labkit.engine.commands import CommandRun, engine_ids, masked, shown
from labkit.engine.podman import client_version, differs, find_cli, podman_args, podman_line

PODMAN = ("linux-podman-4.3.1-amd64", "linux-podman-5.4.2-amd64")


def facts_of(name: str) -> EngineFacts:
    answers = fixture(name)
    return EngineFacts.from_api(answers["version"], answers["info"], base_url="unix:///fake.sock")


@pytest.mark.parametrize("name, version, runtime, era", [
    ("linux-podman-4.3.1-amd64", "4.3.1", "runc 1.1.5+ds1", "type-bits"),
    ("linux-podman-5.4.2-amd64", "5.4.2", "runc 1.1.15+ds1", "modern"),
    ("linux-20.10-amd64", "20.10.24+dfsg1", "runc 1.1.5+ds1", "20.10"),
])
def test_podman_is_known_by_its_component_and_names_its_runtime(name, version, runtime, era):
    facts = facts_of(name)
    assert facts.family == ("podman" if "podman" in name else "docker")
    assert (facts.version, facts.runtime, facts.tar_era) == (version, runtime, era)
    assert facts.label == f"{facts.product} {version.split('+')[0]}"
    assert not facts.containerd_store and not facts.desktop


@pytest.mark.parametrize("docker, env, podman", [
    (["build", "--progress=plain", "--no-cache", "-t", "lab/x", "."], {"DOCKER_BUILDKIT": "1"},
     ["build", "--no-cache", "-t", "lab/x", "."]),
    (["build", "--no-cache", "-t", "lab/x", "."], {"DOCKER_BUILDKIT": "0"}, ["build", "--no-cache", "-t", "lab/x", "."]),
    (["push", "127.0.0.1:5000/lab/x:1"], {}, ["push", "--tls-verify=false", "127.0.0.1:5000/lab/x:1"]),
    (["pull", "localhost:5000/lab/x:1"], {}, ["pull", "--tls-verify=false", "localhost:5000/lab/x:1"]),
    (["push", "registry.example/lab/x:1"], {}, ["push", "registry.example/lab/x:1"]),
    (["save", "a:1", "b:2"], {}, ["save", "--multi-image-archive", "a:1", "b:2"]),
    (["save", "-o", "x.tar", "a:1"], {}, ["save", "-o", "x.tar", "a:1"]),
    (["version", "--format", "{{.Server.Arch}}"], {}, ["version", "--format", "{{.Server.OsArch}}"]),
    (["load", "-i", "x.tar"], {}, ["load", "-i", "x.tar"]),
    (["image", "inspect", "--format", "{{.Id}} {{.Size}}", "x"], {}, ["image", "inspect", "--format", "{{.Id}} {{.Size}}", "x"]),
])
def test_the_podman_command_a_learner_types(docker, env, podman):
    typed, typed_env = podman_args(docker, env)
    assert (typed, typed_env) == (podman, {})
    assert differs(docker, env, typed, typed_env) == (docker != podman or bool(env))


def test_the_docker_form_is_kept_only_where_it_differs():
    same = CommandRun("podman load -i x.tar", 0, "Loaded image: localhost/lab/x:1\n")
    assert "docker_form" not in same.to_dict() and CommandRun.from_dict(same.to_dict()) == same
    other = CommandRun(shown(["build", "-t", "x", "."], tool="podman"), 0, "",
                       shown(["build", "-t", "x", "."], {"DOCKER_BUILDKIT": "0"}))
    assert other.to_dict()["docker_form"] == "DOCKER_BUILDKIT=0 docker build -t x ."
    assert CommandRun.from_dict(other.to_dict()) == other


def test_buildahs_step_ids_vary_and_are_masked():
    out = ("STEP 1/3: FROM scratch\nSTEP 2/3: COPY hello /hello\n--> 11bd30cef7a\nSTEP 3/3: CMD [\"/hello\"]\n"
           "COMMIT lab/hello:p4\n--> 403cae49a9d\nSuccessfully tagged localhost/lab/hello:p4\n"
           + "403cae49a9d3" + "0" * 52 + "\n")
    run = CommandRun("podman build --no-cache -t lab/hello:p4 .", 0, out)
    assert {"11bd30cef7a", "403cae49a9d"} <= engine_ids([run])
    assert masked(run).count("<varies>") == 3 and "Successfully tagged localhost/lab/hello:p4" in masked(run)


def test_a_failed_start_names_its_container_which_varies():
    run = CommandRun("podman run --rm --network none lab/x", 126,
                     f"Error: preparing container {'ab' * 32} for attach: unable to find user nobody\n")
    assert masked(run) == "Error: preparing container <varies> for attach: unable to find user nobody\n"


def test_no_podman_cli_answers_a_socket_nobody_listens_on(tmp_path):
    assert find_cli(f"unix://{tmp_path}/none.sock", "4.3.1") in (None,)
    assert find_cli("unix:///x.sock", "4.3.1", own="/fleet/podman") == "/fleet/podman"
    assert client_version(str(tmp_path / "podman")) == ""


@pytest.mark.parametrize("line, podman, docker_form", [
    ("docker load -i work/02/hello.tar", "podman load -i work/02/hello.tar", None),
    ("DOCKER_BUILDKIT=1 docker build --progress=plain -q -t hello:x work/02/x",
     "podman build -q -t hello:x work/02/x", "same"),
    ("docker push $REGISTRY/lab/busybox:docker", "podman push --tls-verify=false $REGISTRY/lab/busybox:docker", "same"),
    ("docker save hello:labkit | tar -tv", "podman save hello:labkit | tar -tv", None),
    ("docker version --format '{{.Server.Arch}}'", "podman version --format '{{.Server.OsArch}}'", "same"),
    ("docker image rm a b | grep Untagged && docker run --rm x '+%H:%M %Z'",
     "podman image rm a b | grep Untagged && podman run --rm x '+%H:%M %Z'", None),
    ("echo pw | docker --config work/06/docker login -u student --password-stdin $LOCKED", "unchanged", None),
    ("export D=$(docker images -q x)", "unchanged", None),
    ("curl -s http://$REGISTRY/v2/", "unchanged", None),
])
def test_a_terminal_line_as_a_learner_types_it_on_podman(line, podman, docker_form, monkeypatch):
    monkeypatch.setenv("REGISTRY", "127.0.0.1:5000")
    assert podman_line(line) == (line if podman == "unchanged" else podman,
                                 line if docker_form == "same" else docker_form)
