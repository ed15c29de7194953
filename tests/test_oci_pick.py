"""labkit.oci.pick / plan: several images in one file are never picked silently; between
platforms, the one present, this machine's first, with the absent ones listed.

Recorded from real engines (tests/data/README.md): a Docker 26.1 ``docker save`` of two
images, and Docker 28.5 containerd-store saves of a two-platform image, with both
platforms' blobs and with amd64's only. Live: a Docker 20.10 ``docker save a b``.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from labkit import oci
from labkit.errors import BadImage
from labkit.oci import pick
from labkit.oci.digest import go_json

DATA = Path(__file__).parent / "data"
TWO_IMAGES = DATA / "save-26.1-two-images.tar"
TWO_PLATFORMS = DATA / "save-28.5-containerd-two-platforms.tar"
AMD64_ONLY = DATA / "save-28.5-containerd-amd64-only.tar"


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_two_images_are_listed_not_picked():
    with pytest.raises(BadImage, match="holds 2 images: labkit-fixture/pick-a:1; "
                                       "labkit-fixture/pick-b:2") as caught:
        oci.inspect(TWO_IMAGES)
    assert f"labkit inspect {TWO_IMAGES.name}:labkit-fixture/pick-a:1" in str(caught.value)


@pytest.mark.parametrize("ref", ["labkit-fixture/pick-b:2", "docker.io/labkit-fixture/pick-b:2",
                                 "014c9ea8cac2", "sha256:014c9ea8cac23ef759c3f333d2f8dd423ed96e62119b1bbfb338b336a8709ccc"])
def test_a_reference_picks_one(ref):
    info = oci.inspect(TWO_IMAGES, ref=ref)
    assert info.files == {"b": 2} and info.repo_tags == ["labkit-fixture/pick-b:2"]


def test_path_colon_ref_and_dash_dash_ref_on_the_command_line(tmp_path):
    done = _cli("inspect", f"{TWO_IMAGES}:labkit-fixture/pick-a:1", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"] == {"a": 2}
    done = _cli("extract", TWO_IMAGES, tmp_path / "root", "--ref", "labkit-fixture/pick-b:2")
    assert done.returncode == 0 and (tmp_path / "root" / "b").read_bytes() == b"B\n"
    done = _cli("inspect", TWO_IMAGES)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "holds 2 images" in done.stderr
    done = _cli("inspect", TWO_IMAGES, "--ref", "nope:1")
    assert done.returncode == 2 and "holds no image 'nope:1'; it holds: labkit-fixture/pick-a:1" in done.stderr


def test_a_reference_that_names_nothing_lists_what_is_there():
    with pytest.raises(BadImage, match="holds no image 'busybox'; it holds: labkit-fixture/multi:1"):
        oci.inspect(AMD64_ONLY, ref="busybox")
    assert oci.inspect(AMD64_ONLY, ref="docker.io/labkit-fixture/multi:1").files == {"arch": 6}
    with pytest.raises(BadImage, match="no image 'labkit-fixture/multi'"):   # that is :latest
        oci.inspect(AMD64_ONLY, ref="labkit-fixture/multi")


def _two_image_archive(tmp_path: Path, same: bool = False) -> Path:
    """One docker-archive (the 1.10-24 layout) holding two images, as ``docker save a b``."""
    a = oci.Image([[oci.Entry.file("a", b"A\n")]])
    b = a if same else oci.Image([[oci.Entry.file("b", b"B\n")]])
    folder = tmp_path / "two"
    manifests = []
    for image, tag in ((a, "x/a:1"), (b, "x/b:2")):
        with tarfile.open(image.write(tmp_path / f"{tag[2]}.tar", tag=tag)) as tf:
            manifests += json.load(tf.extractfile("manifest.json"))
            for member in tf.getmembers():   # labkit's own files (no extractall: filter= is 3.11.4+)
                if member.isfile():
                    (folder / member.name).parent.mkdir(parents=True, exist_ok=True)
                    (folder / member.name).write_bytes(tf.extractfile(member).read())
    (folder / "manifest.json").write_bytes(go_json(manifests))
    out = tmp_path / "two.tar"
    with tarfile.open(out, "w") as tf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            tf.add(path, path.relative_to(folder).as_posix())
    return out


def test_a_docker_archive_of_two_images(tmp_path):
    archive = _two_image_archive(tmp_path)
    with pytest.raises(BadImage, match="holds 2 images: x/a:1; x/b:2"):
        oci.inspect(archive)
    assert oci.inspect(archive, ref="x/b:2").files == {"b": 2}


def test_one_image_under_two_tags_is_one_image(tmp_path):
    info = oci.inspect(_two_image_archive(tmp_path, same=True))
    assert info.repo_tags == ["x/a:1", "x/b:2"] and info.files == {"a": 2}


def test_the_platform_present_is_read_and_the_absent_listed(monkeypatch):
    for machine in ("x86_64", "aarch64"):
        monkeypatch.setattr(pick._platform, "machine", lambda m=machine: m)
        info = oci.inspect(AMD64_ONLY)
        assert (info.platform, info.absent_platforms) == ("linux/amd64", ["linux/arm64"])
        assert info.files == {"arch": 6}
        assert "not in this file: linux/arm64" in info.text()


@pytest.mark.parametrize("machine, arch", [("x86_64", "amd64"), ("aarch64", "arm64")])
def test_this_machines_architecture_comes_first(monkeypatch, tmp_path, machine, arch):
    monkeypatch.setattr(pick._platform, "machine", lambda: machine)
    info = oci.inspect(TWO_PLATFORMS)
    assert info.platform == f"linux/{arch}" and info.absent_platforms == []
    written = oci.extract(TWO_PLATFORMS, tmp_path / "root")
    assert (tmp_path / "root" / "arch").read_bytes() == f"{arch}\n".encode() and len(written) == 1


def test_attestations_are_not_platforms():
    entries = [{"platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
               {"platform": {"os": "linux", "architecture": "s390x"}},
               {"platform": {"os": "linux", "architecture": "amd64"}}]
    assert [pick.platform_of(d) for d in pick.platform_order(entries, "amd64")] == \
        ["linux/amd64", "linux/s390x"]


@pytest.mark.engine
def test_docker_save_of_two_images_on_the_engine(engine, tmp_path):
    tags = ["labkit-test/pick-a:1", "labkit-test/pick-b:2"]
    for tag, name in zip(tags, "ab"):
        engine.load(oci.Image([[oci.Entry.file(name, name.encode())]]).write(tmp_path / f"{name}.tar", tag=tag))
    saved = engine.save(tags, tmp_path / "two.tar")
    for tag in tags:
        engine.remove(tag)
    with pytest.raises(BadImage, match="holds 2 images"):
        oci.inspect(saved)
    assert oci.inspect(saved, ref="labkit-test/pick-b:2").files == {"b": 1}
    assert oci.inspect(f"{saved}:labkit-test/pick-a:1").files == {"a": 1}
