"""labkit.machine: the doctor's report, live and offline."""
from __future__ import annotations

import json

import pytest

import labkit
from labkit import hello, machine

NOWHERE = "unix:///nonexistent/labkit-test.sock"
KEYS = {"python", "platform", "packages", "engine", "engine_error", "compilers",
        "hello_variants", "mode", "mode_reason", "fleet", "fleet_error", "host", "target",
        "differences"}


def test_offline_report_says_why(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    report = machine.report()
    assert (report.mode, report.engine) == ("offline", None)
    assert report.engine_error == (f"no Docker engine answered at {NOWHERE}; "
                                   "start Docker, or run the lab offline")
    assert labkit.mode() == "offline"
    assert "offline (no Docker engine" in report.text()


def test_report_is_json_ready_and_complete(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    data = json.loads(json.dumps(machine.report().to_dict()))
    assert set(data) == KEYS
    assert data["packages"]["labkit"] == labkit.__version__
    assert set(data["hello_variants"]) == set(hello.VARIANTS)
    assert data["hello_variants"]["tiny"] is None
    assert set(data["compilers"]) == {"gcc", "musl-gcc"}


def test_text_and_html_show_every_finding(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    report = machine.report()
    text, page = report.text(), report._repr_html_()
    for variant in hello.VARIANTS:
        assert f"hello {variant}" in text and f"hello {variant}" in page
    assert page.startswith("<table") and page.count("<tr>") == len(text.splitlines())
    assert "<script" not in page


@pytest.mark.engine
def test_live_report_has_the_engine_facts(engine, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", engine.base_url)
    report = machine.report()
    assert (report.mode, report.engine_error) == ("live", None)
    assert report.engine == engine.facts.to_dict()
    assert labkit.doctor().mode == labkit.mode() == "live"
    assert f"Docker {engine.facts.version}" in report.text()


def test_asking_for_the_mode_closes_the_connection(monkeypatch):
    from labkit import engine

    class Client:
        closed = False

        def close(self):
            Client.closed = True

    monkeypatch.setattr(engine, "try_connect", lambda: engine.Engine(Client(), "unix:///x"))
    assert labkit.mode() == "live" and Client.closed


# --- issue 14: the lab on learners' laptops, as a matrix of simulated machines -------------
# Engine facts come from tests/data/engines/ (documented /version and /info answers); the
# host from LABKIT_HOST_PLATFORM. Nothing here needs the machine to be any of them.
import types                                                        # noqa: E402
from pathlib import Path                                            # noqa: E402

from fake_docker import fixture                                     # noqa: E402

from labkit import host, oci, show                                  # noqa: E402
from labkit.engine import EngineFacts                               # noqa: E402
from labkit.show.lessons import DIFFERS                             # noqa: E402

ENGINES = {
    # fixture: (arch, Docker Desktop?, containerd store?, the engine's own "differs" lines)
    "desktop-29-arm64": ("arm64", True, True, ["arm64 engine", "Docker Desktop", "containerd image store", "Docker 29"]),
    "linux-29-amd64-containerd": ("amd64", False, True, ["containerd image store", "Docker 29"]),
    "linux-20.10-amd64": ("amd64", False, False, []),
    "linux-podman-4.3.1-amd64": ("amd64", False, False, ["Podman 4.3.1"]),
    "linux-podman-5.4.2-amd64": ("amd64", False, False, ["Podman 5.4.2"]),
}
HOSTS = {"linux": None, "darwin": "macOS host", "win32": "Windows host"}


def facts_of(name: str) -> EngineFacts:
    answers = fixture(name)
    return EngineFacts.from_api(answers["version"], answers["info"], base_url="unix:///fake.sock")


@pytest.mark.parametrize("name", ENGINES)
def test_engine_facts_from_documented_answers(name):
    arch, desktop, containerd, _ = ENGINES[name]
    facts = facts_of(name)
    assert (facts.arch, facts.desktop, facts.containerd_store) == (arch, desktop, containerd)
    assert facts.major == int(fixture(name)["version"]["Version"].split(".")[0])
    if facts.family == "podman":                      # containers/storage's headers
        assert facts.tar_era == ("type-bits" if facts.major < 5 else "modern")
    else:
        assert facts.tar_era == ("20.10" if facts.major < 23 else "modern")


@pytest.mark.parametrize("platform", HOSTS)
@pytest.mark.parametrize("name", ENGINES)
def test_matrix_banner_variants_and_config(name, platform, monkeypatch, tmp_path):
    monkeypatch.setenv(host.ENV, platform)
    arch, _, _, engine_lines = ENGINES[name]
    facts = facts_of(name)
    expected = engine_lines + ([HOSTS[platform]] if HOSTS[platform] else [])

    # the banner: ONE main line, then one line per difference (sanitize.cfg drops those)
    banner = str(show.mode_banner(types.SimpleNamespace(facts=facts, base_url=facts.base_url)))
    first, *rest = banner.splitlines()
    assert first.startswith(f"Mode: live — {facts.product} ") and first.endswith("engine cells build and run on it now.")
    assert [line[len(DIFFERS):].split(":")[0] for line in rest] == expected
    assert all(line.startswith(DIFFERS) for line in rest)

    # the variant chosen: built for the engine's architecture; compiled ones only on Linux
    goal = machine.target(facts)
    assert (goal.oci_arch, goal.source) == (arch, "engine")
    assert goal.variants["tiny"] is None
    if platform != "linux":
        assert all("needs a Linux C toolchain" in goal.variants[v] for v in hello.VARIANTS[1:])
    elif arch == "arm64" and host.current().arch != "aarch64":
        assert "only natively" in goal.variants["musl-static"]     # Debian has no cross musl

    # the architecture in the config, and the program's own
    program = hello.build("tiny", tmp_path / "hello", arch=goal.arch)
    assert hello.describe(program).arch == host.machine_arch(arch)
    image = oci.Image([[oci.Entry.file("hello", source=program)]], cmd=["/hello"], architecture=goal.oci_arch)
    info = oci.inspect(image.write(tmp_path / "hello.tar"))
    assert info.config["architecture"] == arch and info.config["os"] == "linux"

    # the doctor says the same lines
    assert machine.differences(facts) == [line[len(DIFFERS):] for line in rest]


@pytest.mark.parametrize("platform", HOSTS)
def test_offline_banner_is_one_line_on_a_linux_amd64_host_only(platform, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setenv(host.ENV, f"{platform}/amd64")
    lines = str(show.mode_banner()).splitlines()
    assert lines[0].startswith("Mode: offline — ")
    assert len(lines) == (1 if platform == "linux" else 2)
    monkeypatch.setenv(host.ENV, f"{platform}/arm64")
    lines = str(show.mode_banner()).splitlines()
    assert lines[1] == DIFFERS + machine.differences(None)[0] and "arm64 host, no engine" in lines[1]


def test_doctor_shows_host_target_and_differences(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setenv(host.ENV, "win32/arm64")
    report = machine.report()
    assert report.host == {"platform": "win32", "arch": "aarch64", "simulated": True}
    assert (report.target["oci_arch"], report.target["source"]) == ("arm64", "host")
    assert [d.split(":")[0] for d in report.differences] == ["arm64 host, no engine", "Windows host"]
    text = report.text().splitlines()
    assert any(line.split() == ["host", "Windows", "on", "arm64", "(simulated", "by", "LABKIT_HOST_PLATFORM)"]
               for line in text)
    assert sum(line.startswith("differs ") for line in text) == 2
    assert not text[-1].startswith(("host ", "build for ", "differs "))   # sanitize.cfg needs that
    assert report.hello_variants["tiny"] is None and report.hello_variants["dynamic"]


def test_versions_the_fleet_never_ran():
    assert machine.recorded_majors() == [20, 26, 28]
    assert [m for m in (20, 23, 24, 25, 26, 27, 28, 29, 30) if not machine.covered(m)] == [23, 24, 25, 29, 30]


def test_predicted_ids_for_arm64_beside_the_recorded_amd64_ones():
    from labkit import observe

    rows = {r["image"]: r for r in machine.predicted_ids("arm64")}
    ref = observe.reference()
    # the amd64 column is what the recordings (made on amd64) say
    assert rows["empty image (labkit)"]["recorded (amd64)"] == ref["empty-labkit"]["labkit"].extra["predicted_id"]
    assert rows["hello layer diff_id, 20.10 headers"]["recorded (amd64)"] == ref["hello-legacy"].diff_ids[0]
    assert rows["FROM scratch, BuildKit on 20.10"]["recorded (amd64)"] == ref["empty-dockerfile"]["buildkit"].image_id
    # every ID differs on arm64; the program is 6 bytes longer
    assert all(r["same"] == "no" for r in rows.values())
    assert rows["hello program size"]["here (arm64)"] == "176 B"
    assert all(r["same"] == "yes" for r in machine.predicted_ids("amd64"))


def test_busybox_for_the_target_architecture(monkeypatch, tmp_path):
    monkeypatch.delenv(machine.BUSYBOX_ENV, raising=False)
    darwin = host.Host("darwin", "aarch64")
    none = machine.busybox("arm64", darwin)
    assert none.path is None and "macOS has no Linux busybox" in none.reason
    stand_in = none.source(tmp_path)
    assert hello.describe(stand_in).arch == "aarch64"
    assert b"labkit stand-in for busybox" in stand_in.read_bytes()
    # LABKIT_BUSYBOX is honoured on any host, and checked
    wrong = hello.build("tiny", tmp_path / "x86-busybox", arch="x86_64")
    monkeypatch.setenv(machine.BUSYBOX_ENV, str(wrong))
    assert "is for x86_64, the engine runs aarch64" in machine.busybox("arm64", darwin).reason
    assert machine.busybox("amd64", darwin).path == wrong
    monkeypatch.setenv(machine.BUSYBOX_ENV, str(tmp_path / "missing"))
    assert "is not a file" in machine.busybox("amd64", darwin).reason


def test_the_hosts_busybox_is_used_on_linux_only(monkeypatch):
    from conftest import need_path

    need_path("/bin/busybox", "busybox")
    monkeypatch.delenv(machine.BUSYBOX_ENV, raising=False)
    here = host.current()
    assert machine.busybox(here.arch, host.Host("linux", here.arch)).path == Path("/bin/busybox")
    assert machine.busybox(here.arch, host.Host("win32", here.arch)).path is None


def test_an_arm64_image_built_by_labkit_runs_under_qemu(tmp_path, monkeypatch):
    """For the Apple Silicon engine: the hello labkit builds is an aarch64 program in an
    arm64 image; extracted with labkit.oci.extract, it runs under qemu-aarch64-static."""
    import subprocess

    from conftest import need_tool

    qemu = need_tool("qemu-aarch64-static")
    monkeypatch.setenv(host.ENV, "darwin/arm64")
    goal = machine.target(facts_of("desktop-29-arm64"))
    program = hello.build("tiny", tmp_path / "hello", arch=goal.arch)
    image = oci.Image([[oci.Entry.file("hello", source=program, mode=0o755)]], cmd=["/hello"],
                      architecture=goal.oci_arch)
    path = image.write(tmp_path / "hello-arm64.tar", format="oci-archive")
    assert oci.inspect(path).config["architecture"] == "arm64"
    oci.extract(path, tmp_path / "root")
    done = subprocess.run([qemu, str(tmp_path / "root" / "hello")], capture_output=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, hello.DEFAULT_MESSAGE)
    predicted = {r["image"]: r for r in machine.predicted_ids("arm64")}["hello image (labkit)"]
    assert image.image_id == predicted["here (arm64)"]


def test_a_rootless_engine_is_named_with_what_differs_for_the_lessons():
    from labkit.engine import EngineFacts

    facts = EngineFacts.from_api({"Version": "20.10.24+dfsg1", "Arch": "amd64"},
                                 {"Driver": "overlay2", "SecurityOptions": ["name=seccomp,profile=default",
                                                                           "name=rootless"]})
    assert facts.rootless
    from labkit import host

    (line,) = machine.differences(facts.to_dict(), host.Host("linux", "x86_64"))
    assert line.startswith("rootless engine:")
    for words in ("user namespace", "--privileged gives nothing", "127.0.0.1"):
        assert words in line
