"""Building images with the docker CLI, exactly as a learner would: the legacy builder
(``DOCKER_BUILDKIT=0 docker build``) and BuildKit (``docker build`` with the buildx plugin,
the default since 23.0, or ``DOCKER_BUILDKIT=1 docker build`` with a 20.10 CLI).

Example:
    >>> eng.build("ctx", "lab/hello:legacy")                  # doctest: +SKIP
    'sha256:4f2f...'
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cached_property
from pathlib import Path

from labkit.engine.base import _SDK_ERRORS, LABEL
from labkit.errors import EngineError

#: Where the CLI is asked for its own API version: nothing listens there, so it cannot
#: negotiate down to an engine's and says the highest version it speaks.
_NOWHERE = "tcp://127.0.0.1:9" if sys.platform.startswith("win") else "unix:///nonexistent/labkit-cli-probe.sock"


def api_version_tuple(text: str) -> tuple[int, ...]:
    """``"1.44"`` -> ``(1, 44)``, for comparing API versions (``()`` when unknown).

    Example:
        >>> api_version_tuple("1.41") < api_version_tuple("1.44") < api_version_tuple("1.52")
        True
    """
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return ()


class BuildsMixin:
    """``Engine.build`` (docker SDK's build seam: ``APIClient.build``)."""

    def _engine_min_api(self) -> str:
        """The oldest API version the engine accepts (``/version`` ``MinAPIVersion``)."""
        answers = getattr(self, "_api_answers", None)
        if answers is not None:
            return answers[0].get("MinAPIVersion", "")
        try:
            return self.api.version().get("MinAPIVersion", "")
        except _SDK_ERRORS:
            return ""

    def cli_api_version(self, cli: str) -> str:
        """The highest API version the docker CLI ``cli`` speaks (``""`` if it won't say).

        Example:
            >>> eng.cli_api_version("/usr/bin/docker")                   # doctest: +SKIP
            '1.41'
        """
        env = {"DOCKER_HOST": _NOWHERE, "DOCKER_API_VERSION": ""}
        try:
            done = self._cli(cli, ["version", "--format", "{{.Client.APIVersion}}"], extra_env=env)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        first = (done.stdout.strip().splitlines() or [""])[0]
        return first if api_version_tuple(first) else ""

    @cached_property
    def _buildkit_cli(self) -> tuple[str, str] | None:
        """(docker CLI path, "buildx" or "builtin") that builds with BuildKit here, or None.

        Current CLIs build with BuildKit only through the buildx plugin; CLIs before
        23.0 (Debian bookworm's 20.10) still have it built in (``DOCKER_BUILDKIT=1``).
        A CLI older than the engine accepts is passed over: Docker 29.0-29.2 refuse
        clients below API 1.44 (a 20.10 CLI speaks 1.41); the first CLI that can talk
        to this engine wins, so with a 29 engine that is the machine's current CLI.
        """
        candidates = [self.docker_cli] if self.docker_cli else [
            shutil.which("docker"), "/usr/bin/docker", "/usr/local/bin/docker"]
        floor = api_version_tuple(self._engine_min_api())
        self._cli_passed_over: list[str] = []
        seen = set()
        for cli in candidates:
            if not cli or cli in seen or not Path(cli).is_file():
                continue
            seen.add(cli)
            speaks = self.cli_api_version(cli)
            if floor and speaks and api_version_tuple(speaks) < floor:
                self._cli_passed_over.append(f"{cli} speaks API {speaks}")
                continue
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

    def build(self, context: str | Path, tag: str, builder: str = "legacy",
              dockerfile: str = "Dockerfile", *, label: bool = True, cache: bool = False,
              transcript: list | None = None, platform: str | None = None,
              network: str | None = None) -> str:
        """Build ``context`` with the legacy builder or BuildKit, through the docker CLI.

        The command is the one a learner types (``DOCKER_BUILDKIT=0 docker build ...`` for
        the legacy builder; ``docker build ...`` where BuildKit is the default (23.0+), or
        ``DOCKER_BUILDKIT=1 docker build ...`` before that), run in the context folder. On
        Podman ``builder="legacy"`` is ``podman build`` (Buildah), and there is no BuildKit.

        Args:
            context: the build context directory.
            tag: the image reference to give the result.
            builder: ``"legacy"`` or ``"buildkit"``.
            dockerfile: the Dockerfile's name inside ``context``.
            label: add the ``org.labkit.lab`` label (changes the config and so the
                image ID; pass False to build exactly what ``docker build`` would).
                Either way the image is remembered for :meth:`cleanup`.
            cache: let the builder reuse earlier steps. Off by default (``--no-cache``):
                a cached COPY step gives back the layer of an earlier build.
            transcript: a list the :class:`~labkit.engine.commands.CommandRun` is
                appended to (what was typed and printed), failed or not.
            platform: build for this platform (``linux/arm64``) instead of the
                engine's own (``--platform``; a FROM scratch build needs no emulation).
            network: the network of RUN steps (``--network none`` where the engine has
                no bridge: BuildKit's RUN fails there with "network bridge not found").

        Returns:
            The image ID (``sha256:...``).

        Raises:
            EngineError: the build failed (the builder's own last error line), or no
                docker CLI here can use BuildKit with this engine.

        Example:
            >>> eng.build("ctx", "lab/hello:legacy")                  # doctest: +SKIP
            'sha256:4f2f...'
        """
        if builder not in ("legacy", "buildkit"):
            raise EngineError(f"unknown builder {builder!r}", hint='use "legacy" or "buildkit"')
        if builder == "buildkit" and self.facts.family == "podman":
            raise EngineError(f"{self.facts.label} has no BuildKit: its one builder is Buildah "
                              "(podman build)", hint='build with builder="legacy" (the build API Buildah serves)')
        args = ["build"] + (["--progress=plain"] if builder == "buildkit" else [])
        if not cache:
            args.append("--no-cache")
        if label:
            args += ["--label", f"{LABEL}=1"]
        if platform:
            args += ["--platform", platform]
        if network:
            args += ["--network", network]
        if dockerfile != "Dockerfile":
            args += ["-f", dockerfile]
        args += ["-t", tag, "."]
        env, cli = {"DOCKER_BUILDKIT": "0"}, None
        if builder == "buildkit":
            found = self._buildkit_cli
            if found is None:
                self._no_buildkit_cli()
            cli, how = found
            env = {} if how == "buildx" else {"DOCKER_BUILDKIT": "1"}
        run = self.docker(args, cwd=context, env=env, cli=cli)
        if transcript is not None:
            transcript.append(run)
        self._created.add(tag)
        if run.exit_code != 0:
            name = "BuildKit" if builder == "buildkit" else builder
            raise EngineError(f"{name} build of {tag} failed: {build_error(run.output)}")
        return self.inspect(tag)["Id"]

    def _no_buildkit_cli(self) -> None:
        """Raise why no docker CLI here can build with BuildKit for this engine."""
        passed_over = getattr(self, "_cli_passed_over", [])
        if passed_over:
            raise EngineError(
                f"no docker CLI here can talk to {self.base_url}, which accepts API "
                f"{self._engine_min_api()} and newer ({'; '.join(passed_over)})",
                hint="install a current docker CLI with its buildx plugin (Docker's "
                     "docker-ce-cli, or Docker Desktop's)")
        raise EngineError(f"no docker CLI here builds with BuildKit for {self.base_url}",
                          hint="install the buildx plugin (Debian docker-buildx), or "
                               "pass docker_cli= a 20.10 CLI")


def build_error(output: str) -> str:
    """The builder's own words from a failed build's output (its last error line).

    Example:
        >>> build_error("Step 1/1 : FROM scratch\\n --->\\nNo image was generated. Is your Dockerfile empty?\\n")
        'No image was generated. Is your Dockerfile empty?'
    """
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    line = next((ln for ln in reversed(lines) if "ERROR" in ln or "rror" in ln),
                lines[-1] if lines else "no output")
    for prefix in ("ERROR: ", "Error response from daemon: ", "error: "):
        line = line.split(prefix, 1)[-1] if prefix in line else line
    return " ".join(line.split())
