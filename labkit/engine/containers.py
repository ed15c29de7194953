"""Running a container once, locked down, and collecting exactly what it printed.

Example:
    >>> eng.run("lab/hello").stdout                             # doctest: +SKIP
    b'Hello from scratch!\\n'
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import requests.exceptions

from labkit.engine.base import (_SDK_ERRORS, _TIMEOUTS, LABEL, NAMESPACE_LABEL, _engine_message,
                                namespace)
from labkit.errors import EngineError

# Security options of every lab container (see ContainersMixin.run).
RUN_LIMITS = dict(network_mode="none", read_only=True, cap_drop=["ALL"],
                  security_opt=["no-new-privileges"], mem_limit="64m", pids_limit=64)


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



def labels() -> dict[str, str]:
    """The labels of every container labkit creates through the API: the lab's, and whose
    (``LABKIT_NAMESPACE``: one learner's on a shared engine). Containers the docker CLI runs
    for a lesson (``docker run --rm <namespace>/...``) show the command as a learner types
    it, so they carry no label: their image's name says whose they are.

    Example:
        >>> labels()
        {'org.labkit.lab': '1', 'org.labkit.namespace': 'lab'}
    """
    return {LABEL: "1", NAMESPACE_LABEL: namespace()}


class ContainersMixin:
    """The container calls of ``Engine`` (docker SDK's ``ContainerApiMixin`` seam)."""

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
                image, command=cmd, labels=labels(),
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

    def export(self, image: str, out: str | Path) -> Path:
        """``docker create`` + ``docker export``: the root filesystem a container of
        ``image`` sees (never started), as a tar at ``out``; the container is removed.

        Raises:
            EngineError: the engine refused to create or export it (its own message).

        Example:
            >>> eng.export("lab/hello", "rootfs.tar")                   # doctest: +SKIP
            PosixPath('rootfs.tar')
        """
        out = Path(out)
        try:
            container = self.api.create_container(image, command=["/labkit-export"],
                                                  labels=labels())["Id"]
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot create a container from {image}: {_engine_message(err)}") from None
        self._containers.add(container)
        try:
            def export() -> None:
                with open(out, "wb") as f:
                    for chunk in self.api.export(container, chunk_size=1 << 20):
                        f.write(chunk)
            self._long_call(f"exporting {image}", export)
        except _SDK_ERRORS as err:
            raise EngineError(f"cannot export {image}: {_engine_message(err)}") from None
        finally:
            with contextlib.suppress(*_SDK_ERRORS):
                self.api.remove_container(container, force=True)
                self._containers.discard(container)
        return out

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

