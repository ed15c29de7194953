"""The learner's own commands, as typed at a terminal: run live, or replayed from a recording.

A lesson cell that starts with ``%%terminal`` holds the lines a learner would type
(``docker load -i work/02/hello.tar``). When every program they need is here -- and an
engine answers, for ``docker`` -- they run for real, one shell for the whole cell (so
``cd`` and variables carry from line to line), in the notebook's folder, against the
engine the lab uses. Otherwise the cell shows what the same lines printed on the lab's
reference engine, from ``data/terminal/<lesson>.json``, and says so: the source reads
``recorded on Docker 20.10.24 (date)``, a line the lab never ran says "not recorded", and
where a ``work/...`` file a line names is not the file the recording used (the learner
changed it, or built it on another machine) the line says that too, instead of
pretending. Running with ``LABKIT_RECORD_TERMINAL=1`` (``make execute``) records the
live lines.

Example:
    >>> lines("docker load -i work/02/hello.tar\\n# a comment\\ndocker run --rm \\\\\\n  hello:labkit")
    ['docker load -i work/02/hello.tar', 'docker run --rm hello:labkit']
    >>> programs("docker save hello:labkit | tar -tv")
    ['docker', 'tar']
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from labkit import engine as engine_mod
from labkit.engine.base import OPERATION_TIMEOUT
from labkit.engine.commands import CommandRun, engine_ids, masked

#: Where the recordings live: one JSON file per lesson (``01.json``), keyed by command.
RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "terminal"
#: Set to 1 to write what live cells printed into the recordings (``make execute``).
RECORD_ENV = "LABKIT_RECORD_TERMINAL"
SCHEMA = 1
#: Shell words that join commands; the word after each one names a program.
_JOINS = {"|", "||", "&&", ";", "&"}
#: Debian packages that give a program a lesson line may use (for the "install" hint).
PACKAGES = {"docker": "docker.io", "tar": "tar", "file": "file", "xxd": "xxd",
            "hexdump": "bsdextrautils", "skopeo": "skopeo", "umoci": "umoci", "runc": "runc",
            "curl": "curl", "jq": "jq", "truncate": "coreutils", "sha256sum": "coreutils"}
#: Builtins and programs every POSIX shell has: never a reason to replay.
_SHELL = {"cd", "echo", "printf", "export", "true", "false", "test", "[", "set", "unset", "ls", "cat",
          "mkdir", "rm", "cp", "mv", "head", "tail", "wc", "sort", "sh"}

_lesson: str | None = None
#: IDs the engine made up in this kernel (a build's image ID, a container's): marked as
#: varying wherever a later cell prints them.
_made_up: set[str] = set()
#: Images built in this kernel by ``docker build -t``/``import``/``commit`` (their IDs vary).
_built: set[str] = set()


def use_lesson(name: str) -> None:
    """Make ``name`` (``"02"``) the lesson whose recording later cells read and write.

    ``labkit.lessons.workdir`` calls it, so a notebook never has to.
    """
    global _lesson
    _lesson = name


def lines(script: str) -> list[str]:
    """The command lines of a cell: continuations (``\\`` at the end) joined, blank lines
    and ``#`` comments dropped."""
    out, pending = [], ""
    for raw in script.splitlines():
        text = raw.rstrip()
        if text.endswith("\\"):
            pending += text[:-1].rstrip() + " "
            continue
        text = (pending + text.strip()).strip()
        pending = ""
        if text and not text.startswith("#"):
            out.append(text)
    if pending.strip():
        out.append(pending.strip())
    return out


def programs(line: str) -> list[str]:
    """The programs a command line starts (``VAR=value`` prefixes skipped).

    Example:
        >>> programs("DOCKER_BUILDKIT=0 docker build -t x . && docker images x")
        ['docker', 'docker']
    """
    found, expect = [], True
    for word in _words(_SUBSTITUTION.sub(" ; ", line)):
        if word in _JOINS or word in ("export", "then", "do", "else"):
            expect = True
        elif expect and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            found.append(word.strip(")"))
            expect = False
    return [p for p in found if p]


#: ``$(`` starts a command inside a word (``X=$(curl …)``): the word after it is a program.
_SUBSTITUTION = re.compile(r"\$\(|`")
#: ``$NAME`` or ``${NAME}`` outside single quotes.
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def unset_variables(todo: list[str], environ: dict[str, str] | None = None) -> list[str]:
    """Variables the lines read that neither the environment nor an earlier line sets.

    Example:
        >>> unset_variables(["export X=1", "echo $X ${REGISTRY}/v2 '$NOT_READ'"], {})
        ['REGISTRY']
    """
    environ = os.environ if environ is None else environ
    known, missing = set(environ), []
    for line in todo:
        unquoted = re.sub(r"'[^']*'", "", line)
        for name in _VARIABLE.findall(unquoted):
            if name not in known and name not in missing and not name.isdigit():
                missing.append(name)
        known.update(re.findall(r"(?:^|[\s;&|(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", line))
    return missing


def work_files(line: str, folder: Path) -> dict[str, str]:
    """``work/...`` paths the line names that exist under ``folder``, each with a digest
    of what it holds (a folder: its names, modes and contents)."""
    words, found = _words(line), {}
    for word in words:
        for candidate in {word, word.split("=", 1)[-1], word.split(":", 1)[0]}:
            if candidate.startswith("work/") and (folder / candidate).exists():
                found[candidate] = digest_path(folder / candidate)
    return found


def digest_path(path: Path) -> str:
    """``sha256:…`` of a file's bytes, or of a folder's sorted names, modes and contents."""
    sha = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        return "sha256:" + sha.hexdigest()
    for item in sorted(path.rglob("*")):
        sha.update(f"{item.relative_to(path).as_posix()}\0{item.lstat().st_mode:o}\0".encode())
        if item.is_file() and not item.is_symlink():
            sha.update(bytes.fromhex(digest_path(item)[7:]))
        elif item.is_symlink():
            sha.update(os.readlink(item).encode())
    return "sha256:" + sha.hexdigest()


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


def run(script: str, engine=None, *, folder: str | Path = ".", lesson: str | None = None) -> Session:
    """Run a cell's command lines live, or replay them from the recording.

    Args:
        script: the cell's text (one command a line).
        engine: a ``labkit.engine.Engine`` or None (default: whatever answers, for lines
            that run ``docker``).
        folder: where the lines run and ``work/...`` paths are read (the notebook's).
        lesson: the recording to read and write (default: the lesson ``use_lesson`` set).

    Example:
        >>> print(run("echo hello", folder="/tmp"))
        live on this machine
        $ echo hello
        hello
    """
    folder, lesson = Path(folder), lesson or _lesson
    todo = lines(script)
    needs_engine = any("docker" in programs(line) for line in todo)
    eng = engine if engine is not None or not needs_engine else engine_mod.try_connect()
    missing = sorted({p for line in todo for p in programs(line)
                      if p not in _SHELL and p != "docker" and shutil.which(p) is None})
    why = ""
    if shutil.which("sh") is None:
        why = "no POSIX shell here (sh): this is what the same commands printed on the lab's reference engine"
    elif needs_engine and eng is None:
        why = "no Docker engine answered: this is what the same commands printed on the lab's reference engine"
    elif needs_engine and _cli(eng) is None:
        why = "no docker command here (install the docker CLI): this is what it printed on the reference engine"
    elif unset_variables(todo):
        why = ("not set here: " + ", ".join(f"${n}" for n in unset_variables(todo))
               + " (an earlier step sets it when it runs live); this is the recorded output")
    elif missing:
        why = "not installed here: " + ", ".join(
            f"{p} (apt-get install {PACKAGES.get(p, p)})" for p in missing) + "; this is the recorded output"
    if why:
        return replay(todo, folder, lesson, why)
    session = _live(todo, eng, folder, lesson)
    if os.environ.get(RECORD_ENV) == "1" and lesson:
        recorder = eng or engine_mod.try_connect()
        if recorder is not None:
            record(session, recorder, folder, lesson, todo)
    return session


def _cli(eng) -> str | None:
    try:
        return eng.cli
    except Exception:  # noqa: BLE001 - no CLI answers: the cell replays
        return None


def _live(todo: list[str], eng, folder: Path, lesson: str | None) -> Session:
    """Run every line in one POSIX shell, output and errors together, each line's exit status kept."""
    mark = "@@labkit-" + secrets.token_hex(6)
    script = ["exec 2>&1 </dev/null"]
    for i, line in enumerate(todo):
        script += [f"printf '%s\\n' '{mark}:start:{i}'", line, f"printf '\\n%s\\n' \"{mark}:end:{i}:$?\""]
    env = dict(os.environ)
    source = "live on this machine"
    if eng is not None:
        env = eng.cli_env()
        cli = _cli(eng)
        if cli:
            env["PATH"] = os.pathsep.join([str(Path(cli).parent), env.get("PATH", "")])
        source = f"live Docker {_short(eng.facts.version)}" + (
            " with the containerd image store" if eng.facts.containerd_store else "")
    try:
        done = subprocess.run(["sh", "-c", "\n".join(script)], cwd=folder, env=env, capture_output=True,
                              timeout=OPERATION_TIMEOUT)
        text = done.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as err:
        text = (err.stdout or b"").decode("utf-8", "replace")
    runs = []
    for i, line in enumerate(todo):
        found = re.search(rf"{mark}:start:{i}\n(.*?)\n{mark}:end:{i}:(\d+)\n", text, re.S)
        if found:
            runs.append(CommandRun(line, int(found.group(2)), found.group(1)))
        else:
            runs.append(CommandRun(line, None, f"(labkit: no answer within {OPERATION_TIMEOUT} s)\n"))
    stable = stable_ids(runs, lesson)
    _made_up.update(engine_ids(runs) - stable)
    out = []
    for r in runs:
        _built.update(built_by(r.command))
        out.append(Line(r, built_now=bool(set(_words(r.command)) & _built) and r.command.startswith("docker save")))
    return Session(source, tuple(out), frozenset(_made_up), stable=frozenset(stable))


def stable_ids(runs: list[CommandRun], lesson: str | None) -> set[str]:
    """The IDs in ``runs`` that the recording of the same lines printed too: a build with no
    date in its config (``FROM scratch`` alone, BuildKit) gives the same ID every time, so
    it is not shaded as varying."""
    stable = set()
    for run in runs:
        found = _find(run.command, lesson)
        if found is not None:
            stable.update(i for i in engine_ids([run]) if i in found[0].get("output", ""))
    return stable


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def built_by(line: str) -> set[str]:
    """The image names a line makes with a fresh ID (``docker build -t``, ``import``, ``commit``).

    Example:
        >>> sorted(built_by("DOCKER_BUILDKIT=0 docker build -t hello:legacy work/04/context"))
        ['hello:legacy']
        >>> built_by("docker import work/01/empty-layer.tar empty-layer:lab")
        {'empty-layer:lab'}
    """
    words = [w for w in _words(line) if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w)]
    if words[:1] != ["docker"]:
        return set()
    rest = words[1:]
    if rest[:2] in (["image", "build"], ["image", "import"], ["container", "commit"], ["buildx", "build"]):
        rest = rest[1:]
    if rest[:1] == ["build"]:
        return {w.split("=", 1)[-1] for i, w in enumerate(rest)
                if w.startswith("--tag=") or (i and rest[i - 1] in ("-t", "--tag"))}
    if rest[:1] in (["import"], ["commit"]):
        args = [w for w in rest[1:] if not w.startswith("-")]
        return set(args[1:2])
    return set()


def _short(version: str) -> str:
    return re.split(r"[+~-]", version, maxsplit=1)[0]


def recording(lesson: str | None) -> dict:
    """The recording of ``lesson`` (``{"engine": {...}, "commands": {...}}``), or an empty one."""
    path = RECORDINGS / f"{lesson}.json"
    if lesson and path.is_file():
        return json.loads(path.read_text())
    return {"schema": SCHEMA, "engine": {}, "commands": {}}


def _find(line: str, lesson: str | None) -> tuple[dict, dict] | None:
    """The recorded entry for ``line`` and its recording's engine: the lesson's first, then any."""
    names = [lesson] if lesson else []
    names += sorted(p.stem for p in RECORDINGS.glob("*.json") if p.stem != lesson)
    for name in names:
        data = recording(name)
        if line in data["commands"]:
            return data["commands"][line], data["engine"]
    return None


def replay(todo: list[str], folder: Path, lesson: str | None, why: str) -> Session:
    """The recorded output of each line, with a note where it is not the learner's."""
    out, engine, varying, stable = [], {}, set(), set()
    for line in todo:
        found = _find(line, lesson)
        if found is None:
            out.append(Line(CommandRun(line, None, ""), "not recorded: the lab never ran this line on a "
                                                        "real engine; run it at a terminal where Docker runs"))
            continue
        entry, engine = found
        varying.update(entry.get("varying", ()))
        stable.update(entry.get("stable", ()))
        notes = [f"your {path} is not the file this was recorded with, so yours may print something else"
                 for path, digest in entry.get("inputs", {}).items()
                 if (folder / path).exists() and digest_path(folder / path) != digest]
        out.append(Line(CommandRun(line, entry.get("exit_code"), entry.get("output", "")), "; ".join(notes),
                        bool(entry.get("built_now"))))
    source = (f"recorded on Docker {engine.get('version', '?')}"
              + (" with the containerd image store" if engine.get("containerd_store") else "")
              + f" ({engine.get('date', '?')})") if engine else "recorded on no engine (nothing recorded)"
    return Session(source, tuple(out), frozenset(varying), why, frozenset(stable))


def record(session: Session, eng, folder: Path, lesson: str, todo: list[str]) -> Path:
    """Write the live ``session`` into ``data/terminal/<lesson>.json``; the recording's
    date moves only when something changed beyond what varies from run to run."""
    path = RECORDINGS / f"{lesson}.json"
    data = recording(lesson)
    facts = {"version": _short(eng.facts.version), "package_version": eng.facts.version,
             "containerd_store": eng.facts.containerd_store, "storage_driver": eng.facts.storage_driver,
             "cli": _cli(eng) and Path(_cli(eng)).name}
    if {k: v for k, v in data["engine"].items() if k != "date"} != facts:
        data = {"schema": SCHEMA, "engine": {}, "commands": {}}
    changed = not data["engine"]
    for line, item in zip(todo, session.lines):
        entry = {"exit_code": item.run.exit_code, "output": item.run.output,
                 "inputs": work_files(line, folder),
                 "varying": sorted(i for i in session.varying if i in item.run.output),
                 "stable": sorted(i for i in session.stable if i in item.run.output),
                 "built_now": item.built_now}
        changed = changed or not _same(line, data["commands"].get(line), entry)
        data["commands"][line] = entry        # one run's values throughout: they agree line to line
    data["engine"] = {**facts, "date": datetime.date.today().isoformat() if changed else data["engine"]["date"]}
    RECORDINGS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def _same(line: str, old: dict | None, new: dict) -> bool:
    """The same recording but for what varies from run to run (IDs, dates, durations)."""
    if old is None or (old.get("exit_code"), old.get("inputs")) != (new["exit_code"], new["inputs"]):
        return False

    def text(entry: dict) -> str:
        return masked(CommandRun(line, entry["exit_code"], entry["output"]),
                      set(old.get("varying", ())) | set(new["varying"]),
                      built_now=bool(entry.get("built_now")))
    return text(old) == text(new)
