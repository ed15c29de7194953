"""Exercise checkers: each says what is right, or what is wrong and a hint.

One checker per exercise, named ``check_<notebook>_<n>``. A checker never raises on
a wrong answer: it returns a :class:`Verdict` that shows in the notebook. A passed
exercise is remembered in a small JSON file (``progress()`` shows them all), kept in
``$LABKIT_PROGRESS`` or ``~/.local/share/labkit/progress.json``.

Example:
    >>> from labkit import checks
    >>> checks.check_03_3(None).passed is None
    True
    >>> print(checks.check_01_2("sha256:e3b0"))  # doctest: +ELLIPSIS
    ✘ 01.2 ...
"""
from __future__ import annotations

import datetime
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from labkit.errors import LabkitError

EXERCISES = {
    "00.1": "Read the mode line",
    "00.2": "The least an image needs",
    "01.1": "Write the empty image as an OCI layout",
    "01.2": "The digest of the empty layer",
    "01.3": "What names an image",
    "02.1": "Your own tiny hello",
    "02.2": "What the dynamic hello is missing",
    "02.3": "The smallest possible layer",
    "02.4": "A multi-stage Dockerfile",
    "03.1": "Docker 1.4's history",
    "03.2": "Same file, different digest",
    "03.3": "What docker save writes today",
    "04.1": "A shell in a FROM scratch image",
    "04.2": "Deleting busybox in a second layer",
    "04.3": "Name a whiteout",
}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``passed`` is True, False, or None (not answered yet).

    Example:
        >>> print(Verdict("01.2", True, "That is the empty tar's digest."))
        ✔ 01.2 That is the empty tar's digest.
    """

    exercise: str
    passed: bool | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        mark = {True: "✔", False: "✘", None: "…"}[self.passed]
        text = f"{mark} {self.exercise} {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {True: "#009E73", False: "#D55E00", None: "#0072B2"}[self.passed]
        hint = f"<br><b>Hint:</b> {html.escape(self.hint)}" if self.hint else ""
        return (f"<div style='border-left:4px solid {colour};padding:2px 8px'>"
                f"<b>{html.escape(str(self).splitlines()[0])}</b>{hint}</div>")


# --- progress ---------------------------------------------------------------------------
def progress_file() -> Path:
    """Where passed exercises are remembered (``$LABKIT_PROGRESS`` wins).

    Example:
        >>> progress_file().name
        'progress.json'
    """
    if os.environ.get("LABKIT_PROGRESS"):
        return Path(os.environ["LABKIT_PROGRESS"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "labkit" / "progress.json"


def _passed() -> dict[str, str]:
    try:
        data = json.loads(progress_file().read_text())
    except (OSError, ValueError):
        return {}
    passed = data.get("passed") if isinstance(data, dict) else None
    return {k: str(v) for k, v in passed.items() if k in EXERCISES} if isinstance(passed, dict) else {}


def _remember(exercise: str) -> None:
    passed = _passed()
    passed.setdefault(exercise, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"passed": passed}, indent=2, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass  # a read-only home must not spoil the exercise; the verdict still shows


def progress():
    """A table of every exercise: passed (and when) or still open.

    Example:
        >>> "01.1" in str(progress())
        True
    """
    from labkit import show

    passed = _passed()
    rows = [{"exercise": k, "what": title, "status": f"passed {passed[k]}" if k in passed else "open"}
            for k, title in EXERCISES.items()]
    return show.table(rows, title=f"Your progress: {len(passed)} of {len(EXERCISES)} exercises passed")


def _verdict(exercise: str, passed: bool | None, message: str, hint: str | None = None) -> Verdict:
    if passed:
        _remember(exercise)
    return Verdict(exercise, passed, message, hint)


def _unanswered(exercise: str, what: str) -> Verdict:
    return Verdict(exercise, None, f"Not answered yet: replace None with {what}, then run the cell again.")


def _inspect(exercise: str, path, what: str):
    """``labkit.oci.inspect(path)`` or a failing Verdict that says why it could not be read."""
    from labkit import oci

    if not isinstance(path, (str, os.PathLike)):
        return None, _verdict(exercise, False, f"{path!r} is not a path.",
                              f"pass the path (a string or pathlib.Path) you wrote {what} to")
    if not Path(path).exists():
        return None, _verdict(exercise, False, f"There is nothing at {path}.",
                              f"write {what} there first, then pass the same path")
    try:
        return oci.inspect(path), None
    except LabkitError as err:
        return None, _verdict(exercise, False, f"labkit could not read {path}: {err}",
                              f"write {what} with labkit.oci.Image(...).write(path, ...)")


def _norm_path(path: str) -> str:
    """``"/etc/x"``, ``"./etc/x"`` and ``"etc/x"`` all become ``"etc/x"``."""
    path = str(path).strip()
    while path.startswith(("./", "/")):
        path = path[1:] if path.startswith("/") else path[2:]
    return path


# --- notebook 00: start here -----------------------------------------------------------
def check_00_1(mode) -> Verdict:
    """The mode this notebook runs in, as the mode line shows it (``"live"``/``"offline"``)."""
    import labkit

    if mode is None:
        return _unanswered("00.1", "\"live\" or \"offline\"")
    actual = labkit.mode()
    if str(mode).strip().lower() == actual:
        return _verdict("00.1", True, f"Right: {actual}." + (
            " Engine cells run on your Docker now." if actual == "live"
            else " Engine cells show recorded results; labkit's own builder runs here."))
    return _verdict("00.1", False, f"The lab is not running {mode!r} right now.",
                    "read the line that starts with \"Mode:\" near the top")


def check_00_2(letter) -> Verdict:
    """The least an image needs to print hello: ``"a"``, ``"b"`` or ``"c"``."""
    if letter is None:
        return _unanswered("00.2", "\"a\", \"b\" or \"c\"")
    answer = str(letter).strip().lower()
    if answer == "b":
        return _verdict("00.2", True, "One program and the JSON that names it: notebook 2 builds exactly that.")
    if answer == "c":
        return _verdict("00.2", False, "Containers share the machine's kernel; images never carry one.",
                        "think of what the kernel needs to start a process")
    return _verdict("00.2", False, "A distribution is convenient, not necessary.",
                    "the kernel starts one program file; what else does that program need?")


# --- notebook 01: the empty image -------------------------------------------------------
def check_01_1(path) -> Verdict:
    """The empty image with Cmd ``["/hello"]``, written as an OCI layout directory."""
    if path is None:
        return _unanswered("01.1", "the path you wrote the image to")
    info, failed = _inspect("01.1", path, "the image")
    if failed:
        return failed
    if info.format != "oci-layout":
        return _verdict("01.1", False, f"This is a {info.format}, not an OCI layout.",
                        "write it with format=\"oci-dir\"")
    if info.layers:
        return _verdict("01.1", False, f"This image has {len(info.layers)} layer(s); the empty image has none.",
                        "build it with labkit.oci.Image(layers=[], cmd=[...])")
    cmd = (info.config.get("config") or {}).get("Cmd")
    if cmd != ["/hello"]:
        return _verdict("01.1", False, f"Its Cmd is {cmd!r}, not ['/hello'].",
                        "a command is a list of strings: cmd=[\"/hello\"]")
    return _verdict("01.1", True, "An empty OCI layout with Cmd ['/hello']: index.json, one manifest, "
                    "one config, no layers.")


def check_01_2(digest) -> Verdict:
    """The diff_id of an empty layer tar, computed with ``hashlib``."""
    from labkit import oci

    if digest is None:
        return _unanswered("01.2", "a string like \"sha256:...\"")
    digest = str(digest).strip().lower()
    if digest == oci.EMPTY_LAYER_DIFF_ID:
        return _verdict("01.2", True, "That is the empty tar: 1024 zero bytes, the two end-of-archive blocks.")
    hex_part = digest.split(":", 1)[-1]
    if not digest.startswith("sha256:") and re.fullmatch(r"[0-9a-f]{64}", hex_part):
        return _verdict("01.2", False, "The hex is there, but a digest names its algorithm.",
                        "write it as \"sha256:\" + hashlib.sha256(...).hexdigest()")
    if hex_part == hashlib.sha256(b"").hexdigest():
        return _verdict("01.2", False, "That is the digest of zero bytes, not of an empty tar archive.",
                        "a tar archive always ends with two 512-byte blocks of zeros")
    if hex_part == oci.SCHEMA1_EMPTY_GZIP_DIGEST.split(":")[-1]:
        return _verdict("01.2", False, "That is the gzipped empty tar (schema 1); a diff_id is taken "
                        "before compression.", "hash the uncompressed bytes")
    return _verdict("01.2", False, "That is not the digest of an empty tar archive.",
                    "hash b\"\\0\" * 1024 with hashlib.sha256 and prefix \"sha256:\"")


def check_01_3(changes) -> Verdict:
    """Does the image ID change when only the ``created`` date changes? (True/False)"""
    if changes is None:
        return _unanswered("01.3", "True or False")
    if changes is True:
        return _verdict("01.3", True, "Yes: the image ID is the sha256 of the config JSON, and the date is "
                        "in it. That is why `docker import` gives a new ID each time.")
    return _verdict("01.3", False, "Not quite.", "build two Image(...) with different created= values "
                    "and compare their .image_id")


# --- notebook 02: a static hello --------------------------------------------------------
def check_02_1(path) -> Verdict:
    """A tiny hello with a message of your own, written to ``path``."""
    from labkit import hello

    if path is None:
        return _unanswered("02.1", "the path of your hello binary")
    p = Path(path) if isinstance(path, (str, os.PathLike)) else None
    if p is None or not p.is_file():
        return _verdict("02.1", False, f"There is no file at {path}.",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    data = p.read_bytes()
    if not data.startswith(b"\x7fELF"):
        return _verdict("02.1", False, f"{path} is not an ELF program.", "use labkit.hello.build(\"tiny\", ...)")
    if hello.DEFAULT_MESSAGE in data:
        return _verdict("02.1", False, "It still prints the default message.",
                        "pass message=b\"your text\\n\" to labkit.hello.build")
    try:
        info = hello.describe(p)
    except LabkitError as err:
        return _verdict("02.1", False, f"labkit could not read {path}: {err}",
                        "write it with labkit.hello.build(\"tiny\", path, message=b\"...\")")
    if not info.static:
        return _verdict("02.1", False, "This program is dynamic; it would not run in a FROM scratch image.",
                        "the tiny variant is static: labkit.hello.build(\"tiny\", ...)")
    return _verdict("02.1", True, f"A static program of {info.size:,} bytes with your own message.")


def check_02_2(interpreter) -> Verdict:
    """The path of the program the kernel must load before the dynamic hello can start."""
    if interpreter is None:
        return _unanswered("02.2", "a path like \"/lib/...\"")
    answer = str(interpreter).strip()
    if answer in ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"):
        return _verdict("02.2", True, "The dynamic loader, named in the ELF's PT_INTERP header: the kernel "
                        "looks for it in the image, finds nothing, and the run fails.")
    if "libc" in answer:
        return _verdict("02.2", False, "libc is missing too, but the kernel never gets that far.",
                        "look at the interpreter the program asks for: labkit.hello.describe(path)")
    return _verdict("02.2", False, f"{answer!r} is not what the dynamic hello asks for.",
                    "labkit.hello.describe(path).interpreter tells you")


def check_02_3(layer_size: Callable[[int], int] | None) -> Verdict:
    """A function: file size in bytes -> smallest possible layer tar holding just that file."""
    if layer_size is None:
        return _unanswered("02.3", "a function, e.g. def layer_size(n): return ...")
    from labkit import show

    if not callable(layer_size):
        return _verdict("02.3", False, "Pass the function itself, not a number.",
                        "def layer_size(n): ..., then check_02_3(layer_size)")
    for n in (150, 13376, 512, 513, 1, 0):
        try:
            got = layer_size(n)
        except Exception as err:  # the learner's code: report, never crash the check
            return _verdict("02.3", False, f"layer_size({n}) raised {type(err).__name__}: {err}")
        want = show.one_file_layer_size(n)
        if got != want:
            hint = {0: "an empty file still needs its header and the end-of-archive blocks",
                    512: "512 bytes fill exactly one block: no padding block is added",
                    513: "513 bytes need two data blocks"}.get(
                n, "one 512-byte header, the data padded up to whole 512-byte blocks, two zero blocks at the end")
            return _verdict("02.3", False, f"layer_size({n}) gives {got!r}; the floor is different.", hint)
    return _verdict("02.3", True, "Header + data in 512-byte blocks + 1024 bytes of end marker: "
                    "a 150-byte program needs a 2,048-byte layer.")


def check_02_4(dockerfile) -> Verdict:
    """A multi-stage Dockerfile: compile in a first stage, copy the binary into scratch."""
    if dockerfile is None:
        return _unanswered("02.4", "your Dockerfile as a string")
    lines = [ln.strip() for ln in str(dockerfile).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    froms = [ln.split() for ln in lines if ln.upper().startswith("FROM ")]
    if len(froms) < 2:
        return _verdict("02.4", False, f"This has {len(froms)} FROM line(s); a multi-stage build has two or more.",
                        "FROM debian:bookworm AS build ... then FROM scratch")
    if [w.lower() for w in froms[-1][1:2]] != ["scratch"]:
        return _verdict("02.4", False, "The last stage is what you ship, and it is not FROM scratch.",
                        "end with FROM scratch")
    stage = " ".join(froms[0]).lower().split(" as ")
    if len(stage) < 2:
        return _verdict("02.4", False, "The first stage has no name to copy from.", "FROM debian:bookworm AS build")
    name = stage[1].split()[0]
    last = lines[max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM ")):]
    if not any(re.match(rf"COPY\s+--from={re.escape(name)}\s", ln, re.I) for ln in last):
        return _verdict("02.4", False, f"The scratch stage never copies from the {name!r} stage.",
                        f"COPY --from={name} /hello /hello")
    runs = [ln for ln in last if re.match(r"(CMD|ENTRYPOINT)\s", ln, re.I)]
    if not runs:
        return _verdict("02.4", False, "The image has no command to run.", "ENTRYPOINT [\"/hello\"]")
    if not all(ln.split(None, 1)[1].startswith("[") for ln in runs):
        return _verdict("02.4", False, "The shell form (CMD /hello) needs /bin/sh, and scratch has no shell.",
                        "use the exec form: ENTRYPOINT [\"/hello\"]")
    if any(re.match(r"RUN\s", ln, re.I) for ln in last):
        return _verdict("02.4", False, "RUN in the scratch stage needs a shell that is not there.",
                        "compile in the first stage; only COPY into scratch")
    return _verdict("02.4", True, "Compile where the tools are, ship only the program: the final image "
                    "holds one file.")


# --- notebook 03: layers across Docker versions ----------------------------------------
def check_03_1(layers) -> Verdict:
    """How many rows does ``docker history`` show for the ``era="1.4"`` image?"""
    if layers is None:
        return _unanswered("03.1", "a number")
    if layers == 2:
        return _verdict("03.1", True, "Two: the old scratch layer 511136ea3c5a… every image used to start "
                        "with, and yours.")
    if layers == 1:
        return _verdict("03.1", False, "One is what Docker 1.5 and later give for FROM scratch.",
                        "before 1.5, scratch was a real (empty) layer under every image")
    return _verdict("03.1", False, f"Not {layers!r}.", "count the rows of the history table above")


def check_03_2(fields) -> Verdict:
    """Which tar header fields differ between Docker 20.10's and 26+'s layer of the same file?"""
    if fields is None:
        return _unanswered("03.2", "a set of field names, e.g. {\"mtime\"}")
    if isinstance(fields, str):
        fields = {fields}
    if not isinstance(fields, (set, frozenset, list, tuple, dict)):
        return _verdict("03.2", False, f"{fields!r} is not a set of field names.",
                        "write them as a set of strings, e.g. {\"mtime\", \"size\"}")
    got = {str(f).strip().lower() for f in fields} - {"chksum"}  # the checksum follows from the others
    want = {"mode", "uname", "gname"}
    if got == want:
        return _verdict("03.2", True, "mode keeps the file-type bits on 20.10 (0100755 vs 0000755), and 20.10 "
                        "names the owner root/root: three fields, so a different sha256.")
    missing, extra = sorted(want - got), sorted(got - want)
    if extra:
        return _verdict("03.2", False, f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} the same in both.",
                        "compare the two tar_headers tables field by field")
    return _verdict("03.2", False, f"Right so far, but {len(missing)} more field(s) differ.",
                    "look at the owner's name fields too" if "uname" in missing else "look at the mode field")


def check_03_3(fmt) -> Verdict:
    """The ``format`` labkit.oci.inspect reports for a ``docker save`` of Docker 25 or later."""
    if fmt is None:
        return _unanswered("03.3", "a format name as labkit.oci.inspect reports it")
    answer = str(fmt).strip().lower()
    if answer == "oci-layout":
        return _verdict("03.3", True, "Since Docker 25.0 (moby PR #44598) docker save writes an OCI layout, "
                        "with manifest.json kept for older tools.")
    if answer == "docker-archive":
        return _verdict("03.3", False, "That is what 20.10 writes.", "look for index.json in the newer save")
    return _verdict("03.3", False, f"{answer!r} is not one of labkit's format names.",
                    "docker-v1, docker-archive or oci-layout")


# --- notebook 04: a base image from scratch ---------------------------------------------
def check_04_1(path) -> Verdict:
    """A one-layer image with /bin/busybox and /bin/sh linking to it."""
    if path is None:
        return _unanswered("04.1", "the path of your image")
    info, failed = _inspect("04.1", path, "your busybox image")
    if failed:
        return failed
    if "bin/busybox" not in info.files:
        return _verdict("04.1", False, "There is no /bin/busybox in this image.",
                        "Entry.file(\"bin/busybox\", source=\"/bin/busybox\")")
    links = {_norm_path(e.path): e.linkname for layer in info.layers for e in layer.entries if e.linkname}
    target = links.get("bin/sh")
    if target is None:
        return _verdict("04.1", False, "/bin/sh is missing or is not a link.",
                        "Entry.symlink(\"bin/sh\", \"busybox\") or Entry.hardlink(\"bin/sh\", \"bin/busybox\")")
    if not target.endswith("busybox"):
        return _verdict("04.1", False, f"/bin/sh links to {target!r}, not to busybox.",
                        "busybox picks the applet from the name it was started as")
    return _verdict("04.1", True, "One program, many names: busybox reads argv[0] and becomes sh.")


def check_04_2(path) -> Verdict:
    """Two layers: busybox with its links, then a layer that deletes /bin/busybox."""
    if path is None:
        return _unanswered("04.2", "the path of your two-layer image")
    info, failed = _inspect("04.2", path, "your two-layer image")
    if failed:
        return failed
    if len(info.layers) != 2:
        return _verdict("04.2", False, f"This image has {len(info.layers)} layer(s), not 2.",
                        "Image([busybox_layer, [labkit.oci.Entry.whiteout(\"bin/busybox\")]])")
    if "bin/busybox" not in info.layers[0].files:
        return _verdict("04.2", False, "The first layer has no /bin/busybox to delete.",
                        "start from the busybox layer you built above")
    deleted = {e.target for e in info.layers[1].entries if e.whiteout}
    if "bin/busybox" not in deleted:
        return _verdict("04.2", False, "The second layer does not delete /bin/busybox.",
                        "labkit.oci.Entry.whiteout(\"bin/busybox\")")
    if "bin/busybox" in info.files:
        return _verdict("04.2", False, "/bin/busybox is still in the merged file system.",
                        "the second layer must not add it back")
    total = sum(layer.size for layer in info.layers)
    return _verdict("04.2", True, f"/bin/busybox is gone, so every link to it now points nowhere and no "
                    f"shell can start; yet the layers hold {total:,} bytes: deleting adds a layer, it never "
                    "shrinks the ones below.")


def check_04_3(name) -> Verdict:
    """The path of the whiteout entry that deletes /etc/motd in an upper layer."""
    if name is None:
        return _unanswered("04.3", "a path inside the layer tar")
    answer = _norm_path(name)
    if answer == "etc/.wh.motd":
        return _verdict("04.3", True, "An empty file named .wh.<name> next to what it hides.")
    if answer.endswith(".wh.motd"):
        return _verdict("04.3", False, "Right name, wrong folder.", "the whiteout sits in the same directory")
    if answer == "etc/.wh..wh..opq":
        return _verdict("04.3", False, "That opaque marker would hide all of /etc.", "hide one file")
    return _verdict("04.3", False, f"{name!r} would not delete /etc/motd.", "prefix the file name with .wh.")


def checkers() -> dict[str, Callable[[Any], Verdict]]:
    """Exercise id -> its checker, for tests and the instructors' notes."""
    return {k: globals()[f"check_{k.replace('.', '_')}"] for k in EXERCISES}
