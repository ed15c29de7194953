"""How a ``%%terminal`` cell's text reads as shell: its command lines, the programs they
start, the variables they need and the ``work/`` files they name.

Example:
    >>> lines("docker load -i work/02/hello.tar\\n# a comment\\ndocker run --rm \\\\\\n  hello:labkit")
    ['docker load -i work/02/hello.tar', 'docker run --rm hello:labkit']
    >>> programs("docker save hello:labkit | tar -tv")
    ['docker', 'tar']
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
from pathlib import Path

#: Shell words that join commands; the word after each one names a program.
_JOINS = {"|", "||", "&&", ";", "&"}
#: Debian packages that give a program a lesson line may use (for the "install" hint).
PACKAGES = {"docker": "docker.io", "tar": "tar", "file": "file", "xxd": "xxd",
            "hexdump": "bsdextrautils", "skopeo": "skopeo", "umoci": "umoci", "runc": "runc",
            "curl": "curl", "jq": "jq", "truncate": "coreutils", "sha256sum": "coreutils"}
#: Builtins and programs every POSIX shell has: never a reason to replay.
SHELL = {"cd", "echo", "printf", "export", "true", "false", "test", "[", "set", "unset", "ls", "cat",
         "mkdir", "rm", "cp", "mv", "head", "tail", "wc", "sort", "sh"}


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
        >>> programs("docker export lab-03 | tar -tv")
        ['docker', 'tar']
    """
    found, expect = [], True
    for word in words(_SUBSTITUTION.sub(" ; ", line)):
        if word in _JOINS or (expect and word in ("export", "then", "do", "else")):
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
    found = {}
    for word in words(line):
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


def words(line: str) -> list[str]:
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
    typed = [w for w in words(line) if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w)]
    if typed[:1] != ["docker"]:
        return set()
    rest = typed[1:]
    if rest[:2] in (["image", "build"], ["image", "import"], ["container", "commit"], ["buildx", "build"]):
        rest = rest[1:]
    if rest[:1] == ["build"]:
        return {w.split("=", 1)[-1] for i, w in enumerate(rest)
                if w.startswith("--tag=") or (i and rest[i - 1] in ("-t", "--tag"))}
    if rest[:1] in (["import"], ["commit"]):
        args = [w for w in rest[1:] if not w.startswith("-")]
        return set(args[1:2])
    return set()
