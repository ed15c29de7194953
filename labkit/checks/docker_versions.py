"""Checkers of notebook 04, layers across Docker versions: the tar header fields that
differ (04.1), what ``docker save`` writes on this engine (04.2); and dd.1, the Docker 1.4
deep dive.

Example:
    >>> check_04_1("mode, uname and gname").passed
    True
"""
from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

from labkit import oci
from labkit.checks import live
from labkit.checks.verdict import (Verdict, in_work, inspect_answer, number_answer, text_answer, unanswered,
                                   verdict)
from labkit.errors import LabkitError


def check_dd_1(rows) -> Verdict:
    """How many rows does ``docker history`` show for the ``era="1.4"`` image?"""
    if rows is None:
        return unanswered("dd.1", "a number")
    rows, failed = number_answer("dd.1", rows, "a number of rows, e.g. 4")
    if failed:
        return failed
    if rows == 3:
        return verdict("dd.1", True, "Three: the old scratch image 511136ea3c5a… every image started from, "
                       "one image for COPY, and one for CMD — before 1.10 every instruction committed an "
                       "image of its own, each with a (random) ID and a layer, empty for CMD.")
    if rows == 2:
        return verdict("dd.1", False, "Two is what a build with today's Docker shows: COPY and CMD (CMD "
                       "makes no layer, but it has its history row).",
                       "Docker 1.4 also had the scratch image 511136ea… at the bottom")
    if rows == 1:
        return verdict("dd.1", False, "Not even a build with today's Docker shows one row: COPY and CMD "
                       "are two.", "and before 1.5, FROM scratch was a real image under them")
    return verdict("dd.1", False, f"Not {rows!r}.", "count the rows of the history table above")


#: The fields of a POSIX (ustar) tar header, as Go's archive/tar and the tar_headers table name them.
TAR_FIELDS = ("name", "mode", "uid", "gid", "size", "mtime", "chksum", "typeflag", "linkname", "magic",
              "version", "uname", "gname", "devmajor", "devminor", "prefix")
#: Other words learners use for those fields.
FIELD_SYNONYMS = {"checksum": "chksum", "user name": "uname", "username": "uname", "user": "uname",
                  "owner name": "uname", "group name": "gname", "groupname": "gname",
                  "group": "gname", "permissions": "mode", "permission": "mode", "file mode": "mode",
                  "type": "typeflag", "modification time": "mtime", "time": "mtime", "path": "name",
                  "modtime": "mtime", "mod time": "mtime", "file name": "name", "filename": "name",
                  "mode bits": "mode", "file type bits": "mode", "type bits": "mode", "perms": "mode",
                  "uname field": "uname", "gname field": "gname", "mode field": "mode",
                  "user name field": "uname", "group name field": "gname", "check sum": "chksum",
                  "header checksum": "chksum", "link name": "linkname", "size field": "size"}
#: Words that name both owner fields at once.
BOTH_NAMES = {"owner names", "owner name fields", "user and group names", "user and group name", "owner/group",
              "owner and group", "owner and group names", "uname/gname", "user/group", "user/group names",
              "user name and group name", "names", "owner", "owners", "ownership", "owner fields"}


def _field_names(fields) -> set[str] | None:
    """The answer as canonical field names; None when it is not a collection of names."""
    if isinstance(fields, (bytes, bytearray)):
        fields = bytes(fields).decode("utf-8", "replace")
    if isinstance(fields, str):
        fields = re.split(r"\s*(?:,|;|\+|&|\band\b|\n)\s*", fields)
        if len(fields) == 1:
            fields = fields[0].split() if " ".join(fields[0].split()).lower() not in (
                set(FIELD_SYNONYMS) | BOTH_NAMES) else fields
    if isinstance(fields, dict):
        fields = list(fields)
    if not isinstance(fields, (set, frozenset, list, tuple)):
        return None
    if not all(isinstance(f, (str, bytes)) for f in fields):
        return None
    names = {" ".join(re.sub(r"^(the|its|a)\s+", "", str(f).strip().strip(".").lower().replace("_", " ")).split())
             for f in fields} - {""}
    found = set()
    for name in names:
        found |= {"uname", "gname"} if name in BOTH_NAMES else {FIELD_SYNONYMS.get(name, name)}
    return found


def check_04_1(fields) -> Verdict:
    """Which tar header fields differ between the hello layer of the lab's Debian 20.10
    engines and that of Docker 26+?

    Example:
        >>> check_04_1("mode, user name, gname").passed
        True
    """
    if fields is None:
        return unanswered("04.1", "a set of field names, e.g. {\"mtime\"}")
    got = _field_names(fields)
    if got is None:
        return verdict("04.1", False, f"{fields!r} is not a set of field names.",
                        "write them as a set of strings, e.g. {\"mtime\", \"size\"}")
    unknown = sorted(got - set(TAR_FIELDS))
    if unknown:
        return verdict("04.1", False, f"{', '.join(unknown)}: not a tar header field.",
                        "the fields are " + ", ".join(TAR_FIELDS))
    got -= {"chksum"}                          # the checksum follows from the others
    want = {"mode", "uname", "gname"}
    if got == want:
        return verdict("04.1", True, "mode keeps the file-type bits on 20.10 (0100755 vs 0000755), and the "
                        "Debian 20.10 builds name the owner root/root: three fields (and so the checksum), "
                        "so a different sha256.")
    missing, extra = sorted(want - got), sorted(got - want)
    if extra:
        return verdict("04.1", False, f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} the same in both.",
                        "compare the two tar_headers tables field by field")
    return verdict("04.1", False, f"Right so far, but {len(missing)} more field(s) differ.",
                    "look at the owner's name fields too" if "uname" in missing else "look at the mode field")



# --- 04.2: what docker save writes here ------------------------------------------------------
#: labkit's name of each format, and the other spellings of it learners and tools use.
FORMAT_NAMES = {
    "oci-layout": {"oci-layout", "oci layout", "ocilayout", "oci image layout", "oci image layout format",
                   "oci", "oci format", "oci image", "oci-archive", "oci archive", "oci image format",
                   "oci-dir", "oci directory", "oci tarball", "an oci layout", "oci image-layout", "image layout",
                   "oci layout (with manifest.json)", "oci-layout + manifest.json"},
    "docker-archive": {"docker-archive", "docker archive", "dockerarchive", "docker", "docker save",
                       "docker save format", "docker format", "docker tarball", "docker image", "legacy",
                       "docker legacy", "moby", "docker v1.2", "docker image spec v1.2", "docker-v1.2",
                       "docker image specification v1.2", "docker schema 2", "docker-save",
                       "docker archive (manifest.json)", "manifest.json"},
    "docker-v1": {"docker-v1", "docker v1", "v1", "pre-1.10", "docker 1.9", "repositories"},
}


def format_name(text: str) -> str | None:
    """labkit's name for a format however it is spelt; None when it names none.

    Example:
        >>> format_name(" OCI Layout "), format_name("docker_archive"), format_name("tar")
        ('oci-layout', 'docker-archive', None)
    """
    clean = " ".join(re.sub(r"[_\s]+", " ", str(text)).strip().strip(".`'\"").lower().split())
    for name, spellings in FORMAT_NAMES.items():
        if clean in spellings or clean.replace("-", " ") in {s.replace("-", " ") for s in spellings}:
            return name
    return None


def saved_by_docker(path) -> bool | None:
    """True when the file has what only ``docker save`` writes (layer folders with
    ``VERSION`` and ``json`` before Docker 25; ``index.json`` *and* ``manifest.json``
    since), False when not, None for a save without layers (nothing tells).

    Example:
        >>> import tempfile, pathlib
        >>> saved_by_docker(oci.Image([[oci.Entry.file("a", b"a")]]).write(pathlib.Path(tempfile.mkdtemp()) / "a.tar"))
        False
    """
    path = Path(path)
    try:
        if path.is_dir():
            names = {str(p.relative_to(path)) for p in path.rglob("*")}
        else:
            with tarfile.open(path) as tar:
                names = {m.name.lstrip("./") for m in tar.getmembers()}
    except (OSError, tarfile.TarError):
        return None
    if {"index.json", "manifest.json"} <= names or any(n.endswith("/VERSION") for n in names):
        return True
    if not any(n.endswith("layer.tar") or n.startswith("blobs/") for n in names):
        return None
    return False


def _pair(answer) -> tuple[object, object] | None:
    """``(path, format name)`` from a pair in either order."""
    if isinstance(answer, dict):
        answer = (answer.get("path"), answer.get("format"))
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    first, second = answer
    if isinstance(first, str) and format_name(first) and not os.path.exists(first):
        first, second = second, first
    return first, second


def check_04_2(answer) -> Verdict:
    """``(path, format)``: an image you saved with ``docker save`` under work/04, and the
    format name (as ``labkit.oci.inspect`` says it) of what this engine's save writes."""
    if answer is None:
        return unanswered("04.2", '(path, format): ("work/04/mine.tar", "…")')
    pair = _pair(answer)
    if pair is None:
        return verdict("04.2", False, "The answer is two things: the path of your saved image, and the format "
                       "name.", 'answer = ("work/04/mine.tar", "docker-archive or oci-layout")')
    path, fmt = pair
    text, failed = text_answer("04.2", fmt, "a format name: docker-archive, oci-layout or docker-v1")
    if failed:
        return failed
    named = format_name(text)
    if named is None:
        return verdict("04.2", False, f"{text!r} is not one of the format names.",
                       "docker-v1, docker-archive or oci-layout (labkit.oci.inspect(path).format)")
    info, failed = inspect_answer("04.2", path, "your docker save")
    if failed:
        return failed
    if not in_work(path):
        return verdict("04.2", False, f"{path} is not under work/: save your own image there.",
                       "docker save -o work/04/mine.tar IMAGE")
    if saved_by_docker(path) is False:
        return verdict("04.2", False, f"{path} was written by labkit (or another tool), not by docker save: "
                       "the exercise asks what this engine's save writes.", "docker save -o work/04/mine.tar IMAGE")
    expected = _engine_format()
    if expected is not None and expected[0] != info.format:
        return verdict("04.2", False, f"This engine (Docker {expected[1]}) saves {expected[0]}, but {path} is "
                       f"{info.format}: it was saved by another engine.", "save it again here: docker save -o ...")
    if named == info.format:
        more = (" Since Docker 25.0 (moby PR #44598) docker save writes an OCI image layout: index.json and "
                "blobs/sha256/, with manifest.json kept for older tools." if named == "oci-layout" else
                " Docker before 25 writes manifest.json, the config, and one folder per layer (layer.tar, "
                "VERSION, json): no index.json.")
        return verdict("04.2", True, f"{info.format}: that is what your file holds.{more}")
    if named == "docker-archive" and info.format == "oci-layout":
        return verdict("04.2", False, "Your file has manifest.json, as a docker-archive does, but also index.json "
                       "and blobs/sha256/: labkit (and Docker 25+) call that an OCI layout.",
                       "list it: tar -tf " + str(path))
    return verdict("04.2", False, f"Your file is not {named}: it is {info.format}.",
                   f"list it: tar -tf {path}, and look for index.json")


def _engine_format() -> tuple[str, str] | None:
    """(what this engine's docker save writes, its version), or None without an engine."""
    eng = live.engine()
    if eng is None:
        return None
    try:
        facts = eng.facts
        return ("oci-layout" if facts.major >= 25 else "docker-archive"), facts.version
    except LabkitError:
        return None
    finally:
        live.close(eng)
