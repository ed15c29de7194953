"""Podman through its Docker-compatible API: the ``podman`` command a learner types.

``podman system service`` answers the Docker Engine API, so the docker SDK drives a
Podman engine as it drives Docker's. What a learner *types* differs: on a machine with
Podman it is ``podman load``, ``podman image inspect``, ``podman build`` (Buildah, the
only builder: there is no BuildKit and no ``DOCKER_BUILDKIT``), ``podman push
--tls-verify=false`` to a registry on loopback (Docker trusts ``127.0.0.0/8`` without
TLS, Podman does not). :func:`podman_args` turns the docker command a lesson shows into
the podman one; ``Engine.docker`` runs it with the podman CLI in remote mode (``podman
--url <the engine's address>``: the same engine the SDK talks to) and shows it as typed,
with the docker form beside it where the two differ (``CommandRun.docker_form``).

Where no podman CLI is here, the docker CLI talks to Podman's socket instead and the
commands stay docker ones (Podman's API answers both).

Example:
    >>> podman_args(["build", "--progress=plain", "--no-cache", "-t", "lab/x", "."], {"DOCKER_BUILDKIT": "1"})
    (['build', '--no-cache', '-t', 'lab/x', '.'], {})
    >>> podman_args(["push", "127.0.0.1:5000/lab/x:1"], {})
    (['push', '--tls-verify=false', '127.0.0.1:5000/lab/x:1'], {})
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

#: The podman CLIs tried, in order, after one on PATH (Podman Desktop puts its own in
#: /opt/podman/bin on macOS; Linux distributions in /usr/bin).
CANDIDATES = ("/usr/bin/podman", "/usr/local/bin/podman", "/opt/podman/bin/podman")
#: Docker's environment switches that have no podman counterpart (its one builder).
DOCKER_ONLY_ENV = ("DOCKER_BUILDKIT",)
#: Registry hosts Docker talks to without TLS by default (``127.0.0.0/8``), which Podman
#: refuses unless told (``--tls-verify=false``, or registries.conf ``insecure = true``).
_LOOPBACK = re.compile(r"^(?:127(?:\.\d{1,3}){3}|localhost)(?::\d+)?/")
#: ``docker version`` template fields Podman names differently (its ``Server`` has no
#: ``Arch``; ``OsArch`` is ``linux/amd64``).
_VERSION_FIELDS = {"{{.Server.Arch}}": "{{.Server.OsArch}}"}


def podman_args(args: Sequence[str], env: dict[str, str] | None = None
                ) -> tuple[list[str], dict[str, str]]:
    """The podman arguments and environment for ``docker ARGS`` with ``env``.

    * ``build``: no ``DOCKER_BUILDKIT`` and no ``--progress`` (Buildah prints its own
      steps); ``podman build`` is the one builder.
    * ``push`` / ``pull`` of a loopback registry: ``--tls-verify=false``.
    * ``save`` of several images into one docker-archive: ``--multi-image-archive``.
    * ``version --format``: Podman's field names.

    Everything else (``load``, ``image inspect``, ``images``, ``history``, ``run``,
    ``exec``, ``export``, ``import``, ``tag``, ``rmi``, ``system df``) is the same.

    Example:
        >>> podman_args(["save", "a:1", "b:2"])
        (['save', '--multi-image-archive', 'a:1', 'b:2'], {})
        >>> podman_args(["version", "--format", "{{.Server.Arch}}"])[0]
        ['version', '--format', '{{.Server.OsArch}}']
    """
    env = {k: v for k, v in (env or {}).items() if k not in DOCKER_ONLY_ENV}
    out = list(args)
    verb = out[0] if out else ""
    if verb == "build":
        out = [a for a in out if not a.startswith("--progress")]
    elif verb in ("push", "pull") and any(_LOOPBACK.match(a) for a in out[1:]):
        out.insert(1, "--tls-verify=false")
    elif verb == "save" and len(_operands(out[1:], ("-o", "--output", "--format"))) > 1:
        out.insert(1, "--multi-image-archive")
    elif verb == "version":
        out = [_VERSION_FIELDS.get(a, a) for a in out]
    return out, env


def _operands(args: Sequence[str], with_value: tuple[str, ...]) -> list[str]:
    """The words of ``args`` that are neither options nor the values of ``with_value`` ones."""
    found, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in with_value:
            skip = True
        elif not arg.startswith("-"):
            found.append(arg)
    return found


#: A shell word as typed (quotes kept), or a word that joins commands.
_WORD = re.compile(r"""(?:[^\s'"\\|;&]+|'[^']*'|"(?:\\.|[^"\\])*"|\\.)+|\|\||&&|[|;&]""")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _plain(word: str) -> str:
    """A word without its quotes, its ``$VARIABLES`` as this process has them."""
    try:
        return os.path.expandvars(" ".join(shlex.split(word)))
    except ValueError:
        return word


def podman_line(line: str) -> tuple[str, str | None]:
    """A shell line as a learner types it on Podman: each ``docker ARGS`` command in it
    becomes ``podman`` with :func:`podman_args` (the words kept as typed, quotes and
    ``$VARIABLES`` too); the docker line when the two differ beyond the program's name.
    A line with ``$(...)`` or backquotes, or a docker option before the command
    (``docker --config DIR login``: Podman has no such option), is left as it is.

    Example:
        >>> podman_line("DOCKER_BUILDKIT=1 docker build -q -t hello:x work/02 && docker run --rm hello:x")
        ('podman build -q -t hello:x work/02 && podman run --rm hello:x', 'DOCKER_BUILDKIT=1 docker build -q -t hello:x work/02 && docker run --rm hello:x')
        >>> podman_line("docker load -i 'work/02/hello.tar'")
        ("podman load -i 'work/02/hello.tar'", None)
    """
    words = _WORD.findall(line)
    if "$(" in line or "`" in line or "".join(words).replace(" ", "") != line.replace(" ", ""):
        return line, None
    out, changed, start = [], False, 0
    for end in [i for i, w in enumerate(words) if w in ("|", "||", "&&", ";", "&")] + [len(words)]:
        segment, join = words[start:end], words[end:end + 1]
        start = end + 1
        lead = 0
        while lead < len(segment) and _ASSIGNMENT.match(segment[lead]):
            lead += 1
        rest = segment[lead + 1:]
        if segment[lead:lead + 1] != ["docker"] or not rest or rest[0].startswith("-"):
            out += segment + join
            continue
        env = dict(w.split("=", 1) for w in segment[:lead])
        plain = [_plain(w) for w in rest]
        typed, typed_env = podman_args(plain, env)
        changed |= differs(plain, env, typed, typed_env)
        kept, at = [], 0
        for arg in typed:                   # each word as typed where it is the same word
            skip = next((j for j in range(at, len(plain)) if plain[j] == arg), None)
            if skip is None:
                kept.append(shlex.quote(arg))
            else:
                kept.append(rest[skip])
                at = skip + 1
        out += [f"{k}={shlex.quote(v)}" for k, v in typed_env.items()] + ["podman", *kept] + join
    return " ".join(out), (line if changed else None)


def differs(args: Sequence[str], env: dict[str, str] | None, podman: list[str],
            podman_env: dict[str, str]) -> bool:
    """True when the podman command differs from the docker one beyond the program's name.

    Example:
        >>> differs(["load", "-i", "x.tar"], None, ["load", "-i", "x.tar"], {})
        False
    """
    return list(args) != podman or dict(env or {}) != podman_env


def server_version(cli: str, url: str, timeout: float = 30) -> str | None:
    """The Podman version ``cli`` reports for the service at ``url``, or None when it
    cannot talk to it (no such program, another engine, no answer).

    Example:
        >>> server_version("/nonexistent/podman", "unix:///nonexistent.sock") is None
        True
    """
    try:
        done = subprocess.run([cli, "--url", url, "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (done.stdout.strip().splitlines() or [""])[0]
    return first if done.returncode == 0 and first else None


def find_cli(url: str, version: str, own: str | None = None) -> str | None:
    """The podman CLI to run a learner's commands against the service at ``url``: ``own``
    (a fleet engine's), else one here whose server answer is ``version``, else the first
    that answers at all; None when none does.

    Example:
        >>> find_cli("unix:///nonexistent.sock", "4.3.1") is None
        True
    """
    if own:
        return own
    found = []
    for cli in (shutil.which("podman"), *CANDIDATES):
        if cli and Path(cli).is_file() and cli not in found:
            found.append(cli)
    answering = [cli for cli in found if server_version(cli, url)]
    same = [cli for cli in answering if client_version(cli) == version]
    return (same or answering or [None])[0]


def client_version(cli: str) -> str:
    """``podman --version`` of ``cli`` (``4.3.1``; ``""`` when it does not run).

    Example:
        >>> client_version("/nonexistent/podman")
        ''
    """
    try:
        done = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = done.stdout.split()
    return words[-1] if done.returncode == 0 and words else ""
