"""What a failed ``docker build`` says, read from its output: the step that failed, the
builder's own error line, and the line of the step's output that tells why (a
compiler's ``fatal error: ...``, apt's ``E: ...``).

Both builders: BuildKit's plain progress (``#7 [build 3/3] RUN ...``, ``#7 ERROR: ...``)
and the legacy builder's (``Step 3/6 : RUN ...``, its last line).

Example:
    >>> out = "#7 [build 3/3] RUN gcc x.c\\n#7 0.3 x.c:1:10: fatal error: m.h: No such file\\n" \\
    ...       "#7 ERROR: executor failed running [/bin/sh -c gcc x.c]: exit code: 1\\n"
    >>> failure(out).step, failure(out).detail
    ('[build 3/3] RUN gcc x.c', 'x.c:1:10: fatal error: m.h: No such file')
"""
from __future__ import annotations

import dataclasses
import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_WHY = re.compile(r"error|not found|no such|unable|cannot|can't|denied|refused|no installation candidate|"
                  r"undefined reference|could not|failed|E: ", re.I)
#: What a failure outside the answer looks like: an image that cannot be pulled, no network.
NO_NETWORK = re.compile(r"no such host|temporary failure (in name )?resolution|temporary failure resolving|"
                        r"could not resolve|network is unreachable|dial tcp|i/o timeout|failed to fetch|"
                        r"connection (refused|timed out)|no route to host|tls handshake timeout", re.I)
PULL = re.compile(r"pull access denied|failed to resolve source metadata|manifest unknown|"
                  r"repository does not exist|not found: manifest|failed to (do request|authorize)|"
                  r"error pulling image|registry-1\.docker\.io|no match for platform", re.I)


@dataclasses.dataclass
class Failure:
    """Why a build stopped: ``step`` (``[build 3/3] RUN gcc ...`` or ``Step 3/6 : RUN
    gcc ...``; empty when the Dockerfile never got to a step), ``error`` (the builder's
    own error line), ``detail`` (the step's own words, when it printed any)."""

    step: str
    error: str
    detail: str = ""

    def text(self) -> str:
        """One or two lines: the step, and what it said."""
        where = f"the step {self.step} failed" if self.step else "the build stopped before its first step"
        said = self.detail if self.detail and self.detail not in self.error else ""
        return f"{where}: \"{self.error}\"" + (f" (it printed: \"{said}\")" if said else "")

    @property
    def words(self) -> str:
        """Everything it said, for matching (error and detail)."""
        return f"{self.error}\n{self.detail}"


def _clean(output: str) -> list[str]:
    return [_ANSI.sub("", line).rstrip() for line in output.replace("\r", "\n").splitlines()]


def failure(output: str) -> Failure:
    """The failure a build's output shows (BuildKit's or the legacy builder's)."""
    lines = [ln for ln in _clean(output) if ln.strip()]
    if any(re.match(r"#\d+ ", ln) for ln in lines):
        return _buildkit(lines)
    return _legacy(lines)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _buildkit(lines: list[str]) -> Failure:
    errors = [(m.group(1), m.group(2)) for m in (re.match(r"#(\d+) ERROR: (.*)", ln) for ln in lines) if m]
    last = lines[-1] if lines else "no output"
    for prefix in ("ERROR: ", "error: "):
        last = last.split(prefix, 1)[-1] if last.startswith(prefix) else last
    if not errors:
        return Failure("", _short(last))
    number, error = errors[-1]
    step = next((m.group(1) for m in (re.match(rf"#{number} (\[.+?\] .*)", ln) for ln in lines) if m), "")
    said = [m.group(1) for m in (re.match(rf"#{number} \d+\.\d+ (.*)", ln) for ln in lines) if m]
    detail = next((ln for ln in reversed(said) if _WHY.search(ln)), said[-1] if said else "")
    return Failure(_short(step, 160), _short(error), _short(detail.strip()))


def _legacy(lines: list[str]) -> Failure:
    steps = [i for i, ln in enumerate(lines) if re.match(r"Step \d+/\d+ : ", ln)]
    error = lines[-1] if lines else "no output"
    for prefix in ("Error response from daemon: ", "error: "):
        error = error.split(prefix, 1)[-1] if prefix in error else error
    if not steps:
        return Failure("", _short(error))
    said = [ln for ln in lines[steps[-1] + 1:-1] if not ln.startswith((" ---> ", "Removing intermediate"))]
    detail = next((ln for ln in reversed(said) if _WHY.search(ln)), "")
    return Failure(_short(lines[steps[-1]], 160), _short(error), _short(detail.strip()))
