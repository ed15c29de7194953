"""labkit.fleet.podman: a Podman service in the fleet, chrooted in a root of its suite.

Unit tests need nothing. The real ones use the session ``podman_fleet`` fixture (Debian's
Podman 4.3.1, root, mmdebstrap; only with LABKIT_FLEET=1 or LABKIT_REQUIRE_FLEET=1).
"""
from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from labkit import fleet as labfleet
from labkit import hello, oci, scenarios
from labkit.errors import FleetError
from labkit.fleet import podman, specs
from labkit.scenarios.hello_images import predicted_diff_ids


# --- catalog ----------------------------------------------------------------------------
def test_the_podman_engines_are_pinned_to_their_suites():
    found = {s.name: s for s in labfleet.catalog() if s.engine == "podman"}
    assert {n: (s.suite, s.version) for n, s in found.items()} == {
        "podman-4.3.1": ("bookworm", "4.3.1"), "podman-5.4.2": ("trixie", "5.4.2")}
    for spec in found.values():
        assert spec.kind == "debian" and spec.packages["podman"].startswith(spec.version + "+")
        assert {"runc", "conmon", "golang-github-containers-common"} <= set(spec.packages)
        assert "crun" not in spec.packages        # trixie's crun refuses hybrid cgroups
        assert spec.to_dict()["engine"] == "podman" and spec.name not in specs.load().default


@pytest.mark.parametrize("entry, words", [
    ({"kind": "debian", "engine": "podman", "suite": "sid", "packages": {"docker.io": "1"}}, "podman pin"),
    ({"kind": "debian", "engine": "nerdctl", "suite": "sid", "packages": {"docker.io": "1"}}, "expected engine"),
    ({"kind": "archive", "engine": "podman", "source": "/x.tgz"}, "from Debian"),
])
def test_catalog_refuses_malformed_podman_entries(tmp_path, entry, words):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"engines": {"x": entry}}))
    with pytest.raises(FleetError, match=words):
        specs.load(path)


# --- the service and its files ----------------------------------------------------------
def test_a_podman_engine_has_its_own_socket_and_folders(tmp_path):
    lab = labfleet.Fleet(cache=tmp_path / "cache", run=tmp_path / "run")
    dirs = lab.dirs(lab.catalog.resolve("podman-4.3.1"))
    assert isinstance(dirs, podman.ServiceDirs)
    assert dirs.base_url == f"unix://{tmp_path}/run/podman-4.3.1/podman.sock"
    assert dirs.data == tmp_path / "cache" / "engines" / "podman-4.3.1" / "data"


def test_default_ulimits_stay_within_this_machines_hard_limits():
    text = podman.containers_conf()
    nofile = int(text.split('"nofile=')[1].split(":")[0])
    nproc = int(text.split('"nproc=')[1].split(":")[0])
    for value, limit in ((nofile, resource.RLIMIT_NOFILE), (nproc, resource.RLIMIT_NPROC)):
        hard = resource.getrlimit(limit)[1]
        assert 0 < value and (hard == resource.RLIM_INFINITY or value <= hard)
    assert nproc <= podman.PODMAN_NPROC and 'runtime = "runc"' in text


def test_the_service_gets_its_root_by_pivot_root_not_chroot(tmp_path):
    dirs = podman.ServiceDirs(tmp_path / "run dir", tmp_path / "data")
    root = tmp_path / "root"
    lines = podman.service_script(root, dirs).splitlines()
    assert lines[0] == "set -e" and lines[1] == f"mount --bind {root} {root}"   # a mount point
    assert f"mount --bind '{dirs.run}' '{root}{dirs.run}'" in lines             # quoted: a space
    assert lines[-4:-1] == [f"pivot_root . {podman.OLD_ROOT}", "cd /", f"umount -l /{podman.OLD_ROOT}"]
    assert lines[-1].startswith(f"exec podman --root {dirs.data}/storage --runroot '{dirs.run}/storage'")
    assert lines[-1].endswith(f"system service --time=0 'unix://{dirs.run}/podman.sock'")
    assert not any("chroot" in line for line in lines)


def fake_root(path: Path) -> Path:
    for name in ("usr/bin/podman", "usr/sbin/runc", "usr/lib64/ld-linux-x86-64.so.2",
                 "usr/lib/x86_64-linux-gnu/libc.so.6"):
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(b"")
    return path


def test_the_remote_client_runs_with_the_roots_loader_and_libraries(tmp_path):
    root = fake_root(tmp_path / "engine" / "root")
    found = podman.layout(root)
    assert found.docker_cli == tmp_path / "engine" / "bin" / "podman" and found.buildx is None
    text = podman.write_cli(root, found.docker_cli).read_text()
    assert f"exec {root}/usr/lib64/ld-linux-x86-64.so.2 --library-path {root}/usr/lib/x86_64-linux-gnu " \
           f"{root}/usr/bin/podman \"$@\"" in text
    assert found.docker_cli.stat().st_mode & 0o111


def test_a_root_without_podman_or_a_loader_is_one_clear_error(tmp_path):
    with pytest.raises(FleetError, match="lacks usr/bin/podman, usr/sbin/runc"):
        podman.layout(tmp_path)
    (tmp_path / "usr/bin").mkdir(parents=True)
    with pytest.raises(FleetError, match="no dynamic loader"):
        podman.write_cli(tmp_path, tmp_path / "bin" / "podman")


# --- a real Podman service (LABKIT_FLEET=1 / CI) ----------------------------------------
@pytest.mark.fleet
def test_podman_answers_as_podman_with_its_own_cli(podman_fleet):
    facts = podman_fleet.facts
    assert (facts.family, facts.label, facts.buildkit) == ("podman", "Podman 4.3.1", False)
    assert facts.runtime.startswith("runc 1.1.5") and facts.tar_era == "type-bits"
    assert podman_fleet.tool == "podman" and Path(podman_fleet.cli).name == "podman"
    run = podman_fleet.docker(["version", "--format", "{{.Server.Arch}}"])
    assert run.command == "podman version --format '{{.Server.OsArch}}'" and run.output.strip() == "linux/amd64"
    assert run.docker_form == "docker version --format '{{.Server.Arch}}'"


@pytest.mark.fleet
def test_a_loaded_image_is_localhost_and_runs(podman_fleet, tmp_path):
    image = oci.Image([[oci.Entry.file("hello", hello.tiny_elf(hello.DEFAULT_MESSAGE), mode=0o755)]],
                      cmd=["/hello"])
    path = image.write(tmp_path / "hello.tar", tag="labkit-test/podman:1")
    run = podman_fleet.docker(["load", "-i", path.name], cwd=tmp_path)
    podman_fleet.remember("labkit-test/podman:1")
    assert (run.command, run.docker_form) == ("podman load -i hello.tar", None)
    assert run.output.strip().endswith("Loaded image: localhost/labkit-test/podman:1")
    assert podman_fleet.inspect("labkit-test/podman:1")["Id"] == image.image_id
    assert podman_fleet.run("labkit-test/podman:1").stdout == hello.DEFAULT_MESSAGE


@pytest.mark.fleet
def test_buildahs_hello_layer_has_the_type_bits_and_no_owner_names(podman_fleet, tmp_path):
    cases = scenarios.run("hello-legacy", podman_fleet, tmp_path / "legacy")
    case = cases["legacy"]
    assert case.ok and case.builder == "buildah" and case.diff_ids == [predicted_diff_ids()["type-bits"]]
    header = case.extra["layer_tar_headers"][0]
    assert (header["mode"], header["uname"], header["gname"]) == ("0100755", "", "")
    assert [c["command"].split()[:2] for c in case.commands][0] == ["podman", "build"]
    buildkit = scenarios.run("hello-buildkit", podman_fleet, tmp_path / "buildkit")["buildkit"]
    assert not buildkit.ok and "has no BuildKit" in buildkit.extra[scenarios.NOT_HERE]


@pytest.mark.fleet
def test_podman_reproduces_its_committed_observation(podman_fleet):
    from labkit import observe

    fresh = observe.observe(podman_fleet, name="podman-4.3.1", endpoint="fleet:podman-4.3.1")
    committed = observe.recording("podman-4.3.1")
    assert observe.moved_on("podman-4.3.1", fresh) is None
    assert fresh.provenance["packages"]["podman"] == committed.provenance["packages"]["podman"]
    assert observe.differences(observe.deterministic(fresh), observe.deterministic(committed)) == []
    assert fresh.source.startswith("live Podman 4.3.1") and committed.source.startswith("recorded on Podman 4.3.1")
