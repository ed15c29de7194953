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

import os
import sys

import docker
import docker.constants
import docker.errors
from docker.context import ContextAPI, config

from labkit.engine import base
from labkit.engine.base import (CALL_TIMEOUT, CONTAINERD_SNAPSHOTTER, DEFAULT_NAMESPACE, DEFAULT_URL,
                                LABEL, NAMESPACE_ENV, NAMESPACE_LABEL, OPERATION_TIMEOUT, EngineBase,
                                EngineFacts, namespace)
from labkit.engine.builds import BuildsMixin
from labkit.engine.cli import CommandsMixin
from labkit.engine.commands import CommandRun
from labkit.engine.containers import RUN_LIMITS, ContainersMixin, RunResult
from labkit.engine.images import ImagesMixin
from labkit.errors import EngineUnavailable

__all__ = ["CALL_TIMEOUT", "CONTAINERD_SNAPSHOTTER", "DEFAULT_NAMESPACE", "DEFAULT_URL", "LABEL",
           "NAMESPACE_ENV", "NAMESPACE_LABEL", "OPERATION_TIMEOUT", "namespace",
           "RUN_LIMITS", "CommandRun", "Engine", "EngineFacts", "RunResult", "connect", "try_connect"]


class Engine(BuildsMixin, ImagesMixin, ContainersMixin, CommandsMixin, EngineBase):
    """One Docker engine. Create it with :func:`connect`.

    Split as the docker SDK splits its client: builds (:mod:`labkit.engine.builds`),
    images (:mod:`labkit.engine.images`), containers (:mod:`labkit.engine.containers`),
    and the docker command line a learner would type (:mod:`labkit.engine.cli`,
    :mod:`labkit.engine.commands`), on
    a shared base (:mod:`labkit.engine.base`).

    Args:
        api: a connected ``docker.APIClient``.
        base_url: where it answered.
        docker_cli: docker CLI for BuildKit builds (default: the first that works).
        docker_config: ``DOCKER_CONFIG`` directory for that CLI.
    """


def _default_url() -> str:
    """``DOCKER_HOST``, else the endpoint of the docker CLI's current context (Docker
    Desktop's ``desktop-linux``: ``~/.docker/run/docker.sock`` on macOS, a named pipe on
    Windows), else the platform's default socket."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    try:
        name = os.environ.get("DOCKER_CONTEXT") or config.get_current_context_name()
        context = ContextAPI.get_context(name)
        if context is not None and context.Host:
            return context.Host
    except Exception:  # noqa: BLE001 - an unreadable CLI config: fall back to the default
        pass
    return docker.constants.DEFAULT_NPIPE if sys.platform == "win32" else DEFAULT_URL


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
    api.timeout = base.CALL_TIMEOUT   # read at call time: tests shorten it
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


