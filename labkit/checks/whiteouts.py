"""Checkers of notebook 05's whiteouts: delete busybox in a second layer and say what
``sh`` then does (05.2), name a whiteout (05.3), an opaque whiteout (05.4).

Example:
    >>> check_05_3("/etc/.wh.motd").passed
    True
"""
from __future__ import annotations

import os
import posixpath
import re

from labkit.checks import live
from labkit.checks.runtime import Fault, Rootfs, start
from labkit.checks.verdict import (Verdict, in_work, inspect_answer, norm_path, text_answer, unanswered,
                                   verdict)
from labkit.errors import LabkitError
from labkit.oci.merge import Tree

_FAILS = re.compile(r"\b(fail|fails|failed|failing|error|errors|broken|breaks|crash|crashes|not found|no such|"
                    r"cannot|can't|cant|won't|wont|doesn't|does not|dont|don't|not run|not start|dies|missing|"
                    r"dangling|nowhere|gone)\b")
_RUNS = re.compile(r"\b(run|runs|running|works|work|working|starts|start|succeeds|ok|okay|fine|still)\b")


def prediction(text) -> str | None:
    """``"runs"`` or ``"fails"`` from a learner's words; None when they say neither (or both).

    Example:
        >>> prediction("It still runs"), prediction("sh: not found"), prediction("it won't run")
        ('runs', 'fails', 'fails')
    """
    if not isinstance(text, str):
        return None
    clean = " ".join(text.lower().replace("’", "'").split())
    fails, runs = bool(_FAILS.search(clean)), bool(_RUNS.search(clean))
    if fails:
        return "fails"
    return "runs" if runs else None


def _split(answer) -> tuple[object, object] | None:
    """``(path, prediction)`` from a pair in either order."""
    if isinstance(answer, dict):
        answer = (answer.get("path"), answer.get("prediction"))
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    first, second = answer
    if isinstance(first, str) and prediction(first) and not os.path.exists(first):
        first, second = second, first
    return first, second


def check_05_2(answer) -> Verdict:
    """``(path, prediction)``: your two-layer image (busybox with its links, then a layer
    that deletes /bin/busybox), and what ``/bin/sh`` does in it: ``"runs"`` or ``"fails"``."""
    if answer is None:
        return unanswered("05.2", '(path, "runs" or "fails")')
    pair = _split(answer)
    if pair is None:
        return verdict("05.2", False, "The answer is two things: your image's path, and what /bin/sh does in it.",
                       'answer = ("work/05/deleted.tar", "runs")  # or "fails"')
    path, said = pair
    text, failed = text_answer("05.2", said, '"runs" or "fails"')
    if failed:
        return failed
    guess = prediction(text)
    if guess is None:
        return verdict("05.2", False, f"{text!r}: say whether /bin/sh runs or fails.", 'write "runs" or "fails"')
    info, failed = inspect_answer("05.2", path, "your two-layer image")
    if failed:
        return failed
    problem = _image_problem(info, path)
    if problem:
        return verdict("05.2", False, *problem)
    truth, why, how = _sh_runs(path, info)
    if truth is None:
        return verdict("05.2", False, f"labkit could not unpack {path}: {why}", "write it with labkit.oci.Image(...)")
    total = sum(layer.size for layer in info.layers)
    kept = f"The layers still hold {total:,} bytes: deleting adds a layer, it never shrinks the ones below."
    if guess != truth:
        return verdict("05.2", False, f"Your image is right, but /bin/sh {truth} here; you predicted it {guess}: {why}.",
                       "look at how /bin/sh links to busybox in your first layer")
    return verdict("05.2", True, f"Right: /bin/sh {truth}{how}. {why[0].upper() + why[1:]}. {kept}")


def _image_problem(info, path) -> tuple[str, str] | None:
    if not in_work(path):
        return f"{path} is not under work/: the exercise asks for an image you write.", "write it under work/05/"
    if len(info.layers) != 2:
        return (f"This image has {len(info.layers)} layer(s), not 2.",
                "Image([busybox_layer, [labkit.oci.Entry.whiteout(\"bin/busybox\")]])")
    if "bin/busybox" not in info.layers[0].files:
        return "The first layer has no /bin/busybox to delete.", "start from the busybox layer you built above"
    if "bin/busybox" not in {e.target for e in info.layers[1].entries if e.whiteout}:
        return "The second layer does not delete /bin/busybox.", "labkit.oci.Entry.whiteout(\"bin/busybox\")"
    if "bin/busybox" in info.files:
        return "/bin/busybox is still in the merged file system.", "the second layer must not add it back"
    return None


def _sh_runs(path, info) -> tuple[str | None, str, str]:
    """``("runs" or "fails", why, how it was found)``: on the engine where one answers,
    by the runtime's rules otherwise."""
    try:
        with Rootfs(path, info) as fs:
            fs.config = {k: v for k, v in fs.config.items() if k not in ("Entrypoint", "User")}
            try:
                start(fs, ["/bin/sh", "-c", "echo ok"])
                rule, why = "runs", _why_runs(fs)
            except Fault as fault:
                rule, why = "fails", f"{fault.why} (\"{fault.words}\")"
    except LabkitError as err:
        return None, str(err), ""
    eng = live.engine()
    if eng is None:
        return rule, why, " (by the runtime's rules: no engine here)"
    try:
        with live.loaded(eng, path, info.config_digest) as ref:
            run = eng.docker(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", ref, "-c", "echo ok"])
    except LabkitError as err:
        return rule, why, f" (by the runtime's rules: the engine refused the image: {err})"
    finally:
        live.close(eng)
    real = "runs" if run.exit_code == 0 and "ok" in run.output else "fails"
    if real != rule:
        why = f"the engine says {' '.join(run.output.split())[:200]!r}"
    return real, why, " (docker run --entrypoint /bin/sh … -c 'echo ok' on the engine)"


def _why_runs(fs: Rootfs) -> str:
    entry = fs.nodes.get("bin/sh")
    layer0 = {e.path: e for e in fs.info.layers[0].entries}
    first = layer0.get("bin/sh")
    if first is not None and first.type == "hardlink":
        return ("/bin/sh is a hard link: another name for the same file, and the whiteout hides only the name "
                "/bin/busybox")
    if entry is not None and entry.type == "file":
        return "/bin/sh is a file of its own, not a link to /bin/busybox"
    return "/bin/sh still reaches a program"


def check_05_3(name) -> Verdict:
    """The path of the whiteout entry that deletes /etc/motd in an upper layer."""
    if name is None:
        return unanswered("05.3", "a path inside the layer tar")
    text, failed = text_answer("05.3", name, "a path inside the layer tar, as a string")
    if failed:
        return failed
    answer = norm_path(text.strip().strip("\"'`"))
    if answer == "etc/.wh.motd":
        return verdict("05.3", True, "An empty file named .wh.<name> next to what it hides.")
    if answer.lower() == "etc/.wh.motd":
        return verdict("05.3", False, "Right place, but names in a layer are case-sensitive: .wh. and motd are "
                       "lower case.", "etc/.wh.motd")
    if answer.endswith(".wh.motd"):
        return verdict("05.3", False, "Right name, wrong folder.", "the whiteout sits in the same folder as motd")
    if answer.endswith(".wh..wh..opq"):
        return verdict("05.3", False, "That opaque marker would hide all of a folder's lower content.", "hide one file")
    if re.fullmatch(r"etc/\.?wh\.?-?motd|etc/motd\.wh|etc/\.wh\.\.motd|etc/_wh_motd", answer):
        return verdict("05.3", False, "Close: the prefix is exactly .wh. (dot, w, h, dot).", "etc/.wh.motd")
    return verdict("05.3", False, f"{text!r} would not delete /etc/motd.", "prefix the file name with .wh.")


def check_05_4(path) -> Verdict:
    """Two layers: the second replaces all of /data by a folder holding only ``new.txt``,
    with an opaque whiteout (``data/.wh..wh..opq``)."""
    if path is None:
        return unanswered("05.4", "the path of your two-layer image")
    info, failed = inspect_answer("05.4", path, "your two-layer image")
    if failed:
        return failed
    if not in_work(path):
        return verdict("05.4", False, f"{path} is not under work/: the exercise asks for an image you write.",
                       "write it under work/05/")
    if len(info.layers) != 2:
        return verdict("05.4", False, f"This image has {len(info.layers)} layer(s), not 2.",
                       "Image([lower, upper]): the opaque whiteout goes in the second")
    below = sorted(e.path for e in info.layers[0].entries if e.path.startswith("data/") and not e.whiteout)
    if not below:
        return verdict("05.4", False, "The first layer puts nothing in /data: there is nothing to replace.",
                       "a first layer with data/old.txt (and more)")
    upper = info.layers[1].entries
    markers = [e.path for e in upper if e.opaque]
    near = [e.path for e in upper if re.search(r"wh.*op|\.opq|opaque", posixpath.basename(e.path)) and not e.opaque]
    view = _data_view(info)
    if "data/.wh..wh..opq" in markers:
        if view == ["data/new.txt"]:
            return verdict("05.4", True, f"/data now holds only new.txt: the marker hid all {len(below)} entries the "
                           "lower layer put there, by one name, without listing them.")
        return verdict("05.4", False, f"The marker is right, but /data holds {_listed(view)}, not new.txt alone.",
                       "the second layer: data/.wh..wh..opq and data/new.txt, nothing else in data/")
    if markers:
        return verdict("05.4", False, f"{markers[0]} is an opaque marker for /{posixpath.dirname(markers[0]) or ''}: "
                       "it hides what the lower layers put in that folder, not in /data.",
                       "labkit.oci.Entry.opaque(\"data\")")
    if near:
        return verdict("05.4", False, f"{near[0]} is not the marker: its name is exactly .wh..wh..opq.",
                       "labkit.oci.Entry.opaque(\"data\")")
    if view == ["data/new.txt"]:
        how = ("a whiteout of the whole folder (.wh.data) and a new one" if any(
            e.whiteout and e.target == "data" for e in upper) else
            "one whiteout per file (" + ", ".join(posixpath.basename(e.path) for e in upper if e.whiteout)[:80] + ")")
        return verdict("05.4", False, f"Right view, but not an opaque whiteout: you used {how}. The opaque marker "
                       "data/.wh..wh..opq hides everything below at once, names you do not know included.",
                       "labkit.oci.Entry.opaque(\"data\") in the second layer, beside data/new.txt")
    return verdict("05.4", False, f"/data holds {_listed(view)}; the exercise wants new.txt alone, by an opaque "
                   "whiteout.", "labkit.oci.Entry.opaque(\"data\") and data/new.txt in the second layer")


def _data_view(info) -> list[str]:
    """What the merged /data holds (every kind of entry), sorted."""
    tree = Tree()
    for layer in info.layers:
        tree.begin_layer()
        for entry in layer.entries:
            tree.apply(entry)
    return sorted(p for p in tree.nodes if p.startswith("data/"))


def _listed(paths: list[str]) -> str:
    if not paths:
        return "nothing"
    names = ", ".join(p[5:] for p in paths[:5]) + (" …" if len(paths) > 5 else "")
    return names
