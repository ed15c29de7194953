"""Reading a learner's multi-stage Dockerfile, for checker 02.4: its stages and what each does.

Only what the checker needs: stages (base image, name), and per stage its instructions
with line continuations joined. Not a full Dockerfile parser (no ARG expansion).

Example:
    >>> stages = parse("FROM gcc:13 AS build\\nRUN gcc -static -o /hello hello.c\\nFROM scratch\\n")
    >>> [(s.base, s.name) for s in stages]
    [('gcc:13', 'build'), ('scratch', None)]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Base images that come with a C compiler (the official gcc image, buildpack-deps).
COMPILER_IMAGES = ("gcc", "buildpack-deps")
#: Packages that bring a C compiler, as apt or apk install them.
COMPILER_PACKAGES = re.compile(r"\b(gcc|build-essential|build-base|clang|musl-tools|tcc)\b")
#: A compiler being run: the first word of a shell command (``x86_64-linux-gnu-gcc-12`` too).
COMPILER = re.compile(r"^(?:\S*/)?(?:[\w.-]+-)?(gcc|cc|musl-gcc|clang|tcc)(?:-[\d.]+)?$")
INSTALL = re.compile(r"\b(apt-get|apt|apk|dnf|yum|microdnf)\b[^;&|]*\b(install|add)\b")


@dataclass
class Stage:
    """One ``FROM`` and the instructions after it."""

    base: str
    name: str | None
    index: int
    instructions: list[tuple[str, str]] = field(default_factory=list)   # (KEYWORD, rest)

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


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile (comments dropped, ``\\`` continuations joined)."""
    joined = re.sub(r"\\\s*\n", " ", str(text))
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(words[0] if words else "", name.lower() if name else None, len(stages)))
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return stages


def copy_from(stage: Stage) -> list[tuple[str, str]]:
    """``(source stage, arguments)`` of each ``COPY --from=...`` in ``stage``, any flags
    (``--link``, ``--chmod=755`` ...) in any order."""
    found = []
    for rest in stage.lines("COPY"):
        match = re.search(r"--from=(\S+)", rest)
        if match:
            args = " ".join(w for w in rest.split() if not w.startswith("--"))
            found.append((match.group(1).lower(), args))
    return found


def compiles_static(stage: Stage) -> tuple[bool, bool]:
    """``(compiles, statically)``: whether a RUN in ``stage`` runs a C compiler, and whether
    every such command links statically (``-static``).

    Example:
        >>> compiles_static(parse("FROM gcc AS b\\nRUN apt-get install -y gcc && gcc -static x.c")[0])
        (True, True)
    """
    commands = [c.split() for r in stage.lines("RUN") for c in re.split(r"&&|\|\||;|\|", r)]
    compiles = [words for words in commands
                if words and COMPILER.match(next((w for w in words if "=" not in w), ""))]
    return bool(compiles), bool(compiles) and all("-static" in words for words in compiles)
