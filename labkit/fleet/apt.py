"""Fetch Debian packages with a private apt, using the machine's own archive.

The archive URI comes from the machine's apt source list (one-line ``*.list`` and deb822
``*.sources``); nothing is installed system-wide: lists, cache and downloads live under
``~/.cache/labkit``.

Example:
    >>> from labkit.fleet import apt
    >>> apt.parse_one_line("deb [arch=amd64] http://mirror/debian bookworm main")[0].suites
    ('bookworm',)
"""
from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from labkit.errors import FleetError, MissingTool

log = logging.getLogger("labkit.fleet")

DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# Suite names of Debian's main archive (not -security/-updates/-backports pockets).
DEBIAN_SUITES = {"buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
                 "oldoldstable", "oldstable", "stable", "testing", "unstable"}


@dataclass(frozen=True)
class Source:
    """One apt source: every URI x suite it names, with its options.

    ``options`` keys are lower-case (``signed-by``, ``trusted``, ``arch``...).
    """

    types: tuple
    uris: tuple
    suites: tuple
    components: tuple
    options: dict = field(default_factory=dict)
    enabled: bool = True
    origin: str = ""


def parse_one_line(text: str, origin: str = "") -> list[Source]:
    """Parse the one-line format (``sources.list``, ``*.list``).

    ``deb [opt=val ...] URI SUITE [COMPONENT...]``; ``#`` starts a comment.
    """
    sources = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        options = {}
        found = re.match(r"^(\S+)\s+\[([^\]]*)\]\s+(.*)$", line)
        if found:
            kind, opts, rest = found.groups()
            for opt in opts.split():
                key, _, value = opt.partition("=")
                options[key.lower()] = value
        else:
            kind, _, rest = line.partition(" ")
        words = rest.split()
        if kind not in ("deb", "deb-src") or len(words) < 2:
            log.warning("%s: ignoring malformed apt source line %r", origin, line)
            continue
        sources.append(Source(types=(kind,), uris=(words[0],), suites=(words[1],),
                              components=tuple(words[2:]), options=options, origin=origin))
    return sources


def parse_deb822(text: str, origin: str = "") -> list[Source]:
    """Parse the deb822 format (``*.sources``): stanzas of ``Field: value`` lines.

    Comment lines start with ``#``; continuation lines start with white space;
    ``Enabled: no`` disables a stanza.
    """
    sources = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += "\n" + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if not fields:
            continue
        if not {"types", "uris", "suites"} <= set(fields):
            log.warning("%s: ignoring a deb822 stanza without Types/URIs/Suites", origin)
            continue
        options = {k: v for k, v in fields.items()
                   if k not in ("types", "uris", "suites", "components", "enabled")}
        sources.append(Source(
            types=tuple(fields["types"].split()), uris=tuple(fields["uris"].split()),
            suites=tuple(fields["suites"].split()),
            components=tuple(fields.get("components", "").split()), options=options,
            enabled=fields.get("enabled", "yes").lower() not in ("no", "false", "0"),
            origin=origin,
        ))
    return sources


def machine_sources(etc: Path = Path("/etc/apt")) -> list[Source]:
    """Every enabled source of the machine: ``sources.list`` plus ``sources.list.d``.

    Files in ``sources.list.d`` count only when named ``*.list`` or ``*.sources``
    (apt ignores ``*.disabled``, ``*.save`` and the like, and so do we).
    """
    found = []
    main = etc / "sources.list"
    if main.is_file():
        found += parse_one_line(main.read_text(), str(main))
    parts = etc / "sources.list.d"
    for path in sorted(parts.glob("*")) if parts.is_dir() else []:
        if path.suffix == ".list":
            found += parse_one_line(path.read_text(), str(path))
        elif path.suffix == ".sources":
            found += parse_deb822(path.read_text(), str(path))
    return [s for s in found if s.enabled]


def debian_archive(sources: list[Source]) -> tuple[str, str | None]:
    """The Debian archive URI and the keyring that signs it.

    Returns:
        ``(uri, keyring)``; ``keyring`` is ``None`` when no keyring file is available
        (the caller then falls back to ``trusted=yes`` with a warning).

    Raises:
        FleetError: no source names a Debian suite.
    """
    for source in sources:
        if "deb" in source.types and DEBIAN_SUITES & set(source.suites):
            keyring = source.options.get("signed-by")
            if keyring and not Path(keyring).is_file():
                keyring = None
            if keyring is None and DEBIAN_KEYRING.is_file():
                keyring = str(DEBIAN_KEYRING)
            return source.uris[0].rstrip("/"), keyring
    raise FleetError("no Debian archive in the machine's apt sources",
                     hint="add a 'deb <mirror>/debian bookworm main' source, "
                          "or use archive:/path/docker-X.tgz")


class PrivateApt:
    """apt with its own source list, lists and cache under ``root`` (nothing system-wide).

    Args:
        root: e.g. ``~/.cache/labkit/apt``.
        uri: the Debian archive URI (from :func:`debian_archive`).
        keyring: the keyring file, or ``None`` for ``trusted=yes`` (warned).
    """

    def __init__(self, root: Path, uri: str, keyring: str | None):
        self.root, self.uri, self.keyring = Path(root), uri, keyring
        for sub in ("lists/partial", "cache/archives/partial", "etc"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.sourcelist = self.root / "etc" / "sources.list"

    def _options(self) -> list[str]:
        settings = {
            "Dir::Etc::sourcelist": self.sourcelist, "Dir::Etc::sourceparts": "-",
            "Dir::State::Lists": self.root / "lists", "Dir::Cache": self.root / "cache",
            "Dir::State::status": "/dev/null", "Dir::Etc::preferences": "/dev/null",
            "Dir::Etc::preferencesparts": "-", "APT::Sandbox::User": "root",
            "Debug::NoLocking": "1", "Acquire::Languages": "none",
        }
        return [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]

    def _run(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        cmd = [tool, *self._options(), *args]
        try:
            done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        except FileNotFoundError:
            raise MissingTool(f"{tool} is not installed", hint="the fleet needs Debian's apt") from None
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise FleetError(f"{tool} {args[0]} failed: {tail}",
                             hint="check the network and the machine's apt sources")
        return done.stdout

    def update(self, suites: list[str]) -> None:
        """Write the private source list for ``suites`` and run ``apt-get update``."""
        if self.keyring:
            option = f"[signed-by={self.keyring}]"
        else:
            log.warning("no Debian keyring found: package signatures are NOT checked "
                        "(install debian-archive-keyring)")
            option = "[trusted=yes]"
        self.sourcelist.write_text("".join(
            f"deb {option} {self.uri} {suite} main\n" for suite in sorted(set(suites))))
        self._run("apt-get", "update", "-q")

    def suites_listed(self) -> set[str]:
        """Suites the private source list currently names (empty before any update)."""
        if not self.sourcelist.is_file():
            return set()
        return {s for src in parse_one_line(self.sourcelist.read_text()) for s in src.suites}

    def versions(self, packages: list[str]) -> dict[tuple[str, str], list[str]]:
        """``(package, suite) -> [versions]`` known to the private lists."""
        table: dict[tuple[str, str], list[str]] = {}
        for line in self._run("apt-cache", "madison", *packages).splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 3 or not parts[2].endswith("Packages"):
                continue
            suite = parts[2].split()[1].split("/")[0]
            table.setdefault((parts[0], suite), []).append(parts[1])
        return table

    def download(self, pins: list[str], dest: Path) -> None:
        """``apt-get download pkg=version...`` into ``dest``."""
        dest.mkdir(parents=True, exist_ok=True)
        self._run("apt-get", "download", "-q", *pins, cwd=dest)
