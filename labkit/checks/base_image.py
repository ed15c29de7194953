"""Checkers of notebook 04, a base image from scratch."""
from __future__ import annotations

import posixpath

from labkit.checks.verdict import Verdict, inspect_answer, norm_path, unanswered, verdict


def check_04_1(path) -> Verdict:
    """A one-layer image with /bin/busybox and /bin/sh linking to it."""
    if path is None:
        return unanswered("04.1", "the path of your image")
    info, failed = inspect_answer("04.1", path, "your busybox image")
    if failed:
        return failed
    if len(info.layers) != 1:
        return verdict("04.1", False, f"This image has {len(info.layers)} layers; the exercise asks for one.",
                        "labkit.oci.Image([[...every entry in one list...]], ...)")
    if "bin/busybox" not in info.files:
        return verdict("04.1", False, "There is no /bin/busybox in this image.",
                        "Entry.file(\"bin/busybox\", source=busybox.source(work)), with "
                        "busybox = labkit.lessons.busybox(eng)")
    entries = {norm_path(e.path): e for e in info.layers[0].entries}
    box = entries.get("bin/busybox")
    if box is not None and box.type == "file" and not box.mode & 0o111:
        return verdict("04.1", False, f"/bin/busybox is mode {box.mode & 0o7777:04o}: without an execute bit "
                       "the runtime answers 'permission denied' (notebook 2).", "mode=0o755")
    if box is not None and box.type == "file" and box.size < 64:
        return verdict("04.1", False, f"/bin/busybox holds {box.size} bytes: too small for a program (an ELF "
                       "header alone is 64 bytes).", "source=busybox.source(work)")
    sh = entries.get("bin/sh")
    if sh is None or sh.type not in ("symlink", "hardlink"):
        return verdict("04.1", False, "/bin/sh is missing or is not a link.",
                        "Entry.symlink(\"bin/sh\", \"busybox\") or Entry.hardlink(\"bin/sh\", \"bin/busybox\")")
    # a symbolic link is read from its folder (or from / when absolute), a hard link from the root
    base = "bin" if sh.type == "symlink" and not sh.linkname.startswith("/") else ""
    target = posixpath.normpath(posixpath.join("/", base, sh.linkname)).lstrip("/")
    if target != "bin/busybox":
        return verdict("04.1", False, f"/bin/sh links to {sh.linkname!r}, which is /{target}, not /bin/busybox.",
                        "a symbolic link \"busybox\" (next to it) or \"/bin/busybox\"; a hard link to \"bin/busybox\"")
    return verdict("04.1", True, "One program, many names: busybox reads argv[0] and becomes sh.")


def check_04_2(path) -> Verdict:
    """Two layers: busybox with its links, then a layer that deletes /bin/busybox."""
    if path is None:
        return unanswered("04.2", "the path of your two-layer image")
    info, failed = inspect_answer("04.2", path, "your two-layer image")
    if failed:
        return failed
    if len(info.layers) != 2:
        return verdict("04.2", False, f"This image has {len(info.layers)} layer(s), not 2.",
                        "Image([busybox_layer, [labkit.oci.Entry.whiteout(\"bin/busybox\")]])")
    if "bin/busybox" not in info.layers[0].files:
        return verdict("04.2", False, "The first layer has no /bin/busybox to delete.",
                        "start from the busybox layer you built above")
    deleted = {e.target for e in info.layers[1].entries if e.whiteout}
    if "bin/busybox" not in deleted:
        return verdict("04.2", False, "The second layer does not delete /bin/busybox.",
                        "labkit.oci.Entry.whiteout(\"bin/busybox\")")
    if "bin/busybox" in info.files:
        return verdict("04.2", False, "/bin/busybox is still in the merged file system.",
                        "the second layer must not add it back")
    total = sum(layer.size for layer in info.layers)
    first = {norm_path(e.path): e for e in info.layers[0].entries}
    hard = sorted("/" + p for p, e in first.items()
                  if e.type == "hardlink" and norm_path(e.linkname) == "bin/busybox" and p in info.files)
    soft = sorted("/" + p for p, e in first.items() if e.type == "symlink" and p not in deleted
                  and posixpath.normpath(posixpath.join("/", posixpath.dirname(p), e.linkname)) == "/bin/busybox")
    fate = ["/bin/busybox is gone"]
    if soft:
        fate.append(f"so the symbolic link{'s' if len(soft) > 1 else ''} {_names(soft)} now point"
                    f"{'' if len(soft) > 1 else 's'} nowhere{' and no shell can start' if '/bin/sh' in soft else ''}")
    if hard:
        fate.append(f"but {_names(hard)} still run{'' if len(hard) > 1 else 's'}: a hard link is another name for "
                    "the same file, and a whiteout hides one name, not the file")
    return verdict("04.2", True, f"{', '.join(fate)}; yet the layers hold {total:,} bytes: deleting adds a layer, "
                   "it never shrinks the ones below.")


def _names(paths: list[str]) -> str:
    """``/bin/sh and /bin/ls``; the first three of a longer list."""
    shown = paths[:3] + (["…"] if len(paths) > 3 else [])
    return " and ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + " and " + shown[-1]


def check_04_3(name) -> Verdict:
    """The path of the whiteout entry that deletes /etc/motd in an upper layer."""
    if name is None:
        return unanswered("04.3", "a path inside the layer tar")
    answer = norm_path(name)
    if answer == "etc/.wh.motd":
        return verdict("04.3", True, "An empty file named .wh.<name> next to what it hides.")
    if answer.endswith(".wh.motd"):
        return verdict("04.3", False, "Right name, wrong folder.", "the whiteout sits in the same directory")
    if answer == "etc/.wh..wh..opq":
        return verdict("04.3", False, "That opaque marker would hide all of /etc.", "hide one file")
    return verdict("04.3", False, f"{name!r} would not delete /etc/motd.", "prefix the file name with .wh.")
