"""labkit.host: the notebook's host, simulated with LABKIT_HOST_PLATFORM, and arch names."""
from __future__ import annotations

import platform
import sys

import pytest

from labkit import host


def test_the_real_host_when_not_simulated(monkeypatch):
    monkeypatch.delenv(host.ENV, raising=False)
    here = host.current()
    assert not here.simulated and here.platform == ("linux" if sys.platform.startswith("linux") else here.platform)
    assert here.arch == host.machine_arch(platform.machine())


@pytest.mark.parametrize("value, platform_, arch", [
    ("darwin", "darwin", None), ("win32", "win32", None), ("macos/arm64", "darwin", "aarch64"),
    ("windows/amd64", "win32", "x86_64"), ("linux/aarch64", "linux", "aarch64")])
def test_simulated_hosts(monkeypatch, value, platform_, arch):
    monkeypatch.setenv(host.ENV, value)
    here = host.current()
    assert (here.platform, here.simulated) == (platform_, True)
    assert here.arch == (arch or host.machine_arch(platform.machine()))
    assert "simulated by LABKIT_HOST_PLATFORM" in here.summary()


def test_only_linux_runs_linux_programs_of_its_own_architecture():
    assert host.Host("linux", "aarch64").can_run("arm64")
    assert not host.Host("linux", "x86_64").can_run("aarch64")
    for name in ("darwin", "win32"):
        assert not host.Host(name, "x86_64").can_run("x86_64")
        assert "not Linux ones" in host.Host(name, "x86_64").why_not_run("x86_64")


@pytest.mark.parametrize("name, machine, oci", [
    ("x86_64", "x86_64", "amd64"), ("amd64", "x86_64", "amd64"), ("AMD64", "x86_64", "amd64"),
    ("aarch64", "aarch64", "arm64"), ("arm64", "aarch64", "arm64"), ("s390x", "s390x", "s390x")])
def test_architecture_names(name, machine, oci):
    assert (host.machine_arch(name), host.oci_arch(name)) == (machine, oci)
