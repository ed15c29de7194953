"""Test helper: layers with links, whiteouts, hard links and '..' names, and what Docker made of them.

Each case is a list of layers (bottom first), each a list of members written in
exactly that order with Python's ``tarfile``. ``tests/data/docker-export-links.json``
holds what Docker 20.10.24 (overlay2, native diff) did with each: the one line it
refused the image with, or every path of ``docker export`` of a container made from
it (``rows``). ``tests/test_oci_engine.py`` measures it again live and compares both
with ``labkit extract``; ``tests/test_oci_merge.py`` compares labkit with the recording.

Record again (a private engine: the recording loads, exports and removes images):
``DOCKER_HOST=unix:///… .venv/bin/python tests/linkcases.py``.
"""
from __future__ import annotations

import io
import json
import re
import sys
import tarfile
from pathlib import Path

from fstree import Row, from_export, from_folder, without_runtime
from imagewrap import wrap

MTIME = 1_000_000_000        # every member's date; a path dated otherwise was dated when unpacked
RECORDING = Path(__file__).parent / "data" / "docker-export-links.json"


def F(name, data=b"", mode=0o644, uid=0, gid=0):
    return ("0", name, data, mode, uid, gid, "")


def D(name, mode=0o755, uid=0, gid=0):
    return ("5", name, b"", mode, uid, gid, "")


def S(name, target):
    return ("2", name, b"", 0o777, 0, 0, target)


def H(name, target, mode=0o644, uid=0, gid=0):
    return ("1", name, b"", mode, uid, gid, target)


def layer_tar(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for kind, name, data, mode, uid, gid, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid = kind.encode(), mode, uid, gid
            info.mtime, info.linkname = MTIME, link
            info.size = len(data) if kind == "0" else 0
            tf.addfile(info, io.BytesIO(data) if kind == "0" else None)
    return buf.getvalue()


# A lower layer most cases build on: folders with owners and modes, a file, and two
# links to a folder (absolute and relative).
B = [D("real", 0o750, 5, 6), F("real/victim", b"lower", 0o600, 7, 8), D("target"), F("target/t1", b"t1"),
     S("x", "/target"), S("xr", "target"), D("dd", 0o700, 9, 9), F("dd/old", b"old"), D("dd/sub"),
     F("dd/sub/deep", b"deep"), F("f", b"lowerf")]

CASES = {
    # links are data, wherever they point
    "climb": [[D("data"), S("data/climb", "../../../../etc/passwd")]],
    "absolute": [[D("data"), S("data/abs", "/etc/passwd")]],
    "dangling": [[D("data"), S("data/dangle", "nowhere/at/all")]],
    "loop": [[D("data"), S("data/loop", "loop"), S("data/l1", "l2"), S("data/l2", "l1")]],
    "dotdot-after-name": [[D("d"), S("d/l", "x/../../..")]],
    "symlink-empty": [[S("e", "")]],
    # one layer writes through its own links: resolved in the layer's root
    "same-abs-root": [[S("ln", "/"), F("ln/evil", b"x")]],
    "same-climb-dir": [[S("ln", "../.."), F("ln/passwd", b"x")]],
    "same-abs-dir": [[D("real"), S("ln", "/real"), F("ln/f", b"x", 0o640, 3, 4)]],
    "same-rel-dir": [[D("a"), D("real"), S("a/up", "../../../real"), F("a/up/f", b"x")]],
    "same-mkdirall": [[D("real"), S("ln", "/real"), F("ln/deep/er/f", b"x")]],
    "same-link-to-link": [[D("real"), S("l1", "l2"), S("l2", "/real"), F("l1/f", b"x")]],
    "same-dir-through-link": [[D("real"), S("ln", "/real"), D("ln/sub", 0o700), F("ln/sub/f", b"y")]],
    "same-dangling": [[S("ln", "/nowhere"), F("ln/f", b"x")]],
    "same-dangling-deep": [[S("ln", "/nowhere"), F("ln/sub/f", b"x")]],
    "same-to-lower-dir": [B, [S("ln", "/real"), F("ln/f", b"x")]],
    "same-loop": [[S("lp", "lp"), F("lp/f", b"x")]],
    "respelled-link-then-dir": [[D("real"), S("ln", "/real"), D("/ln/", 0o700), F("ln/f", b"x")]],
    # hard links: to this layer's files only
    "hard-same": [[F("a", b"A", 0o600), H("b", "a")]],
    "hard-mode": [[F("a", b"A", 0o600), H("b", "a", 0o755)]],
    "hard-owner": [[F("a", b"A", 0o600, 5, 5), H("b", "a", 0o644)]],
    "hard-through-link": [[D("real"), F("real/f", b"R", 0o600), S("ln", "/real"), H("h", "ln/f", 0o755)]],
    "hard-to-symlink": [[S("s", "/etc/passwd"), H("h", "s")]],
    "hard-climb": [[D("data"), F("data/secret", b"S"), H("h", "../../data/secret")]],
    "hard-abs": [[D("data"), F("data/secret", b"S"), H("h", "/data/secret")]],
    "hard-dotdot-name": [[D("data"), F("data/secret", b"S", 0o600), H("h", "nowhere/../data/secret", 0o755)]],
    "hard-to-whiteout": [B, [F(".wh.f"), H("g", "f")]],
    "hard-to-lower": [B, [H("g", "f")]],
    "hard-to-dir": [[D("d"), H("h", "d")]],
    "hard-to-itself": [[H("h", "h")]],
    # whiteouts and opaque markers through this layer's links
    "wh-through-link": [B, [D("real", 0o750, 5, 6), S("ln", "/real"), F("ln/.wh.victim")]],
    "wh-through-link-no-dir": [B, [S("ln", "/real"), F("ln/.wh.victim")]],
    "wh-through-selfloop": [[S("tmp", "/tmp"), F("tmp/.wh.victim")]],
    "opq-through-link": [B, [D("real", 0o750, 5, 6), S("ln", "/real"), F("real/new", b"n"),
                             F("ln/.wh..wh..opq")]],
    "opq-through-link-no-dir": [B, [S("ln", "/real"), F("ln/.wh..wh..opq")]],
    # a later layer under a lower layer's link: a real folder hides the link
    "lower-link-newfile": [B, [F("x/newfile", b"N")]],
    "lower-rellink-newfile": [B, [F("xr/sub/newfile", b"N")]],
    "lower-link-whiteout": [B, [F("x/.wh.t1")]],
    "lower-link-opaque": [B, [F("x/.wh..wh..opq")]],
    "lower-link-dir": [B, [D("x", 0o700)]],
    "three-layers-link": [B, [S("dd", "/target")], [F("dd/c", b"c")]],
    # folders a layer implies, over lower folders
    "lower-dir-implied": [B, [F("dd/new", b"N")]],
    "lower-dir-named": [B, [D("dd", 0o711, 1, 1), F("dd/new", b"N")]],
    "lower-dir-wh-deep": [B, [F("dd/sub/.wh.deep")]],
    "lower-file-to-dir": [B, [F("f/in", b"I")]],
    # whiteouts and the order of members in one layer
    "wh-then-file": [B, [F(".wh.f"), F("f", b"upper")]],
    "file-then-wh": [B, [F("f", b"upper"), F(".wh.f")]],
    "wh-then-dir": [B, [F(".wh.dd"), D("dd", 0o755), F("dd/new", b"N")]],
    "wh-then-implied": [B, [F(".wh.dd"), F("dd/new", b"N")]],
    "respelled-file-then-dir": [B, [F("dd", b"file"), D("/dd/", 0o755)]],
    "opq-then-new": [B, [F("dd/.wh..wh..opq"), F("dd/new", b"N")]],
    "new-then-opq": [B, [D("dd"), F("dd/new", b"N"), F("dd/.wh..wh..opq")]],
    "opq-keeps-subdir": [B, [F("dd/sub/new", b"N"), F("dd/.wh..wh..opq")]],
    "opq-dir-type": [B, [D("dd/.wh..wh..opq")]],
    "opq-root": [B, [F(".wh..wh..opq"), F("top", b"T")]],
    "opq-on-file": [B, [F("g", b"g"), F("g/.wh..wh..opq")]],
    "wh-dir-type": [B, [D(".wh.f")]],
    "wh-empty-name": [B, [F("dd/.wh.")]],
    "wh-in-new-dir": [B, [F("newdir/.wh.x")]],
    "three-layers": [B, [D("dd", 0o755), F("dd/.wh..wh..opq"), F("dd/b", b"b")], [F("dd/c", b"c")]],
    # names with '..': cleaned, then joined to the root
    "dotdot-name": [[F("../evil", b"E")]],
    "dotdot-deep-name": [[F("a/../../evil2", b"E")]],
    "dotdot-mid-name": [[F("a/../b", b"B")]],
    "dotdot-symlink-name": [[S("../lnk", "x")]],
    "dotdot-wh-name": [B, [F("../.wh.f")]],
    "dotdot-dir-name": [[D("../up", 0o700), F("up/in", b"i")]],
    # one path twice in a layer: Docker's layer store refuses it; labkit keeps the later
    # entry, as the unpacking does (docs/extract.md)
    "dotdot-dup": [[F("b", b"1"), F("a/../b", b"2")]],
    "abs-dup": [[F("b", b"1"), F("/b", b"2")]],
}
#: Cases Docker refuses only for its layer store's "duplicates of file paths not supported".
DUPLICATES = {"dotdot-dup"}


def image(case: str, out: Path) -> Path:
    """The case as a docker-archive, tagged ``labkit-test/links-<case>:1``."""
    return wrap([layer_tar(layer) for layer in CASES[case]], out,
                tag=f"labkit-test/links-{case}:1")


def comparable(rows: dict[str, Row], as_root: bool = True) -> dict[str, list]:
    """path -> [type, mode, uid, gid, size, link, sha, group, dated]: ``dated`` is False for a
    date nobody wrote (the time of unpacking); owners are left out when not root."""
    return {p: [r.type, r.mode, r.uid if as_root else None, r.gid if as_root else None,
                r.size, r.link, r.sha, r.group, r.mtime == MTIME] for p, r in sorted(rows.items())}


def labkit_result(case: str, tmp: Path, as_root: bool = True) -> dict:
    """What ``labkit extract`` does with the case: ``{"refused": line}`` or ``{"rows": ...}``."""
    from labkit import oci
    from labkit.errors import LabkitError

    try:
        oci.extract(image(case, tmp / f"{case}.tar"), tmp / case, as_root=as_root)
    except LabkitError as err:
        return {"refused": str(err)}
    return {"rows": comparable(from_folder(tmp / case), as_root)}


def docker_result(engine, case: str, tmp: Path) -> dict:
    """What ``docker load`` + ``docker create`` + ``docker export`` do with it (images removed)."""
    from labkit.errors import EngineError

    tag = f"labkit-test/links-{case}:1"
    try:
        engine.load(image(case, tmp / f"{case}.tar"))
    except EngineError as err:
        return {"refused": str(err).split("Error processing tar file", 1)[-1]}
    try:
        export = engine.export(tag, tmp / f"{case}.export.tar")
    finally:
        engine.remove(tag)
    return {"rows": comparable(without_runtime(from_export(export)))}


def _words(line: str) -> tuple[str, str]:
    """The first path and the system's words of a refusal (``failed to mknod("/f", …): file
    exists`` and ``mknod /f: file exists`` both give ``("/f", "file exists")``)."""
    line = line.split("either (", 1)[-1].split("); ", 1)[0]     # labkit's: Docker's words in ()
    path = re.search(r"/[^\s\",:]*", line)
    return (path.group(0) if path else "", line.rsplit(": ", 1)[-1].strip())


def differences(case: str, docker: dict, ours: dict) -> list[str]:
    """Lines naming where labkit's result differs from Docker's (empty: the same)."""
    if case in DUPLICATES:
        return [] if "refused" in docker and "rows" in ours else [f"{case}: {docker} / {ours}"]
    if "refused" in docker or "refused" in ours:
        same = "refused" in docker and "refused" in ours and _words(docker["refused"]) == _words(
            ours["refused"])
        return [] if same else [f"{case}: docker {docker.get('refused', 'loaded')!r}, "
                                f"labkit {ours.get('refused', 'extracted')!r}"]
    theirs, mine = docker["rows"], ours["rows"]
    return [f"{case}: /{p}: docker {theirs.get(p)}, labkit {mine.get(p)}"
            for p in sorted(set(theirs) | set(mine)) if theirs.get(p) != mine.get(p)]


def without_owners(result: dict) -> dict:
    """A recorded result as a run that is not root sees it (owners not kept)."""
    if "rows" not in result:
        return result
    return {"rows": {p: row[:2] + [None, None] + row[4:] for p, row in result["rows"].items()}}


def record() -> None:
    """Measure every case on the engine at DOCKER_HOST and write the recording."""
    import tempfile

    from labkit import engine as engine_mod

    eng = engine_mod.connect()
    facts = eng.facts
    found = {"engine": f"Docker {facts.version} ({facts.storage_driver})", "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for case in CASES:
                found["cases"][case] = docker_result(eng, case, Path(tmp))
        finally:
            eng.cleanup()
    RECORDING.write_text(json.dumps(found, indent=1) + "\n")
    print(f"recorded {len(CASES)} cases from {found['engine']} into {RECORDING}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    record()
