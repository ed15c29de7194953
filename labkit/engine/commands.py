"""The ``docker`` command a learner would type, run for real, and what it printed.

Every step of a lesson that touches an engine also shows the command line that does the
same at a terminal. :meth:`CommandsMixin.docker` runs it through the docker CLI that
belongs to the engine (same version where there is one), exactly as shown, and returns a
:class:`CommandRun`: the command as typed, its exit status and its output as a terminal
shows it (standard error and output in the order they came). On a Podman engine it runs
the ``podman`` command a learner types there instead (:mod:`labkit.engine.podman`), with
the docker form kept beside it where the two differ. Running them is
:mod:`labkit.engine.cli`'s; this module is what they print, and what of it varies.

Some of what a command prints differs on every run: IDs the engine derives from the
build's date, durations, "2 seconds ago". :func:`varying_spans` finds those parts, so a
recording can be compared with a fresh run, and a lesson can mark them.

Example:
    >>> run = CommandRun("docker images lab/hello:legacy", 0,
    ...                  "REPOSITORY  TAG  IMAGE ID  CREATED  SIZE\\n"
    ...                  "lab/hello  legacy  3ea01432caea  2 seconds ago  170B\\n")
    >>> masked(run, {"3ea01432caea"})
    'REPOSITORY  TAG  IMAGE ID  CREATED  SIZE\\nlab/hello  legacy  <varies>  <varies>  170B\\n'
"""
from __future__ import annotations

import dataclasses
import re
import shlex
from typing import Iterable, Sequence

VARIES = "<varies>"

# --- what differs on every run ---------------------------------------------------------
#: IDs the engine makes up or derives from the build's date, found by what precedes them.
ENGINE_ID_PATTERNS = [re.compile(p) for p in (
    r" ---> ([0-9a-f]{12})\b",                                   # legacy builder steps
    r"Running in ([0-9a-f]{12})\b",
    r"Remov(?:ing|ed) intermediate container ([0-9a-f]{12})\b",
    r"Successfully built ([0-9a-f]{12})\b",
    r"(?:writing image|exporting manifest|exporting config|exporting attestation manifest|"
    r"exporting manifest list) sha256:([0-9a-f]{64})",            # BuildKit
    r"(?m)^#\d+ sha256:([0-9a-f]{64})$",                          # BuildKit <= 0.8 step digests
    r"(?m)^sha256:([0-9a-f]{64})$",                               # docker import
    r"(?m)^([0-9a-f]{64})$",                                      # docker run -d: the container
    r"(?m)^--> ([0-9a-f]{11,12})$",                               # podman build (Buildah) steps
    r"container ([0-9a-f]{64}) for attach",                       # podman run: a start that failed
)]
#: The platform Docker detects for the machine it runs on names the processor's feature
#: level (``linux/amd64/v3`` on one machine, ``/v4`` on the next): it follows the machine.
HOST_PLATFORM_RE = r"detected host platform \((linux/[a-z0-9]+(?:/v\d+)?)\)"
HOST_PLATFORM = re.compile(HOST_PLATFORM_RE)


def machine_neutral(text: str) -> str:
    """``text`` with what follows the machine rather than the engine masked: the detected
    host platform's feature level.

    Example:
        >>> machine_neutral("does not match the detected host platform (linux/amd64/v4) and")
        'does not match the detected host platform (<varies>) and'
    """
    return HOST_PLATFORM.sub(f"detected host platform ({VARIES})", text)


#: Text that differs on every run wherever it appears.
ALWAYS_VARIES = [re.compile(p) for p in (
    r"\b(?:Less than a second|About a minute|About an hour|\d+ (?:second|minute|hour|day|week|"
    r"month|year)s?) ago\b",                                      # docker images / history
    r"\bERRO\[\d+\](?! error waiting for container)",              # CLI log lines: seconds since start
    r"\b(?!1970-01-01 00:00)\d{4}-\d\d-\d\d \d\d:\d\d\b",          # tar -tv dates (1970 is fixed)
    r"transferring (?:dockerfile|context): (\d+(?:\.\d+)?[kMG]?B)",    # BuildKit sends what changed
    r"(?m)^Date: (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT)",     # an HTTP answer's date (curl -i)
    r"\b127\.0\.0\.1:(\d{2,5})\b",                                 # a registry's free port
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",   # a registry's upload session
    r"[?&]_state=([^&\s]+)",                                       # ... and its opaque state
    HOST_PLATFORM_RE,                                             # the machine's CPU level, not the engine's
    r"/tmp/[A-Za-z_.-]+(\d{6,})(?=[/:\s])",                        # Podman's temporary files for a load
)]
#: Durations BuildKit prints, and only when a step took long enough: masked by removing
#: them (with the space before), so "exporting layers 0.0s done" = "exporting layers done".
DURATION = re.compile(r" \d+\.\d+s\b")
#: Lines printed only sometimes, masked by removing them like durations: when a container
#: fails to start, the 20.10 CLI's wait for it races its own cancel and, about one run in
#: four, also logs (with the time) that the wait was cancelled.
#: The span takes the line with the line break before it (or, first in the output, after
#: it), so the text left is the same whether the line came or not.
_WAIT_CANCELLED = (r'(?:time="[^"\n]*" level=error msg="error waiting for container: [^"\n]*"'
                   r'|ERRO\[\d+\] error waiting for container: [^\n]*)')
SOMETIMES = re.compile(rf"\n{_WAIT_CANCELLED}(?=\n|$)|^{_WAIT_CANCELLED}(?:\n|$)")
#: In the listing of a ``docker save`` of an image built just now, every name that is a
#: digest: the config, and (Docker 20.10) the folders named after v1 IDs, hold the date.
SAVED_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
#: A line of ``docker image rm``: an image or layer it deleted (what else the engine holds
#: decides which go), with the line break before it (after it, for the output's first line).
_DELETED = r"Deleted: (?:sha256:)?[0-9a-f]{64}"
DELETED_LINE = re.compile(rf"\n{_DELETED}(?=\n|$)|^{_DELETED}(?:\n|$)")
#: The SIZE column of ``docker images`` (last on each row).
IMAGES_SIZE = re.compile(r"(?m)(?<=\s)\d+(?:\.\d+)? ?[kMGT]?B$")      # Podman: "2.42 kB"
#: The size ``docker image inspect --format '{{.Id}} {{.Size}}'`` prints last on its line.
INSPECT_SIZE = re.compile(r"(?m)(?<= )\d+$")
#: ``docker system df`` counts every image on the engine, not only the lesson's.
SYSTEM_DF_NUMBER = re.compile(r"\b\d+(?:\.\d+)?(?:[kMGT]?B)?(?: \(\d+%\))?(?=\s|$)")


@dataclasses.dataclass(frozen=True)
class CommandRun:
    """One docker command line, run for real.

    Attributes:
        command: as a learner types it, e.g. ``DOCKER_BUILDKIT=0 docker build -t lab/hello .``.
        exit_code: its exit status (None: it could not start or timed out).
        output: what it printed, standard error and output together, in order.
        docker_form: on a Podman engine, the docker command a lesson names for the same
            step, where it differs from ``command`` beyond the program's name (else None).

    Example:
        >>> CommandRun("docker run --rm lab/hello", 0, "Hello\\n").to_dict()["exit_code"]
        0
    """

    command: str
    exit_code: int | None
    output: str
    docker_form: str | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (``docker_form`` only where there is one)."""
        data = dataclasses.asdict(self)
        if self.docker_form is None:
            del data["docker_form"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CommandRun":
        """The inverse of :meth:`to_dict`."""
        return cls(str(data["command"]), data.get("exit_code"), str(data.get("output", "")),
                   data.get("docker_form"))

    def __str__(self) -> str:
        return f"$ {self.command}\n{self.output}"


def engine_ids(runs: Iterable[CommandRun]) -> set[str]:
    """The IDs the engine assigned in these runs (from build output and the like), each
    also in its 12-digit short form.

    Example:
        >>> sorted(engine_ids([CommandRun("docker build .", 0, " ---> 3ea01432caea\\n")]))
        ['3ea01432caea']

        A container started with ``docker run -d`` is named by the ID it prints, and
        its short form appears wherever the container is named later:

        >>> started = CommandRun("docker run -d lab/x", 0, "9d77ed62" * 8 + "\\n")
        >>> sorted(engine_ids([started]))
        ['9d77ed629d77', '9d77ed629d77ed629d77ed629d77ed629d77ed629d77ed629d77ed629d77ed62']
    """
    found: set[str] = set()
    for run in runs:
        for pattern in ENGINE_ID_PATTERNS:
            found.update(m.group(1) for m in pattern.finditer(run.output))
    return found | {i[:12] for i in found}


def varying_spans(run: CommandRun, ids: Iterable[str] = (), *, built_now: bool = False,
                  sizes_vary: bool = False, stable: Iterable[str] = ()) -> list[tuple[int, int, str]]:
    """Where ``run.output`` differs on every run: ``(start, end, kind)`` spans, sorted and
    disjoint; ``kind`` is ``"value"`` (a different value each run) or ``"time"`` (a
    duration, printed only sometimes).

    Args:
        run: the command and its output.
        ids: engine-assigned IDs known to vary (full or 12-digit; see :func:`engine_ids`).
        built_now: the image was built (or imported) just now, so the digests in a
            ``docker save`` listing hold its date.
        sizes_vary: the sizes ``docker images`` lists count the config, whose length
            follows the build's date (the containerd image store).
        stable: IDs known to be the same on every run (a build whose config holds no
            date), not marked even where a pattern would take them for made-up ones.

    Example:
        >>> run = CommandRun("docker run --rm lab/x", 125,
        ...     "docker: Error response from daemon: unable to find user nobody.\\n"
        ...     'time="2026-11-27T10:54:37Z" level=error msg="error waiting for container: '
        ...     'context canceled"\\n')
        >>> [(run.output[a:b][:6], kind) for a, b, kind in varying_spans(run)]
        [('\\ntime=', 'time')]
        >>> masked(run)
        'docker: Error response from daemon: unable to find user nobody.\\n'
        >>> masked(CommandRun("docker run", 125, run.output.splitlines(True)[1] + "no user\\n"))
        'no user\\n'
    """
    text, spans, stable = run.output, [], set(stable)
    for pattern in ENGINE_ID_PATTERNS:
        spans += [m.span(1) for m in pattern.finditer(text) if m.group(1) not in stable]
    for pattern in ALWAYS_VARIES:        # the group where there is one, else the match
        spans += [m.span(1 if pattern.groups else 0) for m in pattern.finditer(text)]
    for ident in sorted({i for i in ids if i}, key=len, reverse=True):   # the whole hex word:
        spans += [m.span() for m in re.finditer(re.escape(ident) + "[0-9a-f]*", text)]  # Buildah prints 11
    if built_now and _is(run, "save"):
        spans += [m.span() for m in SAVED_DIGEST.finditer(text)]
    if sizes_vary and _is(run, "images"):
        spans += [m.span() for m in IMAGES_SIZE.finditer(text)]
    if sizes_vary and _is(run, "image inspect") and "{{.Size}}" in run.command:
        spans += [m.span() for m in INSPECT_SIZE.finditer(text)]
    if _is(run, "system df"):
        header = text.find("\n") + 1                             # the numbers, not the heading
        spans += [(header + a, header + b) for a, b in
                  (m.span() for m in SYSTEM_DF_NUMBER.finditer(text[header:]))]
    marked = [(a, b, "value") for a, b in spans]
    if _is(run, "build") or "buildx" in run.command:
        # BuildKit numbers its steps as it meets them, and that order varies from run to run
        partial = buildkit_partial_lines(text)      # printed only sometimes: removed whole
        marked = [m for m in marked if not any(a <= m[0] < b for a, b in partial)]
        marked += [(*m.span(1), "step") for m in BUILDKIT_STEP_NUMBER.finditer(text)
                   if not any(a <= m.start() < b for a, b in partial)]
        marked += [(a, b, "time") for a, b in partial]
    if _is(run, "image rm") or _is(run, "rmi"):
        # "Deleted:" names the layers no other image on the engine still uses: the same
        # command deletes more or fewer of them as the engine holds other images
        deleted = [m.span() for m in DELETED_LINE.finditer(text)]
        marked = [m for m in marked if not any(a <= m[0] < b for a, b in deleted)]
        marked += [(a, b, "time") for a, b in deleted]
    marked += [(*m.span(), "time") for m in DURATION.finditer(text)]
    marked += [(*m.span(), "time") for m in SOMETIMES.finditer(text)]
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(marked):
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(end, last[1]), min((kind, last[2]), key=("value", "step", "time").index))
        elif end > start:
            merged.append((start, end, kind))
    return merged


def _is(run: CommandRun, verb: str) -> bool:
    """True when ``run`` is ``docker VERB`` or ``podman VERB`` (after ``KEY=value`` words)."""
    return re.match(rf"(?:\S+=\S* )*(?:docker|podman) {verb}\b", run.command) is not None


#: Runs of spaces that align a table's columns: their width follows the widest value,
#: which may be one that varies, so comparisons take any such run as one.
PADDING = re.compile(r"(?<=\S)  +")


BUILDKIT_STEP = re.compile(r"^#(\d+) ")
BUILDKIT_STEP_NUMBER = re.compile(r"^#(\d+) ", re.M)


def masked(run: CommandRun, ids: Iterable[str] = (), *, built_now: bool = False,
           sizes_vary: bool = False) -> str:
    """``run.output`` with every varying value replaced by ``<varies>``, durations removed,
    every column padding (two spaces or more) made two spaces, and BuildKit's progress
    in a canonical order (:func:`buildkit_canonical`)."""
    out, last = [], 0
    for start, end, kind in varying_spans(run, ids, built_now=built_now, sizes_vary=sizes_vary):
        if kind == "step":                      # kept: buildkit_canonical renumbers the steps
            continue
        out += [run.output[last:start], VARIES if kind == "value" else ""]
        last = end
    return buildkit_canonical(PADDING.sub("  ", "".join(out + [run.output[last:]])))


def buildkit_partial_lines(text: str) -> list[tuple[int, int]]:
    """Spans (each with its line break) of BuildKit progress lines printed while a sub-step
    was still running, whenever a later line of the same step repeats them with more:
    ``#2 transferring context:`` before ``#2 transferring context: 2B done`` comes or not,
    depending on timing.

    Example:
        >>> text = "#2 transferring context:\\n#2 transferring context: 2B done\\n#2 DONE 0.0s\\n"
        >>> [text[a:b] for a, b in buildkit_partial_lines(text)]
        ['#2 transferring context:\\n']
    """
    lines, spans, start = text.splitlines(keepends=True), [], 0
    for i, line in enumerate(lines):
        bare = line.rstrip("\n")
        match = BUILDKIT_STEP.match(bare)
        if match and any(later.startswith(bare) and later.rstrip("\n") != bare
                         for later in lines[i + 1:] if later.startswith(f"#{match.group(1)} ")):
            spans.append((start, start + len(line)))
        start += len(line)
    return spans


def buildkit_canonical(text: str) -> str:
    """BuildKit's plain progress without what depends on timing: the steps' numbers (given
    in the order BuildKit meets them) replaced by ``#?`` and the steps sorted by their
    first line, a step's lines sorted, and a line dropped when a later line of the same
    step starts with it (the same sub-step, printed again once done). Text without
    BuildKit steps is returned as is.

    Example:
        >>> buildkit_canonical("#5 exporting layers\\n#5 writing image\\n#5 exporting layers done\\n")
        '#? exporting layers done\\n#? writing image\\n'
        >>> a = buildkit_canonical("#3 [1/2] FROM\\n#4 [2/2] COPY x\\n#3 DONE\\n#4 DONE\\n")
        >>> a == buildkit_canonical("#4 [1/2] FROM\\n#3 [2/2] COPY x\\n#4 DONE\\n#3 DONE\\n")
        True
    """
    steps: dict[str, list[str]] = {}
    other = []
    for line in text.splitlines():
        match = BUILDKIT_STEP.match(line)
        if match:
            steps.setdefault(match.group(1), []).append("#? " + line[match.end():])
        elif line.strip():
            other.append(line)
    if not steps:
        return text
    kept = []
    for block in sorted(steps.values(), key=lambda lines: lines[0]):
        kept += sorted({ln for i, ln in enumerate(block)
                        if not any(later != ln and later.startswith(ln) for later in block[i + 1:])})
    return "\n".join(other + kept) + "\n"


def shown(args: Sequence[str], env: dict[str, str] | None = None,
          pipe: Sequence[str] | None = None, tool: str = "docker") -> str:
    """The command line as typed: ``KEY=value docker ARGS [| PIPE]`` (``podman ARGS``
    with ``tool="podman"``).

    Example:
        >>> shown(["build", "-t", "lab/hello", "."], {"DOCKER_BUILDKIT": "0"})
        'DOCKER_BUILDKIT=0 docker build -t lab/hello .'
        >>> shown(["image", "inspect", "--format", "{{.Id}}", "x"], tool="podman")
        "podman image inspect --format '{{.Id}}' x"
    """
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in (env or {}).items())
    line = prefix + shlex.join([tool, *args])
    return line + (" | " + shlex.join(pipe) if pipe else "")
