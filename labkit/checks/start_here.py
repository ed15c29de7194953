"""Checkers of notebook 00, start here."""
from __future__ import annotations

import re

from labkit import machine
from labkit.checks.verdict import Verdict, unanswered, verdict


def check_00_1(mode) -> Verdict:
    """The mode this notebook runs in, as the mode line shows it (``"live"``/``"offline"``)."""
    if mode is None:
        return unanswered("00.1", "\"live\" or \"offline\"")
    actual = machine.mode()
    said = {w for w in ("live", "offline") if w in str(mode).lower()}
    if said == {actual}:
        return verdict("00.1", True, f"Right: {actual}." + (
            " Engine cells run on your Docker now." if actual == "live"
            else " Engine cells show recorded results; labkit's own builder runs here."))
    return verdict("00.1", False, f"The lab is not running {mode!r} right now.",
                    "read the line that starts with \"Mode:\" near the top")


def check_00_2(letter) -> Verdict:
    """The least an image needs to print hello: ``"a"``, ``"b"`` or ``"c"``."""
    if letter is None:
        return unanswered("00.2", "\"a\", \"b\" or \"c\"")
    answer = str(letter).strip().lower()
    if len(answer) <= 4:                       # "b", "(b)", "b)", "b." all name the letter
        answer = answer.strip("()[]. :)")
    else:                                      # "b) one program and ..." names it too
        found = re.match(r"^\(?([abc])\)?[).:]?\s", answer + " ")
        answer = found.group(1) if found else answer
    if answer not in ("a", "b", "c"):
        return verdict("00.2", False, f"{letter!r} is not one of the letters.", "answer \"a\", \"b\" or \"c\"")
    if answer == "b":
        return verdict("00.2", True, "One program and the JSON that names it: notebook 2 builds exactly that.")
    if answer == "c":
        return verdict("00.2", False, "Containers share the machine's kernel; images never carry one.",
                        "think of what the kernel needs to start a process")
    return verdict("00.2", False, "A distribution is convenient, not necessary.",
                    "the kernel starts one program file; what else does that program need?")
