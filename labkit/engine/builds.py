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
from functools import cached_property
from pathlib import Path

from labkit.engine.base import LABEL
from labkit.errors import EngineError


class BuildsMixin:
    """``Engine.build`` (docker SDK's build seam: ``APIClient.build``)."""

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

    def build(self, context: str | Path, tag: str, builder: str = "legacy",
              dockerfile: str = "Dockerfile", *, label: bool = True, cache: bool = False,
              transcript: list | None = None) -> str:
        """Build ``context`` with the legacy builder or BuildKit, through the docker CLI.

        The command is the one a learner types (``DOCKER_BUILDKIT=0 docker build ...`` for
        the legacy builder; ``docker build ...`` where BuildKit is the default (23.0+), or
        ``DOCKER_BUILDKIT=1 docker build ...`` before that), run in the context folder.

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
        args = ["build"] + (["--progress=plain"] if builder == "buildkit" else [])
        if not cache:
            args.append("--no-cache")
        if label:
            args += ["--label", f"{LABEL}=1"]
        if dockerfile != "Dockerfile":
            args += ["-f", dockerfile]
        args += ["-t", tag, "."]
        env, cli = {"DOCKER_BUILDKIT": "0"}, None
        if builder == "buildkit":
            found = self._buildkit_cli
            if found is None:
                raise EngineError(f"no docker CLI here builds with BuildKit for {self.base_url}",
                                  hint="install the buildx plugin (Debian docker-buildx), or "
                                       "pass docker_cli= a 20.10 CLI")
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
