"""The host the notebook's Python runs on, and the two ways of naming an architecture.

The lab builds for the *engine*, which is always Linux; the host is where the notebook
runs: Linux, macOS (``darwin``) or Windows (``win32``). Only a Linux host can run the
lab's ELF programs directly, compile them with its own gcc, or lend its ``/bin/busybox``.

``LABKIT_HOST_PLATFORM`` pretends to be another host, so the lab can be checked "as on
macOS" on a Linux machine: ``darwin``, ``win32`` or ``linux``, optionally with an
architecture (``darwin/arm64``). Nothing else changes: the engine is still whatever
answers at ``DOCKER_HOST``.

Architecture names: the ELF/``uname -m`` name (``x86_64``, ``aarch64``: what
``labkit.hello`` builds) and the OCI/Go name (``amd64``, ``arm64``: an image config's
``architecture``, the engine's ``/version`` ``Arch``).

Example:
    >>> oci_arch("x86_64"), oci_arch("aarch64"), machine_arch("arm64")
    ('amd64', 'arm64', 'aarch64')
    >>> Host("darwin", "aarch64").summary()
    'macOS on arm64'
"""
from __future__ import annotations

import os
import platform as _platform
import sys
from dataclasses import asdict, dataclass

ENV = "LABKIT_HOST_PLATFORM"
PLATFORMS = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}
_TO_MACHINE = {"amd64": "x86_64", "x86_64": "x86_64", "x64": "x86_64", "x86-64": "x86_64",
               "arm64": "aarch64", "aarch64": "aarch64", "arm64/v8": "aarch64", "armv8": "aarch64"}
_TO_OCI = {"x86_64": "amd64", "aarch64": "arm64"}


def machine_arch(name: str) -> str:
    """The ELF/``uname -m`` name of an architecture (``arm64`` -> ``aarch64``); unknown
    names come back lower-cased.

    Example:
        >>> machine_arch("AMD64")
        'x86_64'
    """
    name = (name or "").lower()
    return _TO_MACHINE.get(name, name)


def oci_arch(name: str) -> str:
    """The OCI/Go name of an architecture (``x86_64`` -> ``amd64``), as image configs
    and the engine's ``/version`` ``Arch`` spell it.

    Example:
        >>> oci_arch("amd64")
        'amd64'
    """
    machine = machine_arch(name)
    return _TO_OCI.get(machine, machine)


@dataclass(frozen=True)
class Host:
    """Where the notebook's Python runs.

    Attributes:
        platform: ``linux``, ``darwin`` or ``win32`` (``sys.platform``'s names).
        arch: ``x86_64``, ``aarch64``, ... (the ELF name).
        simulated: True when ``LABKIT_HOST_PLATFORM`` set it.
    """

    platform: str
    arch: str
    simulated: bool = False

    @property
    def name(self) -> str:
        """``Linux``, ``macOS`` or ``Windows``."""
        return PLATFORMS.get(self.platform, self.platform)

    @property
    def linux(self) -> bool:
        """True on a Linux host (the only kind that runs Linux programs directly)."""
        return self.platform == "linux"

    def can_run(self, arch: str) -> bool:
        """True when a static Linux ELF program for ``arch`` runs here directly.

        Example:
            >>> Host("linux", "x86_64").can_run("amd64"), Host("darwin", "x86_64").can_run("x86_64")
            (True, False)
        """
        return self.linux and machine_arch(arch) == self.arch

    def why_not_run(self, arch: str) -> str | None:
        """Why a Linux ``arch`` program cannot run directly here, or None when it can.

        Example:
            >>> Host("win32", "x86_64").why_not_run("x86_64")
            'Windows runs Windows programs, not Linux ones: only a Linux kernel (the engine) runs it'
        """
        if not self.linux:
            return (f"{self.name} runs {self.name} programs, not Linux ones: only a Linux "
                    "kernel (the engine) runs it")
        if machine_arch(arch) != self.arch:
            return f"this {self.arch} machine does not run {machine_arch(arch)} programs"
        return None

    def summary(self) -> str:
        """``Linux on amd64``, ``macOS on arm64`` (simulated ones say so)."""
        text = f"{self.name} on {oci_arch(self.arch)}"
        return text + f" (simulated by {ENV})" if self.simulated else text

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)


def current() -> Host:
    """This host, or the one ``LABKIT_HOST_PLATFORM`` names.

    Example:
        >>> current().platform in PLATFORMS
        True
    """
    real_platform = "win32" if sys.platform.startswith("win") else (
        "darwin" if sys.platform == "darwin" else "linux")
    real_arch = machine_arch(_platform.machine())
    wanted = os.environ.get(ENV, "").strip().lower()
    if not wanted:
        return Host(real_platform, real_arch)
    name, _, arch = wanted.partition("/")
    name = {"macos": "darwin", "mac": "darwin", "windows": "win32"}.get(name, name)
    if name not in PLATFORMS:
        name = real_platform
    return Host(name, machine_arch(arch) if arch else real_arch, simulated=True)
