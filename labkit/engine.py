"""One Docker engine, through the ``docker`` SDK (and the docker CLI for BuildKit).

:func:`connect` finds the engine at ``DOCKER_HOST`` (or the default socket) and
returns an :class:`Engine`; :func:`try_connect` returns None instead of raising, so
a notebook can fall back to offline mode. Everything an Engine creates is either
labelled ``org.labkit.lab`` or remembered, and :meth:`Engine.cleanup` removes it.
No call waits forever: quick ones give up after ``CALL_TIMEOUT`` seconds without an
answer, and a whole build, load, save or import after ``OPERATION_TIMEOUT``.

Example:
    >>> from labkit import engine
    >>> eng = engine.try_connect()
    >>> eng is None or eng.facts.version != ""
    True
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, TypeVar

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from labkit.errors import EngineError, EngineUnavailable

_T = TypeVar("_T")
LABEL = "org.labkit.lab"
DEFAULT_URL = "unix:///var/run/docker.sock"
CALL_TIMEOUT = 60                # seconds a quick API call (inspect, create, remove...) may take
OPERATION_TIMEOUT = 600          # seconds a whole load, save, import or build may take
CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"
# Security options of every lab container (see Engine.run).
RUN_LIMITS = dict(network_mode="none", read_only=True, cap_drop=["ALL"],
                  security_opt=["no-new-privileges"], mem_limit="64m", pids_limit=64)


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
    """

    base_url: str
    version: str
    api_version: str
    storage_driver: str
    containerd_store: bool
    buildkit: bool
    os: str
    kernel: str

    @property
    def tar_era(self) -> str:
        """The layer-tar header era this engine writes, for ``labkit.oci.Image(era=...)``:
        ``"20.10"`` before Docker 23 (measured on 20.10.5 and 20.10.24), ``"modern"``
        from then on (measured on 26.1.5 and 28.5.2; 23 to 25 were not measured).

        Example:
            >>> EngineFacts("", "20.10.24+dfsg1", "1.41", "", False, True, "", "").tar_era
            '20.10'
        """
        return "20.10" if int(self.version.split(".")[0]) < 23 else "modern"

    def to_dict(self) -> dict:
        """The facts as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class RunResult:
    """How a container run ended.

    Attributes:
        exit_code: the process's exit status; None when it never started or timed out.
        stdout: bytes written to standard output.
        stderr: bytes written to standard error.
        error: the engine's error text when the container could not start or timed
            out (e.g. a dynamic binary whose interpreter is missing), else None.
    """

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the process ran and exited 0."""
        return self.error is None and self.exit_code == 0


def _default_url() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_URL


def connect(base_url: str | None = None, timeout: float = 10, *,
            docker_cli: str | None = None, docker_config: str | None = None) -> Engine:
    """The engine at ``base_url`` (default: ``DOCKER_HOST`` or the default socket).

    Args:
        base_url: ``unix:///path.sock`` or ``tcp://host:port``.
        timeout: seconds to wait for the engine's first answer.
        docker_cli: the docker CLI to use for BuildKit builds (default: find one).
        docker_config: a ``DOCKER_CONFIG`` directory for that CLI (its buildx plugin).

    Raises:
        EngineUnavailable: nothing usable answered there.

    Example:
        >>> connect("unix:///nonexistent.sock")
        Traceback (most recent call last):
        labkit.errors.EngineUnavailable: no Docker engine answered at unix:///nonexistent.sock; start Docker, or run the lab offline
    """
    url = base_url or _default_url()
    try:
        tls = docker.utils.kwargs_from_env().get("tls", False) if base_url is None else False
        api = docker.APIClient(base_url=url, version="auto", timeout=timeout, tls=tls)
    except docker.errors.DockerException as err:
        if "Permission denied" in str(err):
            raise EngineUnavailable(f"no permission to use the Docker engine at {url}",
                                    hint="add your user to the docker group, or run the lab "
                                         "offline") from None
        raise EngineUnavailable(f"no Docker engine answered at {url}",
                                hint="start Docker, or run the lab offline") from None
    api.timeout = CALL_TIMEOUT
    return Engine(api, url, docker_cli=docker_cli, docker_config=docker_config)


def try_connect(base_url: str | None = None, timeout: float = 3, **kwargs) -> Engine | None:
    """Like :func:`connect`, but None when no engine answers (the offline mode).

    Example:
        >>> try_connect("unix:///nonexistent.sock") is None
        True
    """
    try:
        return connect(base_url, timeout, **kwargs)
    except EngineUnavailable:
        return None


# What a docker SDK call can raise: the SDK's own errors, and requests' or urllib3's
# (a streamed answer that times out or drops mid-read) -- those are not DockerExceptions.
_SDK_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException,
               urllib3.exceptions.HTTPError)
_TIMEOUTS = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)


def _engine_message(err: Exception) -> str:
    """The engine's own words from a docker SDK error, on one line."""
    text = getattr(err, "explanation", None) or str(err)
    return " ".join(str(text).split())


class Engine:
    """One Docker engine. Create it with :func:`connect`.

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
        driver_status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
        return EngineFacts(
            base_url=self.base_url,
            version=version.get("Version", ""),
            api_version=version.get("ApiVersion", ""),
            storage_driver=info.get("Driver", ""),
            containerd_store=driver_status.get("driver-type") == CONTAINERD_SNAPSHOTTER,
            buildkit=self._buildkit_cli is not None,
            os=f"{version.get('Os', '')}/{version.get('Arch', '')}",
            kernel=version.get("KernelVersion", ""),
        )

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

    @cached_property
    def _buildkit_cli(self) -> tuple[str, str] | None:
        """(docker CLI path, "buildx" or "builtin") that builds with BuildKit here, or None.

        Current CLIs build with BuildKit only through the buildx plugin; CLIs before
        23.0 (Debian bookworm's 20.10) still have it built in (``DOCKER_BUILDKIT=1``).
        """
        candidates = [self.docker_cli] if self.docker_cli else [
            shutil.which("docker"), "/usr/bin/docker", "/usr/local/bin/docker"]
        seen = set()
        for cli in candidates:
            if not cli or cli in seen or not Path(cli).is_file():
                continue
            seen.add(cli)
            try:
                if self._cli(cli, ["buildx", "version"]).returncode == 0:
                    return cli, "buildx"
                banner = self._cli(cli, ["--version"]).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            major = re.search(r"version (\d+)\.", banner)
            if major and int(major.group(1)) < 23:
                return cli, "builtin"
        return None

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

    # --- images -------------------------------------------------------------------------
    def build(self, context: str | Path, tag: str, builder: str = "legacy",
              dockerfile: str = "Dockerfile", *, label: bool = True, cache: bool = False) -> str:
        """Build ``context`` with the legacy builder (SDK) or BuildKit (docker CLI).

        Args:
            context: the build context directory.
            tag: the image reference to give the result.
            builder: ``"legacy"`` or ``"buildkit"``.
            dockerfile: the Dockerfile's name inside ``context``.
            label: add the ``org.labkit.lab`` label (changes the config and so the
                image ID; pass False to build exactly what ``docker build`` would).
                Either way the image is remembered for :meth:`cleanup`.
            cache: let the builder reuse earlier steps. Off by default: a cached COPY
                step gives back the layer of an earlier build (other file times).

        Returns:
            The image ID the builder reports (``sha256:...``).

        Raises:
            EngineError: the build failed (the builder's last error line), or no
                docker CLI here can use BuildKit with this engine.

        Example:
            >>> eng.build("ctx", "lab/hello:legacy")                  # doctest: +SKIP
            'sha256:4f2f...'
        """
        if builder not in ("legacy", "buildkit"):
            raise EngineError(f"unknown builder {builder!r}", hint='use "legacy" or "buildkit"')
        labels = {LABEL: "1"} if label else None
        image_id = (self._build_legacy(context, tag, dockerfile, labels, cache)
                    if builder == "legacy"
                    else self._build_buildkit(context, tag, dockerfile, labels, cache))
        self._created.add(tag)
        return image_id

    def _build_legacy(self, context, tag, dockerfile, labels, cache) -> str:
        what = f"legacy build of {tag}"

        def build() -> tuple[str | None, str]:
            image_id, last = None, ""
            for chunk in self.api.build(path=str(context), tag=tag, dockerfile=dockerfile,
                                        labels=labels, rm=True, forcerm=True, decode=True,
                                        network_mode="none", nocache=not cache):
                if "error" in chunk:
                    raise EngineError(f"{what} failed: {' '.join(chunk['error'].split())}")
                image_id = (chunk.get("aux") or {}).get("ID", image_id)
                last = chunk.get("stream", "").strip() or last
            return image_id, last

        try:
            image_id, last = self._long_call(what, build)
        except _SDK_ERRORS as err:
            raise EngineError(f"{what} failed: {_engine_message(err)}") from None
        if image_id is None:
            raise EngineError(f"legacy build of {tag} gave no image ID (last output: {last})")
        return image_id

    def _build_buildkit(self, context, tag, dockerfile, labels, cache) -> str:
        found = self._buildkit_cli
        if found is None:
            raise EngineError(f"no docker CLI here builds with BuildKit for {self.base_url}",
                              hint="install the buildx plugin (Debian docker-buildx), or "
                                   "pass docker_cli= a 20.10 CLI")
        cli, how = found
        with tempfile.TemporaryDirectory(prefix="labkit-build-") as tmp:
            iidfile = Path(tmp) / "iid"
            args = ["build", "--progress=plain", "--iidfile", str(iidfile), "-t", tag,
                    "-f", str(Path(context) / dockerfile)]
            for key, value in (labels or {}).items():
                args += ["--label", f"{key}={value}"]
            if not cache:
                args.append("--no-cache")
            if how == "buildx":
                args = ["buildx", *args, "--load"]
            try:
                done = self._cli(cli, [*args, str(context)], timeout=OPERATION_TIMEOUT,
                                 extra_env={"DOCKER_BUILDKIT": "1"})
            except subprocess.TimeoutExpired:
                raise EngineError(f"BuildKit build of {tag} took over {OPERATION_TIMEOUT} s") from None
            if done.returncode != 0 or not iidfile.exists():
                lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
                error = next((ln for ln in reversed(lines) if "ERROR" in ln or "error" in ln),
                             lines[-1] if lines else f"exit status {done.returncode}")
                raise EngineError(f"BuildKit build of {tag} failed: {' '.join(error.split())}")
            return iidfile.read_text().strip()

    def load(self, path: str | Path) -> list[str]:
        """``docker load`` a tarball; returns the refs (or IDs) the engine reports.

        Raises:
            EngineError: the engine refused the tarball (its own message).

        Example:
            >>> eng.load("hello.tar")                                  # doctest: +SKIP
            ['lab/hello:latest']
        """
        loaded: list[str] = []

        def load() -> None:
            with open(path, "rb") as tarball:
                for chunk in self.api.load_image(tarball, quiet=True):
                    if "error" in chunk:
                        raise EngineError(f"the engine refused {Path(path).name}: "
                                          f"{' '.join(chunk['error'].split())}")
                    stream = chunk.get("stream", "")
                    match = re.match(r"Loaded image(?: ID)?: (\S+)", stream.strip())
                    if match:
                        loaded.append(match.group(1))

        try:
            self._long_call(f"loading {Path(path).name}", load)
        except requests.exceptions.JSONDecodeError:
            pass  # a pre-1.10 (docker-v1) tarball loads with an empty answer body
        except _SDK_ERRORS as err:  # before OSError: requests' errors are OSErrors too
            raise EngineError(f"the engine refused {Path(path).name}: "
                              f"{_engine_message(err)}") from None
        except OSError as err:
            raise EngineError(f"cannot read {path}: {err.strerror}") from None
        self._created.update(loaded)
        return loaded

    def import_tar(self, path: str | Path, tag: str) -> str:
        """``docker import`` a root-filesystem tarball as a one-layer image; returns its ID."""
        try:
            out = self._long_call(f"importing {Path(path).name}",
                                  lambda: self.api.import_image_from_file(str(path), repository=tag))
        except _SDK_ERRORS as err:
            raise EngineError(f"the engine refused to import {Path(path).name}: "
                              f"{_engine_message(err)}") from None
        match = re.search(r"sha256:[0-9a-f]{64}", out if isinstance(out, str) else str(out))
        if not match:
            raise EngineError(f"import of {Path(path).name} failed: {' '.join(str(out).split())}")
        self._created.add(tag)
        return match.group(0)

    def save(self, image: str, path: str | Path) -> Path:
        """``docker save`` ``image`` into the tarball ``path`` (streamed)."""
        path = Path(path)

        def save() -> None:
            with path.open("wb") as out:
                for chunk in self.api.get_image(image):
                    out.write(chunk)

        try:
            self._long_call(f"saving {image}", save)
        except _SDK_ERRORS as err:  # before OSError: requests' errors are OSErrors too
            raise EngineError(f"cannot save {image}: {_engine_message(err)}") from None
        except OSError as err:
            raise EngineError(f"cannot write {path}: {err.strerror}") from None
        return path

    def inspect(self, image: str) -> dict:
        """``docker image inspect`` as a dict."""
        try:
            return self.api.inspect_image(image)
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot inspect {image}: {_engine_message(err)}") from None

    def history(self, image: str) -> list[dict]:
        """``docker history`` rows, newest first."""
        try:
            return self.api.history(image)
        except _SDK_ERRORS as err:
            raise EngineError(f"no history for {image}: {_engine_message(err)}") from None

    def listed_size(self, image: str) -> int:
        """The size ``docker images`` shows for ``image`` (bytes; differs by image store)."""
        image_id = self.inspect(image)["Id"]
        try:
            rows = self.api.images(all=True)
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot list images: {_engine_message(err)}") from None
        for row in rows:
            if row["Id"] == image_id:
                return int(row["Size"])
        raise EngineError(f"{image} is not in the engine's image list")

    def remove(self, image: str) -> None:
        """Remove ``image`` (forced; untagged parents go too). Missing is fine."""
        try:
            self.api.remove_image(image, force=True)
        except docker.errors.NotFound:
            pass
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot remove {image}: {_engine_message(err)}") from None
        self._created.discard(image)

    def cleanup(self, everything: bool = False) -> int:
        """Remove what this Engine created (images it built, loaded or imported, and
        containers left behind); returns how many.

        Other learners' images on a shared engine are left alone. ``everything=True``
        also removes every container and image labelled ``org.labkit.lab`` by anyone.
        """
        removed = 0
        try:
            containers = [c["Id"] for c in self.api.containers(all=True, filters={"label": LABEL})]
            labelled = ([row["Id"] for row in self.api.images(filters={"label": LABEL})]
                        if everything else [])
        except _SDK_ERRORS as err:
            raise EngineError(f"cleanup failed: {_engine_message(err)}") from None
        for container in containers:
            if everything or container in self._containers:
                try:
                    self.api.remove_container(container, force=True)
                    removed += 1
                except docker.errors.NotFound:
                    pass
                except _SDK_ERRORS as err:
                    if getattr(err, "status_code", None) != 409:  # removal already in progress
                        raise EngineError(f"cleanup could not remove container {container[:12]}: "
                                          f"{_engine_message(err)}") from None
        for image in [*labelled, *sorted(self._created)]:
            try:
                self.api.remove_image(image, force=True)
                removed += 1
            except docker.errors.NotFound:
                pass
            except _SDK_ERRORS as err:
                raise EngineError(f"cleanup could not remove {image}: "
                                  f"{_engine_message(err)}") from None
        self._created.clear()
        self._containers.clear()
        return removed

    # --- containers ---------------------------------------------------------------------
    def run(self, image: str, cmd: list[str] | None = None, timeout: float = 30) -> RunResult:
        """Run ``image`` once, locked down, and return what it printed.

        The container has no network, a read-only root, no capabilities,
        ``no-new-privileges``, 64 MiB of memory and 64 pids, and is removed afterwards.
        A container that cannot start (the engine's error, e.g. a missing dynamic
        loader) or that outlives ``timeout`` seconds gives a result with ``error`` set;
        ``run`` never raises (a container it could not remove is left to :meth:`cleanup`).

        Example:
            >>> eng.run("lab/hello").stdout                             # doctest: +SKIP
            b'Hello from scratch!\\n'
        """
        try:
            container = self.api.create_container(
                image, command=cmd, labels={LABEL: "1"},
                host_config=self.api.create_host_config(**RUN_LIMITS))["Id"]
        except _SDK_ERRORS as err:
            return RunResult(None, b"", b"", f"cannot create a container from {image}: "
                                             f"{_engine_message(err)}")
        self._containers.add(container)
        try:
            return self._start_and_wait(container, timeout)
        finally:
            try:
                self.api.remove_container(container, force=True)
                self._containers.discard(container)
            except docker.errors.NotFound:
                self._containers.discard(container)
            except _SDK_ERRORS:
                pass  # 409: its removal is already in progress; else cleanup() retries

    def _start_and_wait(self, container: str, timeout: float) -> RunResult:
        # Attached before start, the stream carries the exact bytes (the json-file
        # log driver would turn invalid UTF-8 into U+FFFD).
        output = {1: bytearray(), 2: bytearray()}
        try:
            stream = self.api.attach(container, stdout=True, stderr=True, stream=True,
                                     demux=True)
            reader = threading.Thread(target=_collect, args=(stream, output), daemon=True)
            reader.start()
            self.api.start(container)
        except _SDK_ERRORS as err:
            return RunResult(None, b"", b"", _engine_message(err))
        try:
            exit_code = self.api.wait(container, timeout=timeout)["StatusCode"]
            error = None
        except (*_TIMEOUTS, requests.exceptions.ConnectionError):
            with contextlib.suppress(*_SDK_ERRORS):   # it may have exited meanwhile
                self.api.kill(container)
            exit_code, error = None, f"timed out after {timeout} s"
        except _SDK_ERRORS as err:
            exit_code, error = None, _engine_message(err)
        reader.join(timeout=5)
        return RunResult(exit_code, bytes(output[1]), bytes(output[2]), error)


def _collect(stream, output: dict[int, bytearray]) -> None:
    """Append demultiplexed (stdout, stderr) frames to ``output[1]`` and ``output[2]``."""
    try:
        for out, err in stream:
            output[1] += out or b""
            output[2] += err or b""
    except (*_SDK_ERRORS, OSError):
        pass

