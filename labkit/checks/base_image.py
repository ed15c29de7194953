"""Checker 05.1 of notebook 05, a base image from scratch: a shell in a FROM scratch image,
judged by running ``sh`` (on the engine where one answers, by the runtime's rules
otherwise). The whiteout exercises (05.2-05.4) are :mod:`labkit.checks.whiteouts`."""
from __future__ import annotations

from labkit.checks import live
from labkit.checks.runtime import Fault, Rootfs, start
from labkit.checks.verdict import Verdict, in_work, inspect_answer, norm_path, not_verified, unanswered, verdict
from labkit.errors import LabkitError
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
                       "data/notes.txt): the exercise asks for one you write.",
                       "three entries: bin, bin/busybox, bin/sh")
    if len(info.layers) != 1:
        return verdict("05.1", False, f"This image has {len(info.layers)} layers; the exercise asks for one.",
                        "labkit.oci.Image([[...every entry in one list...]], ...)")
    try:
        with Rootfs(path, info) as fs:
            found = _shell(fs, info)
    except LabkitError as err:
        return verdict("05.1", False, f"labkit could not unpack {path}: {err}", "write it with labkit.oci.Image(...)")
    if isinstance(found, Verdict):
        return found
    how, kind = found
    if kind == "elf":
        return verdict("05.1", False, f"{how[0].upper() + how[1:]}, but that program is not busybox: sh would start "
                       "it, and it is no shell.", "source=labkit.lessons.busybox(eng).source(work)")
    if kind == "stand-in":
        return not_verified("05.1", "your /bin/busybox is labkit's stand-in (no static busybox on this machine), "
                            "so nothing here can run sh", f"By the runtime's rules {how}.")
    real = _run_sh(path, info)
    if real:
        return verdict("05.1", False, f"By the rules {how}, but on the engine `sh -c 'echo ok'` fails: \"{real}\".",
                       "mode=0o755 on bin/busybox, and a busybox for the engine's architecture")
    return verdict("05.1", True, f"One program, many names: {how}, and busybox reads argv[0] and becomes sh.")


def _shell(fs: Rootfs, info) -> tuple[str, str] | Verdict:
    """``(how /bin/sh reaches busybox, what busybox is)``, or why it does not."""
    box_path, box = fs.resolve("/bin/busybox")
    if box is None or box.type != "file":
        return verdict("05.1", False, "There is no /bin/busybox in this image." if box is None else
                       f"/bin/busybox is a {box.type}, not a program file.",
                       "Entry.file(\"bin/busybox\", source=busybox.source(work)), with "
                       "busybox = labkit.lessons.busybox(eng)")
    if box.size < 64:
        return verdict("05.1", False, f"/bin/busybox holds {box.size} bytes: too small for a program (an ELF header "
                       "alone is 64 bytes).", "source=busybox.source(work)")
    entries = {norm_path(e.path): e for e in info.layers[0].entries}
    sh_path, sh = fs.resolve("/bin/sh")
    first = entries.get(fs.resolve("/bin")[0] + "/sh")
    if first is None or first.type not in ("symlink", "hardlink"):
        return verdict("05.1", False, "/bin/sh is missing or is not a link." if first is None else
                       f"/bin/sh is a {first.type} of its own, not a link to busybox.",
                       "Entry.symlink(\"bin/sh\", \"busybox\") or Entry.hardlink(\"bin/sh\", \"bin/busybox\")")
    linked = sh_path == box_path or (first.type == "hardlink" and first.link_path == box_path)
    if not linked:
        target = sh_path if sh is not None else first.linkname
        return verdict("05.1", False, f"/bin/sh links to {first.linkname!r}, which is /{target.lstrip('/')}, not "
                       f"/bin/busybox.", "a symbolic link \"busybox\" (next to it) or \"/bin/busybox\"; a hard "
                       "link to \"bin/busybox\"")
    fs.config = {}
    try:
        started = start(fs, ["/bin/sh", "-c", "echo ok"])
    except Fault as fault:
        return verdict("05.1", False, f"/bin/sh reaches /bin/busybox, but it does not start: {fault.why} "
                       f"(\"{fault.words}\").", fault.hint or "mode=0o755")
    how = "a symbolic link" if first.type == "symlink" else "a hard link"
    return f"/bin/sh is {how} to /{box_path}", started.kind


def _run_sh(path, info) -> str | None:
    """What the engine says when ``/bin/sh -c 'echo ok'`` fails in the image (None: it
    ran, or no engine answers)."""
    eng = live.engine()
    if eng is None:
        return None
    try:
        with live.loaded(eng, path, info.config_digest) as ref:
            run = eng.docker(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", ref, "-c", "echo ok"])
    except LabkitError as err:
        return str(err)
    finally:
        live.close(eng)
    return None if run.exit_code == 0 and run.output.strip().endswith("ok") else " ".join(run.output.split())[-300:]
