"""Checkers of notebook 03, layers across Docker versions."""
from __future__ import annotations

from labkit.checks.verdict import Verdict, unanswered, verdict


def check_03_1(rows) -> Verdict:
    """How many rows does ``docker history`` show for the ``era="1.4"`` image?"""
    if rows is None:
        return unanswered("03.1", "a number")
    if isinstance(rows, str):
        return verdict("03.1", False, f"That is the text {rows!r}; the answer is a number.",
                       "write it without quotes, e.g. 4")
    if isinstance(rows, bool) or not isinstance(rows, (int, float)):
        return verdict("03.1", False, f"{rows!r} is not a number.", "count the rows of the history table")
    if rows == 3:
        return verdict("03.1", True, "Three: the old scratch image 511136ea3c5a… every image started from, "
                       "one image for COPY, and one for CMD — before 1.10 every instruction committed an "
                       "image of its own, each with a (random) ID and a layer, empty for CMD.")
    if rows == 2:
        return verdict("03.1", False, "Two is what a build with today's Docker shows: COPY and CMD (CMD "
                       "makes no layer, but it has its history row).",
                       "Docker 1.4 also had the scratch image 511136ea… at the bottom")
    if rows == 1:
        return verdict("03.1", False, "Not even a build with today's Docker shows one row: COPY and CMD "
                       "are two.", "and before 1.5, FROM scratch was a real image under them")
    return verdict("03.1", False, f"Not {rows!r}.", "count the rows of the history table above")


def check_03_2(fields) -> Verdict:
    """Which tar header fields differ between Docker 20.10's and 26+'s layer of the same file?"""
    if fields is None:
        return unanswered("03.2", "a set of field names, e.g. {\"mtime\"}")
    if isinstance(fields, str):
        fields = {fields}
    if not isinstance(fields, (set, frozenset, list, tuple, dict)):
        return verdict("03.2", False, f"{fields!r} is not a set of field names.",
                        "write them as a set of strings, e.g. {\"mtime\", \"size\"}")
    got = {str(f).strip().lower() for f in fields} - {"chksum"}  # the checksum follows from the others
    want = {"mode", "uname", "gname"}
    if got == want:
        return verdict("03.2", True, "mode keeps the file-type bits on 20.10 (0100755 vs 0000755), and 20.10 "
                        "names the owner root/root: three fields, so a different sha256.")
    missing, extra = sorted(want - got), sorted(got - want)
    if extra:
        return verdict("03.2", False, f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} the same in both.",
                        "compare the two tar_headers tables field by field")
    return verdict("03.2", False, f"Right so far, but {len(missing)} more field(s) differ.",
                    "look at the owner's name fields too" if "uname" in missing else "look at the mode field")


def check_03_3(fmt) -> Verdict:
    """The ``format`` labkit.oci.inspect reports for a ``docker save`` of Docker 25 or later."""
    if fmt is None:
        return unanswered("03.3", "a format name as labkit.oci.inspect reports it")
    answer = str(fmt).strip().lower()
    if answer == "oci-layout":
        return verdict("03.3", True, "Since Docker 25.0 (moby PR #44598) docker save writes an OCI layout, "
                        "with manifest.json kept for older tools.")
    if answer == "docker-archive":
        return verdict("03.3", False, "That is what 20.10 writes.", "look for index.json in the newer save")
    return verdict("03.3", False, f"{answer!r} is not one of labkit's format names.",
                    "docker-v1, docker-archive or oci-layout")
