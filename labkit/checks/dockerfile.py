"""Reading a learner's multi-stage Dockerfile, for checker 02.3: its stages, what each
copies, compiles and runs.

Only what the checker needs, read the way the builder reads it: ``\\`` continuations
joined, ``#`` comment lines dropped, here-documents (``RUN <<EOF``) kept with their
instruction, ``WORKDIR`` followed, exec-form JSON parsed as JSON. Not a full Dockerfile
parser (no ARG or ENV expansion: a path that names a variable is not judged).

Example:
    >>> stages = parse("FROM gcc:13 AS build\\nRUN gcc -static -o /hello hello.c\\nFROM scratch\\n")
    >>> [(s.base, s.name) for s in stages]
    [('gcc:13', 'build'), ('scratch', None)]
    >>> compiles(stages[0])[0].output
    '/hello'
"""
from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field

#: Base images that come with a C compiler (the official gcc image, buildpack-deps).
COMPILER_IMAGES = ("gcc", "buildpack-deps")
#: Packages that bring a C compiler, as apt or apk install them.
COMPILER_PACKAGES = re.compile(r"\b(gcc|build-essential|build-base|alpine-sdk|clang|musl-tools|tcc)\b")
#: A compiler being run: the first word of a shell command (``x86_64-linux-gnu-gcc-12`` too).
COMPILER = re.compile(r"^(?:\S*/)?(?:[\w.-]+-)?(gcc|cc|musl-gcc|clang|tcc)(?:-[\d.]+)?$")
INSTALL = re.compile(r"\b(apt-get|apt|apk|dnf5?|yum|microdnf)\b[^;&|]*\b(install|add)\b")
#: Options that link a program statically (gcc, clang).
STATIC_FLAGS = ("-static", "--static", "-static-pie")
#: The runtime's ``PATH`` when the image sets none (moby oci/defaults, DefaultPathEnv).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][\w.-]*)\2")


@dataclass
class Stage:
    """One ``FROM`` and the instructions after it, each with the ``WORKDIR`` it runs in."""

    base: str
    name: str | None
    index: int
    instructions: list[tuple[str, str]] = field(default_factory=list)   # (KEYWORD, rest)
    workdirs: list[str] = field(default_factory=list)                   # one per instruction

    def lines(self, keyword: str) -> list[str]:
        """The arguments of every ``keyword`` instruction (``RUN``, ``COPY`` ...)."""
        return [rest for kw, rest in self.instructions if kw == keyword]

    @property
    def base_name(self) -> str:
        """The base image's name without registry, tag or digest: ``gcc`` for ``gcc:13``."""
        name = self.base.split("@")[0].rsplit("/", 1)[-1]
        return name.split(":")[0].lower()

    def has_compiler(self) -> bool | None:
        """True: the base brings a compiler or a RUN installs one; False: a plain distro
        base and no install; None: an image we cannot tell about."""
        if self.base_name in COMPILER_IMAGES:
            return True
        if any(INSTALL.search(r) and COMPILER_PACKAGES.search(r) for r in self.lines("RUN")):
            return True
        if self.base_name in ("debian", "ubuntu", "alpine", "fedora", "busybox", "scratch"):
            return False
        return None

    def env_path(self) -> str:
        """The ``PATH`` the stage's image runs with: the last ``ENV PATH=...``, or the default."""
        found = DEFAULT_PATH
        for rest in self.lines("ENV"):
            match = re.search(r"(?:^|\s)PATH[= ]\s*[\"']?([^\"'\s]+)", rest)
            if match:
                found = match.group(1)
        return found


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile.

    Example:
        >>> parse("FROM alpine AS b\\nWORKDIR /src\\nRUN <<EOF\\ncc -static x.c\\nEOF\\n")[0].instructions
        [('WORKDIR', '/src'), ('RUN', '<<EOF\\ncc -static x.c\\nEOF')]
    """
    lines = iter(_logical_lines(str(text)))
    stages: list[Stage] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, rest = (line.split(None, 1) + [""])[:2]
        keyword, rest = keyword.upper(), rest.strip()
        for strip_tabs, _quote, word in _HEREDOC.findall(rest):
            for body in lines:
                rest += "\n" + body
                if (body.lstrip("\t") if strip_tabs else body) == word:
                    break
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(words[0] if words else "", name.lower() if name else None, len(stages)))
        elif stages:
            stage = stages[-1]
            before = stage.workdirs[-1] if stage.workdirs else "/"
            stage.instructions.append((keyword, rest))
            stage.workdirs.append(posixpath.normpath(posixpath.join(before, rest.strip("\"'")))
                                  if keyword == "WORKDIR" else before)
    return stages


def _logical_lines(text: str) -> list[str]:
    """The Dockerfile's lines with ``\\`` continuations joined; comment and empty lines
    inside a continuation are dropped, as the builder drops them."""
    out: list[str] = []
    joining = False
    for line in text.splitlines():
        if joining and (not line.strip() or line.lstrip().startswith("#")):
            continue
        stripped = line.rstrip()
        continues = stripped.endswith("\\")
        part = stripped[:-1] + " " if continues else line
        if joining:
            out[-1] += part
        else:
            out.append(part)
        joining = continues
    return out


def lineage(stage: Stage, stages: list[Stage]) -> list[Stage]:
    """``stage`` and the earlier stages it is built ``FROM``, oldest first."""
    by_name = {s.name: s for s in stages[:stage.index] if s.name}
    chain = [stage]
    while chain[0].base.lower() in by_name:
        chain.insert(0, by_name.pop(chain[0].base.lower()))
    return chain


@dataclass
class Copy:
    """One ``COPY``/``ADD``: its sources, destination (absolute), options and stage."""

    sources: list[str]
    dest: str
    options: dict[str, str]
    dest_is_dir: bool = False

    @property
    def source_stage(self) -> str | None:
        """The ``--from`` stage or image, lower-cased; None for the build context."""
        return self.options.get("from", "").lower() or None

    def lands(self, source: str) -> str:
        """Where the file ``source`` (one of :attr:`sources`) ends up in the image."""
        if len(self.sources) > 1 or self.dest.endswith("/") or self.dest_is_dir:
            return posixpath.join(self.dest, posixpath.basename(source.rstrip("/")))
        return self.dest


def copies(stage: Stage) -> list[Copy]:
    """Every ``COPY`` and ``ADD`` of ``stage``, destinations made absolute.

    Example:
        >>> c = copies(parse("FROM scratch\\nWORKDIR /app\\nCOPY --chmod=755 --from=b /hello .")[0])[0]
        >>> c.source_stage, c.sources, c.lands("/hello"), c.options["chmod"]
        ('b', ['/hello'], '/app/hello', '755')
    """
    found = []
    for (keyword, rest), workdir in zip(stage.instructions, stage.workdirs):
        if keyword not in ("COPY", "ADD") or rest.startswith("<<"):
            continue
        words = _exec_form(rest) or rest.split()
        options = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
        paths = [w for w in words if not w.startswith("--")]
        if len(paths) < 2:
            continue
        dest = paths[-1]
        absolute = posixpath.normpath(posixpath.join(workdir, dest))
        copy = Copy(paths[:-1], absolute + ("/" if dest.endswith("/") and absolute != "/" else ""), options)
        copy.dest_is_dir = dest.endswith("/") or dest in (".", "./") or absolute == "/"
        found.append(copy)
    return found


@dataclass
class Compile:
    """One compiler (or ``make``) run, or a ``cp``/``mv`` of its program: its words,
    folder, output path and linking."""

    words: list[str]
    cwd: str
    output: str | None      # absolute path of the program; None when it cannot be told
    static: bool


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, as words, ``#`` comments dropped."""
    commands = []
    for line in script.splitlines():
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words = list(lexer)
        except ValueError:                       # an unclosed quote: fall back to spaces
            words = line.split("#")[0].split()
        command: list[str] = []
        for word in words:
            if word and set(word) <= set(";&|"):
                commands.append(command)
                command = []
            else:
                command.append(word)
        commands.append(command)
    return [c for c in commands if c]


def run_script(rest: str) -> str:
    """The shell script a ``RUN`` runs: its here-document bodies, or the command itself."""
    rest = " ".join(w for w in rest.split(" ") if not w.startswith("--")) if rest.startswith("--") else rest
    if rest.startswith("<<"):
        return "\n".join(rest.splitlines()[1:-1])
    return " ".join(_exec_form(rest) or []) if rest.startswith("[") else rest


def compiles(stage: Stage) -> list[Compile]:
    """Every compiler run in ``stage``'s ``RUN`` instructions (``cd`` inside a RUN followed).

    Example:
        >>> [c.static for c in compiles(parse("FROM gcc\\nRUN gcc -o /a a.c # -static")[0])]
        [False]
    """
    found = []
    for (keyword, rest), workdir in zip(stage.instructions, stage.workdirs):
        if keyword != "RUN":
            continue
        cwd = workdir
        for words in shell_commands(run_script(rest)):
            program = next((w for w in words if "=" not in w or w.startswith("-")), "")
            if program == "cd" and len(words) > 1:
                cwd = posixpath.normpath(posixpath.join(cwd, words[1]))
            elif COMPILER.match(program):
                found.append(Compile(words, cwd, _output(words, cwd, "a.out"),
                                     any(w in STATIC_FLAGS for w in words)))
            elif program in ("cp", "mv", "install") and found:
                paths = [w for w in words[1:] if not w.startswith("-")]
                if len(paths) == 2:
                    source = posixpath.normpath(posixpath.join(cwd, paths[0]))
                    made = next((c for c in reversed(found) if c.output == source), None)
                    if made is not None:
                        dest = posixpath.normpath(posixpath.join(cwd, paths[1]))
                        if paths[1].endswith("/") or paths[1] in (".", ".."):
                            dest = posixpath.join(dest, posixpath.basename(source))
                        found.append(Compile(words, cwd, dest, made.static))
            elif posixpath.basename(program) == "make":
                targets = [w for w in words[words.index(program) + 1:] if not w.startswith("-") and "=" not in w]
                found.append(Compile(words, cwd, posixpath.join(cwd, targets[0]) if len(targets) == 1 else None,
                                     any(re.search(r"(?:^|[=\s\"'])-?-static(?:-pie)?\b", w) for w in words)))
    return found


def _output(words: list[str], cwd: str, default: str) -> str | None:
    """The absolute path a compiler's ``-o`` names (``a.out`` without one); None when it
    names a variable (``-o $OUT``), which this reader does not expand."""
    out = default
    for i, word in enumerate(words):
        if word == "-o" and i + 1 < len(words):
            out = words[i + 1]
        elif word.startswith("-o") and len(word) > 2:
            out = word[2:]
    return None if "$" in out else posixpath.normpath(posixpath.join(cwd, out))


def _exec_form(rest: str) -> list[str] | None:
    """The JSON list of an exec-form instruction, or None when it is the shell form (as
    the builder decides: anything that is not a JSON list of strings)."""
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def command(stage: Stage) -> tuple[str, list[str] | None] | None:
    """The stage's last ``ENTRYPOINT`` or ``CMD`` (the one the image keeps) as
    ``(keyword, argv)``; ``argv`` is None for the shell form; None when there is none.

    Example:
        >>> command(parse("FROM scratch\\nCMD ['/hello']")[0])
        ('CMD', None)
    """
    entry = [rest for kw, rest in stage.instructions if kw == "ENTRYPOINT"]
    cmd = [rest for kw, rest in stage.instructions if kw == "CMD"]
    if entry:
        return "ENTRYPOINT", _exec_form(entry[-1])
    if cmd:
        return "CMD", _exec_form(cmd[-1])
    return None
