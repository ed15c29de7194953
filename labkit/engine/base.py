"""The base of :class:`labkit.engine.Engine`: connection, facts, timeouts, the docker CLI.

Everything the image, build and container parts share: the errors a docker SDK call
can raise, the engine's own words from them, and the deadline every slow call runs
under (:meth:`EngineBase._long_call`).

Example:
    >>> EngineFacts("", "28.5.2+dfsg4", "1.51", "overlay2", False, True, "", "").tar_era
    'modern'
    >>> facts = EngineFacts.from_api({"Version": "29.1.3", "Arch": "arm64", "Os": "linux"},
    ...                              {"OperatingSystem": "Docker Desktop"})
    >>> facts.major, facts.arch, facts.desktop
    (29, 'arm64', True)
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Callable, TypeVar

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from labkit import host
from labkit.errors import EngineError, LabkitError

_T = TypeVar("_T")
LABEL = "org.labkit.lab"
DEFAULT_URL = "unix:///var/run/docker.sock"
CALL_TIMEOUT = 60                # seconds a quick API call (inspect, create, remove...) may take
OPERATION_TIMEOUT = 600          # seconds a whole load, save, import or build may take
CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"
#: Whose lab images and containers these are on a shared engine: every image a scenario
#: makes is tagged ``<namespace>/<scenario>:<case>``, and every container labkit creates
#: through the API carries ``NAMESPACE_LABEL=<namespace>``. ``lab`` unless
#: ``LABKIT_NAMESPACE`` names a learner's own (a class server sets one per learner).
NAMESPACE_ENV = "LABKIT_NAMESPACE"
DEFAULT_NAMESPACE = "lab"
NAMESPACE_LABEL = "org.labkit.namespace"


def namespace() -> str:
    """The repository prefix of the lab's images (``LABKIT_NAMESPACE`` or ``lab``).

    Raises:
        LabkitError: ``LABKIT_NAMESPACE`` is not a valid repository path component.

    Example:
        >>> namespace()
        'lab'
    """
    name = os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE
    if not re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", name):
        raise LabkitError(f"{NAMESPACE_ENV}={name!r} is not a repository name",
                          hint="use lowercase letters, digits, '.', '_' or '-'")
    return name


@dataclass(frozen=True)
class EngineFacts:
    """What kind of engine answered.

    Attributes:
        base_url: where it answered, e.g. ``unix:///var/run/docker.sock``.
        version: engine version, e.g. ``20.10.24+dfsg1``.
        api_version: its API version, e.g. ``1.41``.
        storage_driver: ``overlay2``, ``overlayfs`` (containerd store), ``vfs``...
        containerd_store: True when images live in containerd's image store.
        buildkit: True when a docker CLI here can build with BuildKit for it.
        os: the engine's OS/architecture, e.g. ``linux/amd64``.
        kernel: the kernel the engine runs on.
        arch: the engine's architecture by its OCI name, ``amd64`` or ``arm64``
            (``/version`` ``Arch``, else ``/info`` ``Architecture``, normalised).
        min_api_version: the oldest API version it accepts (``/version``
            ``MinAPIVersion``; ``1.44`` on Docker 29.0-29.2: older clients are refused).
        operating_system: ``/info`` ``OperatingSystem``, e.g. ``Docker Desktop`` or
            ``Debian GNU/Linux 12 (bookworm)``.
        desktop: True when it is Docker Desktop's engine (a Linux VM on macOS, Windows
            or Linux; it emulates other architectures for ``docker run``).
        platform_name: ``/version`` ``Platform.Name``, e.g. ``Docker Desktop 4.55.0
            (213807)`` or ``Docker Engine - Community`` (empty for Debian's docker.io).
        family: ``docker``, or ``podman`` when ``/version`` ``Components`` has a
            "Podman Engine" (``podman system service``: its Docker-compatible API).
        runtime: the OCI runtime that starts containers, e.g. ``runc 1.1.5+ds1``
            (``/version`` ``Components``; empty when the engine does not say).
        rootless: True when the engine runs as a plain user in a user namespace of its own
            (``/info`` ``SecurityOptions`` holds ``name=rootless``).
    """

    base_url: str
    version: str
    api_version: str
    storage_driver: str
    containerd_store: bool
    buildkit: bool
    os: str
    kernel: str
    arch: str = ""
    min_api_version: str = ""
    operating_system: str = ""
    desktop: bool = False
    platform_name: str = ""
    family: str = "docker"
    runtime: str = ""
    rootless: bool = False

    @classmethod
    def from_api(cls, version: dict, info: dict, *, base_url: str = "",
                 buildkit: bool = False) -> "EngineFacts":
        """The facts from an engine's ``GET /version`` and ``GET /info`` answers
        (docs.docker.com/reference/api/engine/: ``SystemVersion``, ``SystemInfo``).

        Docker Desktop is recognised by what its engine says of itself: ``/info``
        ``OperatingSystem`` "Docker Desktop" or ``Name`` "docker-desktop", or ``/version``
        ``Platform.Name`` starting "Docker Desktop"; Podman by its ``Components`` entry
        "Podman Engine" (its ``Platform.Name`` is only e.g. ``linux/amd64/debian-12``).

        Example:
            >>> EngineFacts.from_api({"Version": "20.10.24+dfsg1", "Arch": "amd64"},
            ...                      {"Driver": "overlay2"}).storage_driver
            'overlay2'
        """
        status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
        platform_name = str((version.get("Platform") or {}).get("Name") or "")
        operating_system = str(info.get("OperatingSystem") or "")
        desktop = (operating_system == "Docker Desktop" or info.get("Name") == "docker-desktop"
                   or platform_name.startswith("Docker Desktop"))
        arch = host.oci_arch(version.get("Arch") or info.get("Architecture") or "")
        components = {str(c.get("Name", "")): str(c.get("Version", ""))
                      for c in version.get("Components") or [] if isinstance(c, dict)}
        return cls(
            base_url=base_url,
            version=version.get("Version", ""),
            api_version=version.get("ApiVersion", ""),
            storage_driver=info.get("Driver", ""),
            containerd_store=status.get("driver-type") == CONTAINERD_SNAPSHOTTER,
            buildkit=buildkit,
            os=f"{version.get('Os', '')}/{version.get('Arch', '')}",
            kernel=version.get("KernelVersion", "") or info.get("KernelVersion", ""),
            arch=arch,
            min_api_version=version.get("MinAPIVersion", ""),
            operating_system=operating_system,
            desktop=desktop,
            platform_name=platform_name,
            family="podman" if "Podman Engine" in components else "docker",
            runtime=_runtime(components),
            rootless=any("name=rootless" in str(o) for o in info.get("SecurityOptions") or []),
        )

    @property
    def product(self) -> str:
        """``Docker`` or ``Podman``: whose engine answered.

        Example:
            >>> EngineFacts("", "4.3.1", "1.41", "overlay", False, False, "", "", family="podman").product
            'Podman'
        """
        return "Podman" if self.family == "podman" else "Docker"

    @property
    def label(self) -> str:
        """The engine as the lessons name it: ``Docker 20.10.24``, ``Podman 4.3.1``.

        Example:
            >>> EngineFacts("", "20.10.24+dfsg1", "1.41", "", False, True, "", "").label
            'Docker 20.10.24'
        """
        return f"{self.product} {re.split(r'[+~-]', self.version, maxsplit=1)[0]}"

    @property
    def major(self) -> int:
        """The Docker major version (``29`` for ``29.1.3``; 0 when unknown).

        Example:
            >>> EngineFacts("", "20.10.24+dfsg1", "1.41", "", False, True, "", "").major
            20
        """
        try:
            return int(self.version.split(".")[0])
        except ValueError:
            return 0

    @property
    def tar_era(self) -> str:
        """The layer-tar header era this engine writes, for ``labkit.oci.Image(era=...)``:
        ``"20.10"`` before Docker 24, ``"modern"`` from 24 on.

        Docker 24.0 stopped putting the file-type bits in a tar header's mode (moby PR
        #44083; every 23.0.x release still has them). Measured: 20.10.5 and 20.10.24
        write ``0100755``, 26.1.5 and 28.5.2 ``0000755``. The ``"20.10"`` era also names
        the owner ``root``/``root`` as Debian's 20.10 builds do (Go's own archive/tar);
        Docker's own 20.10-23.0 binaries leave the names empty (``labkit.oci`` header era
        ``"type-bits"``). 23 to 25 were not measured.

        Podman: 4.3.1 writes the ``"type-bits"`` headers (its containers/storage 1.43
        still sets the type bits; 1.48 dropped them), 5.4.2 the ``"modern"`` ones, byte
        for byte as Docker 26+ (measured); 4.4-4.9 were not measured.

        Example:
            >>> EngineFacts("", "20.10.24+dfsg1", "1.41", "", False, True, "", "").tar_era
            '20.10'
            >>> EngineFacts("", "4.3.1", "1.41", "", False, False, "", "", family="podman").tar_era
            'type-bits'
        """
        if self.family == "podman":
            return "type-bits" if self.major < 5 else "modern"
        return "20.10" if self.major < 24 else "modern"

    def to_dict(self) -> dict:
        """The facts as a JSON-ready dict."""
        return asdict(self)



def _runtime(components: dict[str, str]) -> str:
    """``runc 1.1.5+ds1`` from ``/version`` ``Components``: Docker lists ``runc``
    (its version), Podman ``OCI Runtime (runc)`` (``runc --version``'s text)."""
    for name, text in components.items():
        found = re.fullmatch(r"(?:OCI Runtime \((\w+)\)|(runc|crun))", name)
        if found:
            program = found.group(1) or found.group(2)
            words = text.split()
            number = words[2] if len(words) > 2 and words[1] == "version" else (words[0] if words else "")
            return f"{program} {number}".strip()
    return ""


# What a docker SDK call can raise: the SDK's own errors, and requests' or urllib3's
# (a streamed answer that times out or drops mid-read) -- those are not DockerExceptions.
_SDK_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException,
               urllib3.exceptions.HTTPError)
_TIMEOUTS = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)


def _engine_message(err: Exception) -> str:
    """The engine's own words from a docker SDK error, on one line."""
    text = getattr(err, "explanation", None) or str(err)
    return " ".join(str(text).split())



class EngineBase:
    """What every part of an Engine shares: the SDK client, where it answered, the CLI.

    Args:
        api: a connected ``docker.APIClient``.
        base_url: where it answered.
        docker_cli: docker CLI for BuildKit builds (default: the first that works).
        docker_config: ``DOCKER_CONFIG`` directory for that CLI.
    """

    def __init__(self, api: docker.APIClient, base_url: str, *,
                 docker_cli: str | None = None, docker_config: str | None = None):
        self.api = api
        self.base_url = base_url
        self.docker_cli = docker_cli
        self.docker_config = docker_config
        self._created: set[str] = set()
        self._containers: set[str] = set()

    def __repr__(self) -> str:
        return f"<Engine {self.base_url}>"

    # --- facts --------------------------------------------------------------------------
    @cached_property
    def facts(self) -> EngineFacts:
        """Version, API version, storage, image store and BuildKit (asked once)."""
        try:
            version = self.api.version()
            info = self.api.info()
        except _SDK_ERRORS as err:
            raise EngineError(f"the engine at {self.base_url} did not answer: "
                              f"{_engine_message(err)}") from None
        self._api_answers = (version, info)       # _buildkit_cli reads MinAPIVersion
        facts = EngineFacts.from_api(version, info, base_url=self.base_url)
        if facts.family == "podman":              # one builder, Buildah: no BuildKit
            return facts
        return replace(facts, buildkit=self._buildkit_cli is not None)

    def cli_env(self) -> dict[str, str]:
        """Environment for running the docker CLI at this engine.

        Example:
            >>> env = eng.cli_env()                                   # doctest: +SKIP
            >>> subprocess.run(["docker", "images"], env=env)         # doctest: +SKIP
        """
        env = dict(os.environ, DOCKER_HOST=self.base_url)
        env.pop("DOCKER_CONTEXT", None)
        if self.docker_config:
            env["DOCKER_CONFIG"] = str(self.docker_config)
        return env

    def _cli(self, cli: str, args: list[str], timeout: float = 30,
             extra_env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([cli, *args], env={**self.cli_env(), **(extra_env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def _long_call(self, what: str, call: Callable[[], _T]) -> _T:
        """``call()`` (one slow SDK call: build, load, save, import), for at most
        OPERATION_TIMEOUT seconds in all.

        The SDK's timeout bounds only each socket read -- and for ``save`` not even
        that (docker-py turns it off for raw streams) -- so the call runs in a helper
        thread, abandoned with an ``EngineError`` once the deadline has passed.
        """
        result: list = []

        def target() -> None:
            try:
                result.append(call())
            except BaseException as err:  # re-raised in the caller's thread
                result.append(err)

        worker = threading.Thread(target=target, name=f"labkit: {what}", daemon=True)
        self.api.timeout = OPERATION_TIMEOUT
        try:
            worker.start()
            worker.join(OPERATION_TIMEOUT)
        finally:
            self.api.timeout = CALL_TIMEOUT
        if not result:
            raise EngineError(f"{what} took over {OPERATION_TIMEOUT} s at {self.base_url}",
                              hint="is the engine overloaded? try again, or restart Docker")
        if isinstance(result[0], _TIMEOUTS):
            raise EngineError(f"{what} got no answer from {self.base_url} for "
                              f"{OPERATION_TIMEOUT} s", hint="is the engine overloaded?")
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

