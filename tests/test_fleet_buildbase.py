"""labkit.fleet.buildbase: the lab's compiler base, made with mmdebstrap from the machine's
apt sources, cached, imported; and on the fleet, the lab's reference answer to exercise 2.3
building with both builders on every engine."""
from __future__ import annotations

import os

import pytest

from conftest import reference_dockerfile
from labkit import hello
from labkit.errors import LabkitError, MissingTool
from labkit.fleet import buildbase

REFERENCE = reference_dockerfile()      # the published answer to exercise 2.3


def test_the_tag_is_the_labs_own_and_the_template_names_it():
    assert buildbase.TAG == hello.BUILD_BASE == "labkit/build-base:bookworm"
    assert hello.MULTI_STAGE_DOCKERFILE.startswith(f"FROM {buildbase.TAG} AS build\n")
    assert not buildbase.TAG.startswith(("debian", "library/"))


def test_the_cache_and_the_source_line(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    assert buildbase.cache_file() == tmp_path / "build-base" / "debian-bookworm-gcc-libc6-dev-musl-tools.tar"
    assert buildbase.source_line("http://m/debian", None) == "deb [trusted=yes] http://m/debian bookworm main"


def test_a_cached_tarball_is_not_made_again(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    cached = buildbase.cache_file()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    monkeypatch.setattr(buildbase.shutil, "which", lambda name: None)     # would fail if it tried
    assert buildbase.tarball() == cached
    with pytest.raises(MissingTool, match="mmdebstrap is not installed"):
        buildbase.tarball(rebuild=True)


class _Engine:
    """Enough of an Engine for present(): what inspect answers."""

    def __init__(self, answer):
        self.answer = answer

    def inspect(self, ref):
        if self.answer is None:
            raise LabkitError(f"no such image: {ref}")
        return self.answer


def test_present_wants_the_base_made_of_todays_packages():
    label = {buildbase.LABEL: buildbase.CHANGES[2].split("=", 1)[1]}
    assert buildbase.present(_Engine({"Id": "sha256:1", "Config": {"Labels": label}})) == "sha256:1"
    assert buildbase.present(_Engine({"Id": "sha256:1", "Config": {"Labels": {buildbase.LABEL: "old"}}})) is None
    assert buildbase.present(_Engine({"Id": "sha256:1", "Config": {}})) is None
    assert buildbase.present(_Engine(None)) is None


def _builds_both_ways(eng, tmp_path) -> list[str]:
    """Build REFERENCE with both builders on ``eng`` and run each: what went wrong."""
    from labkit.checks import building
    network = None if building.has_bridge(eng) else "none"
    context = tmp_path / eng.facts.version
    hello.write_context(context, message=b"built on the fleet\n", dockerfile=REFERENCE)
    wrong = []
    for builder in ("legacy", "buildkit"):
        tag = f"lab/fleet-build-base:{builder}"
        transcript: list = []
        try:
            eng.build(context, tag, builder=builder, network=network, transcript=transcript)
            result = eng.run(tag)
            if result.stdout != b"built on the fleet\n":
                wrong.append(f"{eng.facts.version} {builder}: ran {result}")
        except LabkitError as err:
            wrong.append(f"{eng.facts.version} {builder}: {err}")
        finally:
            eng.remove(tag)
            if builder == "legacy" and transcript:     # its build stage stays behind, dangling
                building._tidy(eng, transcript[-1].output)
    return wrong


def _dangling_stages(eng) -> set[str]:
    """Untagged images that carry the build base's label: build stages left behind."""
    found = eng.api.images(filters={"dangling": True, "label": buildbase.LABEL})
    return {image["Id"] for image in found}


@pytest.mark.engine
def test_the_reference_answer_builds_with_both_builders(engine, tmp_path):
    buildbase.ensure(engine)
    before = _dangling_stages(engine)
    assert _builds_both_ways(engine, tmp_path) == []
    assert _dangling_stages(engine) <= before


@pytest.mark.fleet
def test_the_reference_answer_builds_on_every_fleet_engine(fleet, tmp_path):
    from labkit import fleet as labfleet
    wrong = []
    for name in fleet:
        eng = labfleet.engine(name)
        buildbase.ensure(eng)
        before = _dangling_stages(eng)
        wrong += _builds_both_ways(eng, tmp_path)
        if not _dangling_stages(eng) <= before:
            wrong.append(f"{name}: a build stage was left behind")
    assert wrong == []


@pytest.mark.tools
def test_mmdebstrap_makes_a_real_root_filesystem(tmp_path):
    """The cached tarball (made by `labkit build-base` in CI) holds the compilers."""
    import tarfile
    path = buildbase.cache_file()
    if not path.is_file():
        from conftest import need
        need("tools", f"no build base tarball at {path}: run `labkit build-base`")
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    for wanted in ("./usr/bin/gcc", "./usr/bin/musl-gcc", "./usr/lib/x86_64-linux-gnu/libc.a"):
        assert wanted in names or wanted.replace("x86_64", "aarch64") in names or os.uname().machine not in wanted


def test_the_command_line_says_one_error_line_without_an_engine(tmp_path):
    import subprocess
    import sys
    cached = tmp_path / "build-base" / buildbase.cache_file().name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not made here")
    env = dict(os.environ, DOCKER_HOST="unix:///nonexistent/labkit.sock", LABKIT_CACHE=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "labkit", "build-base"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error: no Docker engine answered")
    assert len(done.stderr.splitlines()) == 1
