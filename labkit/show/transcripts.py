"""The docker commands behind a lesson step, and exactly what they printed.

A transcript shows each command as typed (``$ docker build ...``) and its raw output. The
parts that differ on every run (IDs set at build time, durations, "2 seconds ago") are
marked, so a reader knows not to expect the same, and ``notebooks/sanitize.cfg`` masks
only those. In a notebook it renders as HTML; its plain-text form is one summary line
(``str()`` gives the whole text, for a terminal).

Example:
    >>> from labkit import observe
    >>> t = commands(observe.scenario("hello-variants"), "dynamic")
    >>> print(t)  # doctest: +ELLIPSIS
    recorded on Docker 20.10.24 (...)
    $ docker load -i dynamic.tar
    Loaded image: lab/hello-variants:dynamic
    <BLANKLINE>
    $ docker run --rm --network none lab/hello-variants:dynamic
    exec /hello: no such file or directory
    (exit status 1)
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Sequence

from labkit import terminal as terminal_mod
from labkit.engine.commands import CommandRun, varying_spans
from labkit.errors import LabkitError
from labkit.show.style import PALETTE

#: Two spaces or more: the padding of a table's columns (marked, so comparisons can
#: take any such run as one: its width follows the widest value, which may vary).
PAD_RUN = re.compile(r"  +")
#: The tooltip on a marked part of an output.
VARIES_TITLE = "differs on every run (set by the engine when it ran, or a date or duration)"


@dataclass(frozen=True)
class Step:
    """One command of a transcript, with the spans of its output that vary."""

    run: CommandRun
    spans: tuple[tuple[int, int, str], ...]
    note: str = ""

    def text(self) -> str:
        """``$ command``, the output, the exit status when it is not 0, and the note."""
        status = "" if self.run.exit_code in (0, None) else f"(exit status {self.run.exit_code})\n"
        output = self.run.output if self.run.output.endswith("\n") or not self.run.output \
            else self.run.output + "\n"
        note = f"({self.note})\n" if self.note else ""
        return f"$ {self.run.command}\n{output}{status}{note}"

    def html(self) -> str:
        esc = html.escape

        def plain(part: str) -> str:   # column padding: its width follows the widest value
            return PAD_RUN.sub(lambda m: f"<span class='labkit-pad'>{m.group()}</span>", esc(part))

        out, last, text = [], 0, self.run.output
        for start, end, kind in self.spans:
            css = "labkit-varies" if kind in ("value", "step") else "labkit-time"
            out += [plain(text[last:start]),
                    f"<span class='{css}' title='{VARIES_TITLE}' "
                    f"style='background:#eee;border-bottom:1px dotted #888'>{esc(text[start:end])}</span>"]
            last = end
        out.append(plain(text[last:]))
        status = ("" if self.run.exit_code in (0, None) else
                  f"<span style='color:{PALETTE[3]}'>(exit status {self.run.exit_code})</span>")
        if self.note:
            status += f"<em class='labkit-line-note'>({esc(self.note)})</em>"
        return (f"<pre class='labkit-command' style='margin:2px 0 8px 0;padding:6px 8px;"
                f"background:#f7f7f7;border-left:3px solid {PALETTE[0]};white-space:pre-wrap;"
                f"font-family:var(--jp-code-font-family,monospace);font-size:85%'>"
                f"<b>$ {esc(self.run.command)}</b>\n{''.join(out).rstrip()}\n{status}</pre>")


@dataclass(frozen=True)
class Transcript:
    """The commands of one or more cases, where they ran, and what they printed."""

    source: str
    steps: tuple[tuple[str, tuple[Step, ...]], ...]    # (case name or "", its steps)
    why: str = ""                                       # why a recording is shown (one line)

    def __str__(self) -> str:
        parts = [self.source] + ([self.why] if self.why else [])
        for case, steps in self.steps:
            if case:
                parts.append(f"# {case}")
            parts.append("\n".join(step.text() for step in steps).rstrip("\n"))
        return "\n".join(parts)

    def __repr__(self) -> str:
        commands = [step.run.command for _, steps in self.steps for step in steps]
        return f"{len(commands)} command(s), {self.source}: " + "; ".join(commands)

    def _repr_html_(self) -> str:
        body = []
        for case, steps in self.steps:
            if case:
                body.append(f"<div style='margin-top:6px'><b>{html.escape(case)}</b></div>")
            body += [step.html() for step in steps]
        why = f"<br><span class='labkit-why'>{html.escape(self.why)}</span>" if self.why else ""
        return (f"<div class='labkit-transcript'><p><em>{html.escape(self.source)}</em> — the "
                f"commands to type at a terminal, and what they printed "
                f"(<span style='background:#eee'>shaded</span>: differs on every run){why}</p>"
                f"{''.join(body)}</div>")


def steps_of(case, only: Sequence[str] | None = None) -> tuple[Step, ...]:
    """A case's commands (those starting with one of ``only``, e.g. ``"docker build"``)
    with the parts of their output that vary marked."""
    runs, ids = case.command_runs(), case.varying_ids()
    chosen = [r for r in runs if not only or any(_matches(r.command, w) for w in only)]
    return tuple(Step(r, tuple(varying_spans(r, ids, built_now=case.built_now, sizes_vary=case.sizes_vary)))
                 for r in chosen)


def _matches(command: str, start: str) -> bool:
    words = command.split()
    while words and "=" in words[0]:          # DOCKER_BUILDKIT=0 docker build ...
        words = words[1:]
    return " ".join(words).startswith(start)


def commands(result, case: str | None = None, only: Sequence[str] | None = None) -> Transcript:
    """The docker commands behind one ``labkit.observe`` result (live or recorded), as typed,
    with their raw output.

    Args:
        result: ``labkit.observe.scenario(...)`` (or one result of an Observation).
        case: one case's commands (default: every case, each under its name).
        only: keep the commands that start with one of these (``"docker run"``).

    Raises:
        LabkitError: the result holds no commands (recorded by an older labkit).
    """
    names = [case] if case else list(result.cases)
    steps = tuple((name if len(names) > 1 else "", steps_of(result[name], only)) for name in names)
    if not any(s for _, s in steps):
        raise LabkitError(f"{result.scenario} holds no docker commands" + (f" for {case}" if case else ""),
                          hint="record it again with `labkit record`")
    return Transcript(result.source, steps)


def command(result, case: str, step: str) -> Transcript:
    """The raw ``docker`` command a registry scenario kept for ``case``'s ``step`` (``push``,
    ``pull``, ``images``; kept in ``extra["cli"]``, the registry's port written ``PORT``).

    Raises:
        LabkitError: that case kept no such step (it failed before it).
    """
    cli = (result[case].extra.get("cli") or {}).get(step)
    if not cli:
        raise LabkitError(f"{result.scenario}/{case} kept no {step!r} command",
                          hint="it failed before that step; see the case's error")
    run = CommandRun(cli["command"], cli.get("exit_code", 0), cli["output"])
    return Transcript(result.source, (("", (Step(run, ()),)),))


def terminal(cell: str, engine=None) -> Transcript:
    """A ``%%terminal`` cell: its command lines run live, or the recording of them
    (:mod:`labkit.terminal`), as a transcript with what varies shaded.

    Example:
        >>> print(terminal("echo hello"))
        live on this machine
        $ echo hello
        hello
    """
    session = terminal_mod.run(cell, engine)
    steps = tuple(Step(line.run, tuple(varying_spans(line.run, session.varying, built_now=line.built_now,
                                                     stable=session.stable)), line.note)
                  for line in session.lines)
    return Transcript(session.source, (("", steps),), session.why)
