"""The command line's contract for doctor and hello: output, and errors as one
``error:`` line with exit status 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import need
from labkit import hello

NOWHERE = "unix:///nonexistent/labkit-test.sock"


def labkit(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def assert_one_error_line(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for word in words:
        assert word in lines[0]


def test_doctor_json_keys_offline():
    done = labkit("doctor", "--json", DOCKER_HOST=NOWHERE)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"python", "packages", "engine", "compilers", "hello_variants", "mode"} <= set(data)
    assert (data["mode"], data["engine"]) == ("offline", None)
    assert "no Docker engine answered" in data["engine_error"]


@pytest.mark.engine
def test_doctor_live(engine):
    done = labkit("doctor", DOCKER_HOST=engine.base_url)
    assert done.returncode == 0 and done.stdout.startswith("mode")
    assert f"Docker {engine.facts.version}" in done.stdout
    data = json.loads(labkit("doctor", "--json", DOCKER_HOST=engine.base_url).stdout)
    assert data["engine"]["api_version"] == engine.facts.api_version
    assert set(data["engine"]) >= {"version", "api_version", "storage_driver",
                                   "containerd_store", "buildkit"}


@pytest.mark.parametrize("variant", hello.VARIANTS)
def test_hello_writes_a_binary_that_prints_the_message(tmp_path, variant):
    reason = hello.available()[variant]
    if reason:
        need("tools", reason)
    out = tmp_path / "hello"
    done = labkit("hello", "--variant", variant, "--message", "hi from the CLI\n", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{out}: x86_64 ")
    assert subprocess.run([str(out)], capture_output=True).stdout == b"hi from the CLI\n"


def test_hello_message_file_and_arch(tmp_path):
    (tmp_path / "msg").write_bytes(b"\x00bytes\xff\n")
    out = tmp_path / "hello"
    done = labkit("hello", "--message-file", str(tmp_path / "msg"), "--arch", "aarch64",
                  "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "aarch64 static ELF" in done.stdout and "(message 8, overhead 156)" in done.stdout
    assert out.read_bytes() == hello.tiny_elf(b"\x00bytes\xff\n", "aarch64")


def test_hello_missing_compiler_is_one_error_line(tmp_path):
    done = labkit("hello", "--variant", "musl-static", "-o", str(tmp_path / "h"),
                  PATH=str(tmp_path))
    assert_one_error_line(done, "musl-gcc", "musl-tools")


def test_hello_unreadable_message_file(tmp_path):
    done = labkit("hello", "--message-file", str(tmp_path / "nope"), "-o", str(tmp_path / "h"))
    assert_one_error_line(done, "cannot read")


def test_hello_unwritable_output(tmp_path):
    done = labkit("hello", "-o", str(tmp_path / "no-such-dir" / "hello"))
    assert_one_error_line(done, "cannot write", "No such file or directory")


@pytest.mark.parametrize("adds, words", [
    (["{f}:/"], ["names no file in the image"]),
    (["{f}:/a", "{f}:a"], ["gives /a twice"]),
    (["{f}:/a", "{f}:/a/b"], ["puts /a/b inside the file /a"]),
])
def test_build_refuses_impossible_adds(tmp_path, adds, words):
    (tmp_path / "f").write_bytes(b"x")
    args = [arg for add in adds for arg in ("--add", add.format(f=tmp_path / "f"))]
    done = labkit("build", *args, "-o", str(tmp_path / "out.tar"))
    assert_one_error_line(done, *words)
    assert not (tmp_path / "out.tar").exists()


def test_an_unwritable_path_is_one_error_line(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    done = labkit("build", "-o", str(tmp_path / "file" / "out.tar"))   # under a file
    assert_one_error_line(done, str(tmp_path / "file"))


def test_doctor_names_what_differs_on_a_simulated_mac():
    done = labkit("doctor", "--json", DOCKER_HOST=NOWHERE, LABKIT_HOST_PLATFORM="darwin/arm64")
    data = json.loads(done.stdout)
    assert data["host"] == {"platform": "darwin", "arch": "aarch64", "simulated": True}
    assert data["target"]["oci_arch"] == "arm64" and data["target"]["variants"]["tiny"] is None
    assert [d.split(":")[0] for d in data["differences"]] == ["arm64 host, no engine", "macOS host"]
    text = labkit("doctor", DOCKER_HOST=NOWHERE, LABKIT_HOST_PLATFORM="darwin/arm64").stdout
    assert text.count("\ndiffers ") == 2 and "\nbuild for " in text


def test_hello_builds_for_this_machine_unless_told(tmp_path):
    done = labkit("hello", "-o", str(tmp_path / "hello"))
    assert hello.describe(tmp_path / "hello").arch == hello.default_arch(), done.stderr
    labkit("hello", "--arch", "aarch64", "-o", str(tmp_path / "arm"))
    assert hello.describe(tmp_path / "arm").arch == "aarch64"
