"""Checkers of notebook 03, what a real program needs: the loader a dynamic program
asks for (03.1), and an image that fails twice in scratch, fixed (03.2) -- judged by
the runtime's rules (:mod:`labkit.checks.runtime`).

Example:
    >>> check_03_1("/lib64/ld-linux-x86-64.so.2").passed
    True
"""
from __future__ import annotations

import platform

from labkit.checks.runtime import Fault, Rootfs, start
from labkit.checks.verdict import Verdict, in_work, inspect_answer, text_answer, unanswered, verdict
from labkit.errors import LabkitError

#: The dynamic loader a glibc program asks for, by machine: the path PT_INTERP holds (the
#: ABI's name for it), and where Debian keeps the file that path links to.
LOADERS = {"x86_64": ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
           "aarch64": ("/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1")}
HINT_USER = ("user=\"65534\" needs no /etc/passwd; or keep user=\"nobody\" and add etc/passwd "
             "(a line nobody:x:65534:65534::/nonexistent:/sbin/nologin)")


def check_03_1(interpreter) -> Verdict:
    """The path of the program the kernel must load before the dynamic hello can start
    (the x86_64 one of the recordings, or this machine's own)."""
    if interpreter is None:
        return unanswered("03.1", "a path like \"/lib/...\"")
    answer, failed = text_answer("03.1", interpreter, "a path, as a string: \"/lib...\"")
    if failed:
        return failed
    answer = answer.strip().strip("\"'`")
    here = platform.machine().lower().replace("arm64", "aarch64").replace("amd64", "x86_64")
    accepted = {LOADERS["x86_64"][0], LOADERS.get(here, LOADERS["x86_64"])[0]}
    if answer in {LOADERS["x86_64"][1], LOADERS.get(here, LOADERS["x86_64"])[1]}:
        return verdict("03.1", False, "That is where Debian keeps the loader's file, but the program names "
                       "another path, and the kernel opens exactly the path the program names.",
                       "labkit.hello.describe(path).interpreter")
    if answer in accepted:
        return verdict("03.1", True, "The dynamic loader, named in the ELF's PT_INTERP header: the kernel "
                       "looks for it in the image, finds nothing, and the run fails.")
    if answer in {p for paths in LOADERS.values() for p in paths}:
        return verdict("03.1", False, "That is the loader for another processor than the one the "
                       "dynamic hello was built for.", "labkit.hello.describe(path).interpreter tells you")
    if "/" not in answer and answer.startswith("ld-"):
        return verdict("03.1", False, "Right file, but the kernel needs its full path, as PT_INTERP names it.",
                       "/lib64/" + answer if "x86-64" in answer else "labkit.hello.describe(path).interpreter")
    if "libc" in answer:
        return verdict("03.1", False, "libc is missing too, but the kernel never gets that far.",
                       "look at the interpreter the program asks for: labkit.hello.describe(path)")
    if "musl" in answer:
        return verdict("03.1", False, "That is musl's loader; the dynamic hello was linked with GNU libc.",
                       "labkit.hello.describe(path).interpreter tells you")
    return verdict("03.1", False, f"{answer!r} is not what the dynamic hello asks for.",
                   "labkit.hello.describe(path).interpreter tells you")


def check_03_2(path) -> Verdict:
    """A fixed copy of the broken image (``/hello`` mode 0644 and ``USER nobody`` without
    ``/etc/passwd``): it must start, as a user other than root. Every fix that would run
    passes: ``USER 65534``, an ``/etc/passwd`` that names the user, mode 0755, 0711 …"""
    if path is None:
        return unanswered("03.2", "the path of your fixed image (a .tar you wrote)")
    info, failed = inspect_answer("03.2", path, "your fixed image")
    if failed:
        return failed
    if not in_work(path):
        return verdict("03.2", False, f"{path} is not under work/: the exercise asks for a copy you write.",
                       "write it to work/03/fixed.tar")
    try:
        with Rootfs(path, info) as fs:
            problems, hints, started = _diagnose(fs)
    except LabkitError as err:
        return verdict("03.2", False, f"labkit could not unpack {path}: {err}",
                       "write the image with labkit.oci.Image(...).write(path)")
    if problems:
        return verdict("03.2", False, "Still wrong: " + " ".join(problems), "; ".join(dict.fromkeys(hints)))
    spec = str(fs.config.get("User") or "")
    name = spec.partition(":")[0]
    how = "a number needs no /etc/passwd" if name.isdigit() else f"{name} is in your /etc/passwd"
    entry = fs.nodes[started.program]
    return verdict("03.2", True, f"It starts: {started.argv[0]} (mode {entry.mode & 0o7777:04o}) runs as "
                   f"uid {started.uid}, gid {started.gid} ({how}).{''.join(' ' + n for n in started.notes)}")


def _diagnose(fs: Rootfs):
    """``(problems, hints, Start or None)``: every reason the image would not start as a
    user other than root (both, when it fails twice)."""
    try:
        started = start(fs)
    except Fault as fault:
        problems = [f"{fault.why}: the runtime answers \"{fault.words}\"."]
        hints = [fault.hint or 'cmd=["/hello"]']
        if fault.words.startswith("unable to find"):
            hints = [HINT_USER]
            second = _as_anyone(fs)
            if second:
                problems.append(second)
                hints.append("mode=0o755 on the file")
        return problems, hints, None
    if started.uid == 0:
        return ["It would start, but as root (uid 0): keep an unprivileged user."], [HINT_USER], started
    return [], [], started


def _as_anyone(fs: Rootfs) -> str | None:
    """When the user cannot be found: would the program's mode stop any user who is not
    root anyway? (what the second failure will be once the user is fixed)."""
    saved, fs.config = fs.config, dict(fs.config, User="65534")
    try:
        start(fs)
    except Fault as fault:
        return f"And once the user is found, {fault.why}: \"{fault.words}\"."
    finally:
        fs.config = saved
    return None
