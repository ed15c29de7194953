"""Checker 03.3: ENTRYPOINT and CMD. The learner writes an image (busybox as
``/busybox``) such that ``docker run IMG`` prints ``hello world`` and ``docker run IMG
you`` prints ``hello you``.

Judged as the runtime judges (:mod:`labkit.checks.runtime`: argv = Entrypoint + (the
run's arguments, or else Cmd); a string is one word; the shell form needs ``/bin/sh``),
what busybox then prints (:mod:`labkit.checks.applets`), and -- where an engine
answers -- by really running both.

Example:
    >>> check_03_3(None).passed is None
    True
"""
from __future__ import annotations

import posixpath
import shlex

from labkit.checks import applets, live
from labkit.checks.runtime import Fault, Rootfs, command_line, start, words
from labkit.checks.verdict import Verdict, in_work, inspect_answer, not_verified, unanswered, verdict
from labkit.errors import LabkitError

#: The two runs and what each must print.
RUNS = (([], "hello world"), (["you"], "hello you"))
HINT = 'entrypoint=["/busybox", "echo", "hello"], cmd=["world"]'


def _shown(args: list[str]) -> str:
    return "docker run IMG" + "".join(" " + shlex.quote(a) for a in args)


def check_03_3(path) -> Verdict:
    """An image whose ``docker run IMG`` prints ``hello world`` and ``docker run IMG you``
    prints ``hello you`` (``answer`` = the path you wrote it to)."""
    if path is None:
        return unanswered("03.3", "the path of your image")
    info, failed = inspect_answer("03.3", path, "your image")
    if failed:
        return failed
    if not in_work(path):
        return verdict("03.3", False, f"{path} is not under work/: the exercise asks for an image you write.",
                       "write it to work/03/greet.tar")
    try:
        with Rootfs(path, info) as fs:
            rules = [_predict(fs, args) for args, _ in RUNS]
            config = fs.config
    except LabkitError as err:
        return verdict("03.3", False, f"labkit could not unpack {path}: {err}", "write it with labkit.oci.Image(...)")
    eng = live.engine()
    try:
        real = _really(eng, path, info) if eng is not None else None
    finally:
        live.close(eng)
    if isinstance(real, str):
        return verdict("03.3", False, f"The engine refused your image: {real}", HINT)
    outcomes = [_outcome(rule, None if real is None else real[i]) for i, rule in enumerate(rules)]
    for (args, want), (argv, printed, fault), rule in zip(RUNS, outcomes, rules):
        if printed is None and fault is None:
            continue
        if fault is not None or printed.strip().lower() != want:
            return verdict("03.3", False, _why(config, args, want, argv, printed, fault), HINT)
    unknown = [i for i, (argv, printed, fault) in enumerate(outcomes) if printed is None and fault is None]
    stand_in = any(not isinstance(r, Fault) and r[2] == "stand-in" for r in rules)
    if real is None and (unknown or stand_in):
        why = ("your /busybox is labkit's stand-in (no busybox on this machine), and no engine runs it"
               if stand_in else "no Docker engine answers, and labkit cannot tell what this command prints")
        return not_verified("03.3", why, "By the runtime's rules: " + "; ".join(
            f"{_shown(args)} runs {shlex.join(command_line(config, args))}" for args, _ in RUNS) + ".", HINT)
    how = " Both really ran on the engine." if real is not None else " (judged by the runtime's rules; no engine here)"
    argv0, argv1 = outcomes[0][0], outcomes[1][0]
    return verdict("03.3", True, f"{_shown([])} runs {shlex.join(argv0)}; {_shown(['you'])} runs "
                   f"{shlex.join(argv1)}: the run's words replace Cmd, and Entrypoint stays.{how}")


def _predict(fs: Rootfs, args: list[str]):
    """By the rules: a Fault, or ``(argv, (stdout, status) or None, kind)``."""
    try:
        started = start(fs, args)
    except Fault as fault:
        return fault
    found = applets.output(started.argv) if started.kind in ("busybox", "stand-in") else None
    return started.argv, found, started.kind


def _really(eng, path, info):
    """``[(stdout, error) for each run]``, or the engine's words when it refuses the image."""
    try:
        with live.loaded(eng, path, info.config_digest) as ref:
            results = [live.run(eng, ref, args) for args, _ in RUNS]
    except LabkitError as err:
        return err.message if hasattr(err, "message") else str(err)
    return [(r.stdout.decode("utf-8", "replace"), r.error or (f"exit status {r.exit_code}"
             if r.exit_code else None)) for r in results]


def _outcome(rule, real):
    """``(argv, what it printed or None, Fault or None)`` for one run: the engine's
    result where there is one, the rules' otherwise."""
    argv = rule.argv if isinstance(rule, Fault) else rule[0]
    if real is not None:
        stdout, error = real
        if error:
            fault = rule if isinstance(rule, Fault) else Fault(error, "the run failed")
            return argv, stdout, fault
        return argv, stdout, None
    if isinstance(rule, Fault):
        return argv, None, rule
    printed = rule[1]
    if printed is None:
        return argv, None, None
    if printed[1]:
        return argv, printed[0], Fault(f"exit status {printed[1]}", "the command fails")
    return argv, printed[0], None


def _why(config: dict, args: list[str], want: str, argv: list[str], printed: str | None, fault) -> str:
    """The precise reason one run does not print ``want``."""
    run = _shown(args)
    entry, cmd = words(config.get("Entrypoint")), words(config.get("Cmd"))
    for key in ("Entrypoint", "Cmd"):
        value = config.get(key)
        if isinstance(value, str) and " " in value.strip():
            return (f"{key} is the string {value!r}: a string is one word, so the runtime looks for a program "
                    f"named {value!r}. Write it as a list of words.")
    if fault is not None:
        if args and not entry:
            return (f"{run}: {args[0]!r} replaces the whole Cmd, and with no Entrypoint Cmd was the whole command, "
                    f"so the runtime looks for a program named {args[0]} (\"{fault.words}\"). Keep the fixed words "
                    "in Entrypoint and only the word to replace in Cmd.")
        if argv and posixpath.basename(argv[0]) == "sh" and ("no such file" in fault.words
                                                             or "not found" in fault.words):
            return (f"{run} runs {shlex.join(argv)}: the shell form needs /bin/sh, and this image has no /bin/sh "
                    f"(\"{fault.words}\"). Use the list form with /busybox, or add a link bin/sh -> /busybox.")
        return f"{run} does not start: {fault.why} (\"{fault.words}\")."
    said = (printed or "").strip()
    base = f"{run} runs {shlex.join(argv)} and prints {said!r}, not {want!r}"
    if args and said.lower() == " ".join(args).lower():
        return (f"{base}: {args[0]!r} replaced all of Cmd ({' '.join(cmd)!r}). Only the word to replace belongs "
                "in Cmd; put hello in the Entrypoint.")
    if args and said.lower().endswith(f"world {args[0]}".lower()):
        return (f"{base}: the run's words are added after the Entrypoint, and replace Cmd only. World is in "
                "your Entrypoint; put it in Cmd, where the run's word replaces it.")
    core = argv[1:] if argv and posixpath.basename(argv[0]) == "busybox" else argv
    if len(core) > 2 and posixpath.basename(core[0]) in ("sh", "ash") and core[1] == "-c":
        return (f"{base}: sh -c runs the script, and the words after it become $0, $1 ...: your script never "
                "uses them.")
    return base + "."
