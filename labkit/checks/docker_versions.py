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


#: The fields of a POSIX (ustar) tar header, as Go's archive/tar and the tar_headers table name them.
TAR_FIELDS = ("name", "mode", "uid", "gid", "size", "mtime", "chksum", "typeflag", "linkname", "magic",
              "version", "uname", "gname", "devmajor", "devminor", "prefix")
#: Other words learners use for those fields.
FIELD_SYNONYMS = {"checksum": "chksum", "user name": "uname", "username": "uname", "user": "uname",
                  "owner": "uname", "owner name": "uname", "group name": "gname", "groupname": "gname",
                  "group": "gname", "permissions": "mode", "permission": "mode", "file mode": "mode",
                  "type": "typeflag", "modification time": "mtime", "time": "mtime", "path": "name"}


def _field_names(fields) -> set[str] | None:
    """The answer as canonical field names; None when it is not a collection of names."""
    if isinstance(fields, str):
        fields = [f for f in fields.replace(";", ",").split(",")] if "," in fields or ";" in fields \
            else fields.split()
    if not isinstance(fields, (set, frozenset, list, tuple, dict)):
        return None
    names = {" ".join(str(f).strip().lower().replace("_", " ").split()) for f in fields} - {""}
    return {FIELD_SYNONYMS.get(n, n) for n in names}


def check_03_2(fields) -> Verdict:
    """Which tar header fields differ between the hello layer of the lab's Debian 20.10
    engines and that of Docker 26+?

    Example:
        >>> check_03_2("mode, user name, gname").passed
        True
    """
    if fields is None:
        return unanswered("03.2", "a set of field names, e.g. {\"mtime\"}")
    got = _field_names(fields)
    if got is None:
        return verdict("03.2", False, f"{fields!r} is not a set of field names.",
                        "write them as a set of strings, e.g. {\"mtime\", \"size\"}")
    unknown = sorted(got - set(TAR_FIELDS))
    if unknown:
        return verdict("03.2", False, f"{', '.join(unknown)}: not a tar header field.",
                        "the fields are " + ", ".join(TAR_FIELDS))
    got -= {"chksum"}                          # the checksum follows from the others
    want = {"mode", "uname", "gname"}
    if got == want:
        return verdict("03.2", True, "mode keeps the file-type bits on 20.10 (0100755 vs 0000755), and the "
                        "Debian 20.10 builds name the owner root/root: three fields (and so the checksum), "
                        "so a different sha256.")
    missing, extra = sorted(want - got), sorted(got - want)
    if extra:
        return verdict("03.2", False, f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} the same in both.",
                        "compare the two tar_headers tables field by field")
    return verdict("03.2", False, f"Right so far, but {len(missing)} more field(s) differ.",
                    "look at the owner's name fields too" if "uname" in missing else "look at the mode field")


#: What learners call the OCI image layout.
_OCI_LAYOUT = {"oci-layout", "oci layout", "oci_layout", "ocilayout", "oci image layout", "oci-archive",
               "oci archive"}


def check_03_3(fmt) -> Verdict:
    """The ``format`` labkit.oci.inspect reports for a ``docker save`` of Docker 25 or later."""
    if fmt is None:
        return unanswered("03.3", "a format name as labkit.oci.inspect reports it")
    answer = " ".join(str(fmt).strip().lower().split())
    if answer in _OCI_LAYOUT:
        return verdict("03.3", True, "oci-layout: since Docker 25.0 (moby PR #44598) docker save writes an OCI "
                        "image layout (index.json, blobs/sha256/…), with manifest.json kept for older tools.")
    if answer == "oci":
        return verdict("03.3", False, "OCI, yes: but which of its formats?", "the one with index.json and blobs/: "
                        "labkit.oci.inspect(path).format names it")
    if answer in ("docker-archive", "docker archive"):
        return verdict("03.3", False, "That is what Docker 24 and earlier write (manifest.json, no index.json).",
                        "look for index.json in the newer save")
    if answer in ("docker-v1", "docker v1"):
        return verdict("03.3", False, "That is the layout of Docker 1.9 and earlier: one folder per image, "
                        "no manifest.json.", "look for index.json in the newer save")
    return verdict("03.3", False, f"{answer!r} is not one of labkit's format names.",
                    "docker-v1, docker-archive or oci-layout")
