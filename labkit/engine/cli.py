"""The CLI behind ``Engine.docker``: which docker (or podman) program answers this engine,
and running a command line with it exactly as :func:`labkit.engine.commands.shown` shows it.

Example:
    >>> print(eng.docker(["run", "--rm", "--network", "none", "lab/hello"]))  # doctest: +SKIP
    $ docker run --rm --network none lab/hello
    Hello from scratch!
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from functools import cached_property
from pathlib import Path
from typing import Sequence

from labkit.engine import podman
from labkit.engine.base import CALL_TIMEOUT, OPERATION_TIMEOUT
from labkit.engine.commands import CommandRun, shown
from labkit.errors import EngineError


class CommandsMixin:
    """``Engine.docker``: run a docker (or, on Podman, podman) command line against this engine."""

    @cached_property
    def podman_cli(self) -> str | None:
        """On a Podman engine, the podman CLI that runs the learner's commands against it
        (a fleet engine's own, else one here that answers it); None on Docker, or when no
        podman CLI here answers (the docker CLI then talks to Podman's socket)."""
        if self.facts.family != "podman":
            return None
        own = self.docker_cli if self.docker_cli and Path(self.docker_cli).name == "podman" else None
        return podman.find_cli(self.base_url, self.facts.version, own)

    @property
    def tool(self) -> str:
        """``podman`` when the commands shown are podman ones, else ``docker``."""
        return "podman" if self.podman_cli else "docker"

    @cached_property
    def cli(self) -> str:
        """The CLI for this engine's commands: on Podman its podman CLI (see
        :attr:`podman_cli`); else the engine's own docker CLI (a fleet engine's), else one
        here whose version is the engine's, else the first that answers it.

        Raises:
            EngineError: no docker CLI here can talk to the engine.
        """
        if self.podman_cli:
            return self.podman_cli
        if self.docker_cli:
            return str(self.docker_cli)
        candidates = []
        for cli in (shutil.which("docker"), "/usr/bin/docker", "/usr/local/bin/docker"):
            if cli and Path(cli).is_file() and cli not in candidates:
                candidates.append(cli)
        wanted = re.split(r"[+~-]", self.facts.version, maxsplit=1)[0]
        answering = []
        for cli in candidates:
            try:
                done = self._cli(cli, ["version", "--format", "{{.Client.Version}}"])
            except (OSError, subprocess.TimeoutExpired):
                continue
            version = (done.stdout.strip().splitlines() or [""])[0]
            if done.returncode == 0:
                if re.split(r"[+~-]", version, maxsplit=1)[0] == wanted:
                    return cli
                answering.append(cli)
        if answering:
            return answering[0]
        raise EngineError(f"no docker CLI here answers the engine at {self.base_url}",
                          hint="install the docker CLI (Debian docker.io or docker-ce-cli)")

    def docker(self, args: Sequence[str], *, cwd: str | Path | None = None,
               env: dict[str, str] | None = None, pipe: Sequence[str] | None = None,
               timeout: float | None = None, cli: str | None = None) -> CommandRun:
        """Run ``docker ARGS`` (optionally ``| PIPE``) against this engine, as shown; on a
        Podman engine with a podman CLI here, the podman command a learner types there
        (:func:`labkit.engine.podman.podman_args`), the docker form in ``docker_form``.

        Args:
            args: the arguments after ``docker``.
            cwd: the folder it runs in (a build context: ``.``).
            env: variables set for it and shown before it (``DOCKER_BUILDKIT=0``).
            pipe: a program that reads its standard output (``["tar", "-tv"]``).
            timeout: seconds (default: long for build/load/save/import, short otherwise).
            cli: another docker CLI for this one command (BuildKit builds).

        Returns:
            A :class:`CommandRun`; a command that fails is a result, not an error.

        Example:
            >>> print(eng.docker(["run", "--rm", "--network", "none", "lab/hello"]))  # doctest: +SKIP
            $ docker run --rm --network none lab/hello
            Hello from scratch!
        """
        slow = args and args[0] in ("build", "buildx", "load", "save", "import", "push", "pull")
        timeout = timeout or (OPERATION_TIMEOUT if slow else CALL_TIMEOUT)
        docker_form = None
        if cli is None and self.podman_cli:          # what a learner types on Podman
            typed, env2 = podman.podman_args(args, env)
            if podman.differs(args, env, typed, env2):
                docker_form = shown(args, env, pipe)
            line, env = shown(typed, env2, pipe, tool="podman"), env2
            argv = [self.podman_cli, "--url", self.base_url, *typed]
        else:
            line, argv = shown(args, env, pipe), [cli or self.cli, *args]
        full_env = {**self.cli_env(), **(env or {})}
        try:
            if pipe is None:
                done = subprocess.run(argv, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, timeout=timeout)
                run = CommandRun(line, done.returncode, done.stdout.decode("utf-8", "replace"))
            else:
                run = self._piped(line, argv, list(pipe), cwd, full_env, timeout)
        except subprocess.TimeoutExpired:
            run = CommandRun(line, None, f"(labkit: no answer within {timeout:g} s)\n")
        except OSError as err:
            run = CommandRun(line, None, f"(labkit: cannot start {argv[0]}: {err.strerror})\n")
        return dataclasses.replace(run, docker_form=docker_form)

    @staticmethod
    def _piped(line, argv, pipe, cwd, env, timeout) -> CommandRun:
        first = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            second = subprocess.run(pipe, stdin=first.stdout, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, timeout=timeout)
        finally:
            first.stdout.close()
            errors = first.stderr.read()
            first.stderr.close()
            first.wait(timeout=timeout)
        output = errors.decode("utf-8", "replace") + second.stdout.decode("utf-8", "replace")
        return CommandRun(line, first.returncode or second.returncode, output)
