"""One ``%%terminal`` cell run live: every line in one POSIX shell, each line's output and
exit status kept, and the IDs the engine made up noted so they can be shaded.

Example:
    >>> print(live(["echo hello"], None, Path("/tmp"), None, set()))
    live on this machine
    $ echo hello
    hello
"""
from __future__ import annotations

import os
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from labkit.engine.base import OPERATION_TIMEOUT
from labkit.engine.commands import CommandRun, engine_ids
from labkit.engine.podman import podman_line
from labkit.terminal.shell import built_by, words


@dataclass(frozen=True)
class Line:
    """One command line, what it printed, and a note when that is not the whole truth.

    Attributes:
        run: the command as typed, its exit status and output.
        note: empty, or one line: not recorded, or the learner's file is not the one
            the recording used.
        built_now: it lists an image an engine built in this session (``docker save``
            of it names digests that hold the build's date).
    """

    run: CommandRun
    note: str = ""
    built_now: bool = False


@dataclass(frozen=True)
class Session:
    """A ``%%terminal`` cell's lines, where they ran, and the IDs that vary from run to run.

    Attributes:
        source: ``live Docker 20.10.24`` or ``recorded on Docker 20.10.24 (2026-12-06)``.
        lines: each command with its output.
        varying: engine-made IDs (full and 12-digit) to mark wherever they appear.
        why: empty when live; else one line saying why the recording is shown.
        stable: IDs a build printed that its recording printed too: the same every run.
    """

    source: str
    lines: tuple[Line, ...]
    varying: frozenset[str] = field(default_factory=frozenset)
    why: str = ""
    stable: frozenset[str] = field(default_factory=frozenset)

    @property
    def live(self) -> bool:
        return self.source.startswith("live")

    def __str__(self) -> str:
        parts = [self.source] + ([self.why] if self.why else [])
        for line in self.lines:
            parts.append(str(line.run).rstrip("\n") + (f"\n({line.note})" if line.note else ""))
        return "\n".join(parts)


def short_version(version: str) -> str:
    """``20.10.24+dfsg1`` -> ``20.10.24``."""
    return re.split(r"[+~-]", version, maxsplit=1)[0]


def eng_cli(eng) -> str | None:
    """The docker CLI that answers ``eng``, or None."""
    try:
        return eng.cli
    except Exception:  # noqa: BLE001 - no CLI answers: the cell replays
        return None


def live(todo: list[str], eng, folder: Path, made_up: set[str] | None, built: set[str] | None = None,
         stable: set[str] = frozenset()) -> Session:
    """Run ``todo`` in one shell in ``folder`` (against ``eng`` when given).

    Args:
        made_up: the kernel's engine-made IDs, updated with this cell's (None: start empty).
        built: the kernel's images built with a fresh ID, updated likewise.
        stable: IDs known to be the same on every run (not shaded).
    """
    made_up = set() if made_up is None else made_up
    built = set() if built is None else built
    mark = "@@labkit-" + secrets.token_hex(6)
    script = ["exec 2>&1 </dev/null"]
    podman = eng is not None and getattr(eng, "tool", "docker") == "podman"    # on Podman: what
    typed = [podman_line(line) if podman else (line, None) for line in todo]   # a learner types
    for i, (line, _) in enumerate(typed):
        script += [f"printf '%s\\n' '{mark}:start:{i}'", line, f"printf '\\n%s\\n' \"{mark}:end:{i}:$?\""]
    env = dict(os.environ)
    source = "live on this machine"
    if eng is not None:
        env = eng.cli_env()
        cli = eng_cli(eng)
        if cli:
            env["PATH"] = os.pathsep.join([str(Path(cli).parent), env.get("PATH", "")])
        if podman:                                  # the podman CLI, a client of that engine
            env["CONTAINER_HOST"] = eng.base_url
        label = getattr(eng.facts, "label", f"Docker {short_version(eng.facts.version)}")
        source = f"live {label}" + (" with the containerd image store" if eng.facts.containerd_store else "")
    try:
        done = subprocess.run(["sh", "-c", "\n".join(script)], cwd=folder, env=env, capture_output=True,
                              timeout=OPERATION_TIMEOUT)
        text = done.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as err:
        text = (err.stdout or b"").decode("utf-8", "replace")
    runs = []
    for i, (line, docker_form) in enumerate(typed):
        found = re.search(rf"{mark}:start:{i}\n(.*?)\n{mark}:end:{i}:(\d+)\n", text, re.S)
        if found:
            runs.append(CommandRun(line, int(found.group(2)), found.group(1), docker_form))
        else:
            runs.append(CommandRun(line, None, f"(labkit: no answer within {OPERATION_TIMEOUT} s)\n", docker_form))
    stable = engine_ids(runs) & set(stable)
    made_up.update(engine_ids(runs) - stable)
    out = []
    for r, as_docker in zip(runs, todo):                 # the line as the lesson types it
        built.update(built_by(as_docker))
        out.append(Line(r, built_now=bool(set(words(as_docker)) & built) and as_docker.startswith("docker save")))
    return Session(source, tuple(out), frozenset(made_up), stable=frozenset(stable))
