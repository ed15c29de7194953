"""Checkers of notebook 02, a static hello."""
from __future__ import annotations

import os
import platform
import posixpath
import tempfile
from pathlib import Path
from typing import Callable

from labkit import hello, oci
from labkit.checks.verdict import Verdict, inspect_answer, unanswered, verdict
from labkit.errors import LabkitError


def check_02_1(path) -> Verdict:
    """A tiny hello with a message of your own, written to ``path``."""
    if path is None:
        return unanswered("02.1", "the path of your hello binary")
    p = Path(path) if isinstance(path, (str, os.PathLike)) else None
    if p is None or not p.is_file():
        return verdict("02.1", False, f"There is no file at {path}.",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    data = p.read_bytes()
    if not data.startswith(b"\x7fELF"):
        return verdict("02.1", False, f"{path} is not an ELF program.", "use labkit.hello.build(\"tiny\", ...)")
    if hello.DEFAULT_MESSAGE in data:
        return verdict("02.1", False, "It still prints the default message.",
                        "pass message=b\"your text\\n\" to labkit.hello.build")
    try:
        info = hello.describe(p)
    except LabkitError as err:
        return verdict("02.1", False, f"labkit could not read {path}: {err}",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    if not info.static:
        return verdict("02.1", False, "This program is dynamic; it would not run in a FROM scratch image.",
                        "the tiny variant is static: labkit.hello.build(\"tiny\", ...)")
    if info.message_len is None:
        return verdict("02.1", False, f"A static program of {info.size:,} bytes, but not labkit's tiny hello.",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    return verdict("02.1", True, f"A static program of {info.size:,} bytes with your own "
                   f"{info.message_len}-byte message.")


#: The dynamic loader a glibc program asks for, by machine: the path PT_INTERP holds (the
#: ABI's name for it), and where Debian keeps the file that path links to.
LOADERS = {"x86_64": ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
           "aarch64": ("/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1")}


def check_02_2(interpreter) -> Verdict:
    """The path of the program the kernel must load before the dynamic hello can start
    (the x86_64 one of the recordings, or this machine's own)."""
    if interpreter is None:
        return unanswered("02.2", "a path like \"/lib/...\"")
    answer = str(interpreter).strip()
    here = platform.machine().lower().replace("arm64", "aarch64").replace("amd64", "x86_64")
    accepted = {LOADERS["x86_64"][0], LOADERS.get(here, LOADERS["x86_64"])[0]}
    if answer in {LOADERS["x86_64"][1], LOADERS.get(here, LOADERS["x86_64"])[1]}:
        return verdict("02.2", False, "That is where Debian keeps the loader's file, but the program names "
                       "another path, and the kernel opens exactly the path the program names.",
                       "labkit.hello.describe(path).interpreter, or the file column of the table")
    if answer in accepted:
        return verdict("02.2", True, "The dynamic loader, named in the ELF's PT_INTERP header: the kernel "
                       "looks for it in the image, finds nothing, and the run fails.")
    if answer in {p for paths in LOADERS.values() for p in paths}:
        return verdict("02.2", False, "That is the loader for another processor than the one the "
                       "dynamic hello was built for.", "labkit.hello.describe(path).interpreter tells you")
    if "/" not in answer and answer.startswith("ld-"):
        return verdict("02.2", False, "Right file, but the kernel needs its full path, as PT_INTERP names it.",
                       "/lib64/" + answer if "x86-64" in answer else "look at the interpreter column of the table")
    if "libc" in answer:
        return verdict("02.2", False, "libc is missing too, but the kernel never gets that far.",
                       "look at the interpreter the program asks for: labkit.hello.describe(path)")
    if "musl" in answer:
        return verdict("02.2", False, "That is musl's loader; the dynamic hello was linked with GNU libc.",
                       "labkit.hello.describe(path).interpreter tells you")
    return verdict("02.2", False, f"{answer!r} is not what the dynamic hello asks for.",
                   "labkit.hello.describe(path).interpreter tells you")


def check_02_3(layer_size: Callable[[int], int] | None) -> Verdict:
    """A function: file size in bytes -> smallest possible layer tar holding just that file."""
    if layer_size is None:
        return unanswered("02.3", "a function, e.g. def layer_size(n): return ...")
    if not callable(layer_size):
        return verdict("02.3", False, "Pass the function itself, not a number.",
                        "def layer_size(n): ..., then check_02_3(layer_size)")
    for n in (150, 13376, 512, 513, 1, 0):
        try:
            got = layer_size(n)
        except Exception as err:  # the learner's code: report, never crash the check
            return verdict("02.3", False, f"layer_size({n}) raised {type(err).__name__}: {err}")
        want = oci.one_file_layer_size(n)
        if got != want:
            hint = {0: "an empty file still needs its header and the end-of-archive blocks",
                    512: "512 bytes fill exactly one block: no padding block is added",
                    513: "513 bytes need two data blocks"}.get(
                n, "one 512-byte header, the data padded up to whole 512-byte blocks, two zero blocks at the end")
            return verdict("02.3", False, f"layer_size({n}) gives {got!r}; the floor is different.", hint)
    return verdict("02.3", True, "Header + data in 512-byte blocks + 1024 bytes of end marker: "
                    "a 150-byte program needs a 2,048-byte layer.")


# --- 02.5: fix the image that fails twice ------------------------------------------------
#: Bytes ``check_02_5`` unpacks at most (the fixed image is a few kilobytes).
_MAX_UNPACK = 256 * 1024 * 1024
_SYMLINK_HOPS = 16
_HINT_USER = ("user=\"65534\" needs no /etc/passwd; or keep user=\"nobody\" and add etc/passwd "
              "(a line nobody:x:65534:65534::/nonexistent:/sbin/nologin)")


def _merged_entries(layers) -> dict:
    """path -> TarEntry of the merged filesystem (whiteouts hit the lower layers only)."""
    tree: dict = {}
    for layer in layers:
        whiteouts = [e for e in layer.entries if e.whiteout]
        tree = {p: e for p, e in tree.items() if not any(w.hides(p) for w in whiteouts)}
        tree.update((e.path, e) for e in layer.entries if not e.whiteout and e.path not in (".", ""))
    return tree


def _resolve(tree: dict, path: str):
    """``(path, entry)`` that ``path`` names after following symlinks (in any folder on
    the way, as the kernel does: ``/bin`` -> ``usr/bin``) and hard links in the image;
    ``(path, None)`` when nothing is there."""
    parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
    resolved, hops = "", 0
    while parts:
        candidate = posixpath.join(resolved, parts.pop(0)) if resolved else parts.pop(0)
        entry = tree.get(candidate)
        link = entry is not None and (entry.type == "symlink" or (entry.type == "hardlink" and not parts))
        if not link:
            resolved = candidate
            continue
        hops += 1
        if hops > _SYMLINK_HOPS:
            return candidate, None
        base = "" if entry.type == "hardlink" or entry.linkname.startswith("/") else resolved
        target = posixpath.normpath("/" + posixpath.join(base, entry.linkname))
        parts = [p for p in target.split("/") if p] + parts
        resolved = ""
    return resolved, tree.get(resolved)


def _accounts(tree: dict, root: Path, name: str) -> list[list[str]] | None:
    """The lines of ``/etc/<name>`` as fields (comments and blank lines skipped), or None
    when the image has no such file."""
    path, entry = _resolve(tree, f"etc/{name}")
    if entry is None or entry.type != "file":
        return None
    lines = (root / path).read_text("utf-8", "replace").splitlines()
    return [ln.strip().split(":") for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _number(field: str) -> int:
    # Like Go's strconv.Atoi with the error ignored, as moby/sys/user parses these files.
    return int(field) if field.isdigit() else 0


def exec_user(spec: str, passwd: list[list[str]] | None, group: list[list[str]] | None
              ) -> tuple[int, int, list[int]]:
    """``(uid, gid, supplementary gids)`` the runtime starts the program as, for the
    config's ``User`` (``name|uid[:group|gid]``), following moby/sys/user's GetExecUser.

    Raises:
        ValueError: the runtime's own words when it cannot find the user or group.

    Example:
        >>> exec_user("65534", None, None)
        (65534, 0, [])
        >>> exec_user("nobody", None, None)
        Traceback (most recent call last):
        ...
        ValueError: unable to find user nobody: no matching entries in passwd file
    """
    name, _, group_name = spec.partition(":")
    uid, gid, sgids, matched = 0, 0, [], ""
    if name:
        rows = [r for r in passwd or [] if r[0] == name or (name.isdigit() and len(r) > 2
                                                             and _number(r[2]) == int(name))]
        if rows:
            row = rows[0] + [""] * 4
            matched, uid, gid = row[0], _number(row[2]), _number(row[3])
        elif name.isdigit():
            uid = int(name)
        else:
            raise ValueError(f"unable to find user {name}: no matching entries in passwd file")
    if group_name:
        rows = [r for r in group or [] if r[0] == group_name or (group_name.isdigit() and len(r) > 2
                                                                 and _number(r[2]) == int(group_name))]
        if rows:
            gid = _number((rows[0] + [""] * 3)[2])
        elif group_name.isdigit():
            gid = int(group_name)
        else:
            raise ValueError(f"unable to find group {group_name}: no matching entries in group file")
    elif matched:
        sgids = [_number((r + [""] * 4)[2]) for r in group or []
                 if matched in (r + [""] * 4)[3].split(",")]
    return uid, gid, sgids


def _may_execute(mode: int, uid: int, gid: int, sgids: list[int]) -> bool:
    """The kernel's check for a file owned by 0:0 (labkit writes every entry so)."""
    if uid == 0:
        return bool(mode & 0o111)
    return bool(mode & (0o010 if 0 in (gid, *sgids) else 0o001))


def check_02_5(path) -> Verdict:
    """A fixed copy of the broken image (``/hello`` mode 0644 and ``USER nobody`` without
    ``/etc/passwd``): it must start, as a user other than root. Every fix that would run
    passes: ``USER 65534``, an ``/etc/passwd`` that names the user, mode 0755, 0711 …"""
    if path is None:
        return unanswered("02.5", "the path of your fixed image (a .tar you wrote)")
    info, failed = inspect_answer("02.5", path, "your fixed image")
    if failed:
        return failed
    config = info.config.get("config") or {}
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if not argv:
        return verdict("02.5", False, "The image has no command to run.", "cmd=[\"/hello\"]")
    if not argv[0].startswith("/"):
        return verdict("02.5", False, f"The command {argv[0]!r} is not a path: the runtime searches "
                       "$PATH (/usr/local/sbin … /bin) for it, and finds nothing there.", "cmd=[\"/hello\"]")
    tree = _merged_entries(info.layers)
    target, entry = _resolve(tree, argv[0])
    if entry is None or entry.type != "file":
        what = "nothing" if entry is None else f"a {entry.type}"
        return verdict("02.5", False, f"{argv[0]} is {what} in this image, not a program file.",
                       "put the program in the layer: labkit.oci.Entry.file(\"hello\", source=..., mode=0o755)")
    spec = config.get("User") or ""
    with tempfile.TemporaryDirectory(prefix="labkit-check-") as tmp:
        try:
            oci.extract(path, tmp, max_bytes=_MAX_UNPACK)
        except LabkitError as err:
            return verdict("02.5", False, f"labkit could not unpack {path}: {err}",
                           "write the image with labkit.oci.Image(...).write(path)")
        problems, hints, who, notes = _diagnose(info, tree, Path(tmp), argv[0], (target, entry), spec)
    if problems:
        return verdict("02.5", False, "Still wrong: " + " ".join(problems), "; ".join(hints))
    how = ("a number needs no /etc/passwd" if spec.partition(":")[0].isdigit()
           else f"{spec.partition(':')[0]} is in your /etc/passwd")
    return verdict("02.5", True, f"It starts: {argv[0]} (mode {entry.mode & 0o7777:04o}) runs as "
                   f"uid {who[0]}, gid {who[1]} ({how}).{''.join(' ' + n for n in notes)}")


def _diagnose(info, tree: dict, root: Path, program: str, found, spec: str):
    """What would still stop the fixed image: ``(problems, hints, (uid, gid, sgids) or None,
    notes)``; notes are what Docker warns about but runs anyway."""
    target, entry = found
    problems, hints, who, notes = [], [], None, []
    try:
        who = exec_user(spec, _accounts(tree, root, "passwd"), _accounts(tree, root, "group"))
    except ValueError as err:
        where = "" if _accounts(tree, root, "passwd") is not None else " (the image has no /etc/passwd)"
        problems.append(f"USER {spec}: the runtime answers \"{err}\"{where}.")
        hints.append(_HINT_USER)
    if who is not None and who[0] == 0:
        problems.append("It would start, but as root (uid 0): keep an unprivileged user.")
        hints.append(_HINT_USER)
    mode = entry.mode & 0o7777
    if who is None:
        runnable = bool(mode & 0o001)          # whoever it becomes, "other" may need it
    else:
        runnable = _may_execute(mode, *who) and all(
            _may_execute(d.mode, *who) for d in _parents(tree, target))
    if not runnable:
        whom = "that user" if who is None else f"uid {who[0]} (gid {who[1]})"
        file_ok = who is not None and _may_execute(mode, *who)
        folder = next((d for d in _parents(tree, target) if who and not _may_execute(d.mode, *who)), None)
        if file_ok and folder is not None:
            problems.append(f"the folder /{folder.path} above {program} is mode {folder.mode & 0o7777:04o}: "
                            f"{whom} may not enter it, so the kernel answers \"permission denied\".")
            hints.append(f"mode=0o755 on the folder /{folder.path}")
        else:
            problems.append(f"{program} is mode {mode:04o}: {whom} may not execute it, so the kernel "
                            "answers \"permission denied\".")
            hints.append("mode=0o755 on the file")
    try:
        binary = hello.describe(root / target)
    except LabkitError:
        problems.append(f"{program} is not an ELF program the kernel can start.")
        hints.append("use labkit.hello.build(\"tiny\", ...)")
        return problems, hints, who, notes
    wanted = {"x86_64": "amd64", "aarch64": "arm64"}.get(binary.arch, binary.arch)
    if wanted != info.config.get("architecture", wanted):
        notes.append(f"(Your config says {info.config.get('architecture')} for an {binary.arch} program: docker "
                     "run warns that the platforms differ, then runs it on an engine of the program's "
                     f"architecture. architecture=\"{wanted}\" says what it is.)")
    if not binary.static and _resolve(tree, binary.interpreter or "")[1] is None:
        problems.append(f"{program} is dynamically linked: the kernel needs "
                        f"{binary.interpreter}, which the image lacks.")
        hints.append("use a static program")
    return problems, hints, who, notes


def _parents(tree: dict, path: str) -> list:
    """The folder entries above ``path`` that the image holds (the others are 0755)."""
    parts = path.split("/")[:-1]
    return [tree[p] for p in ("/".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in tree]
