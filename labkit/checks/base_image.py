"""Checker 05.1 of notebook 05, a base image from scratch: a shell in a FROM scratch image.
The whiteout exercises (05.2-05.4) are :mod:`labkit.checks.whiteouts`."""
from __future__ import annotations

import posixpath

from labkit.checks.verdict import Verdict, in_work, inspect_answer, norm_path, unanswered, verdict
from labkit.scenarios.busybox import APPLETS

#: The paths of the busybox layer the notebook builds itself (labkit.scenarios.busybox_layer).
NOTEBOOK_LAYER = {"bin", "bin/busybox", "data", "data/notes.txt", *(f"bin/{a}" for a in APPLETS)}


def check_05_1(path) -> Verdict:
    """A one-layer image with /bin/busybox and /bin/sh linking to it."""
    if path is None:
        return unanswered("05.1", "the path of your image")
    info, failed = inspect_answer("05.1", path, "your busybox image")
    if failed:
        return failed
    if not in_work(path):
        return verdict("05.1", False, f"{path} is not under work/: the exercise asks for an image you write.",
                       "write it to work/05/shell.tar")
    if len(info.layers) == 1 and {e.path for e in info.layers[0].entries} == NOTEBOOK_LAYER:
        return verdict("05.1", False, "That is the notebook's own busybox layer (its applet links and "
                       "data/notes.txt): the exercise asks for one you write.", "three entries: bin, bin/busybox, bin/sh")
    if len(info.layers) != 1:
        return verdict("05.1", False, f"This image has {len(info.layers)} layers; the exercise asks for one.",
                        "labkit.oci.Image([[...every entry in one list...]], ...)")
    if "bin/busybox" not in info.files:
        return verdict("05.1", False, "There is no /bin/busybox in this image.",
                        "Entry.file(\"bin/busybox\", source=busybox.source(work)), with "
                        "busybox = labkit.lessons.busybox(eng)")
    entries = {norm_path(e.path): e for e in info.layers[0].entries}
    box = entries.get("bin/busybox")
    if box is not None and box.type == "file" and not box.mode & 0o111:
        return verdict("05.1", False, f"/bin/busybox is mode {box.mode & 0o7777:04o}: without an execute bit "
                       "the runtime answers 'permission denied' (notebook 3).", "mode=0o755")
    if box is not None and box.type == "file" and box.size < 64:
        return verdict("05.1", False, f"/bin/busybox holds {box.size} bytes: too small for a program (an ELF "
                       "header alone is 64 bytes).", "source=busybox.source(work)")
    sh = entries.get("bin/sh")
    if sh is None or sh.type not in ("symlink", "hardlink"):
        return verdict("05.1", False, "/bin/sh is missing or is not a link.",
                        "Entry.symlink(\"bin/sh\", \"busybox\") or Entry.hardlink(\"bin/sh\", \"bin/busybox\")")
    # a symbolic link is read from its folder (or from / when absolute), a hard link from the root
    base = "bin" if sh.type == "symlink" and not sh.linkname.startswith("/") else ""
    target = posixpath.normpath(posixpath.join("/", base, sh.linkname)).lstrip("/")
    if target != "bin/busybox":
        return verdict("05.1", False, f"/bin/sh links to {sh.linkname!r}, which is /{target}, not /bin/busybox.",
                        "a symbolic link \"busybox\" (next to it) or \"/bin/busybox\"; a hard link to \"bin/busybox\"")
    return verdict("05.1", True, "One program, many names: busybox reads argv[0] and becomes sh.")
