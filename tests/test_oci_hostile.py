"""A corpus of hostile image tarballs, generated here: each gets one ``error:`` line (exit 2)
or a safe listing through the CLI, never a traceback, a write outside the target, or
unbounded memory."""
from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from labkit import oci
from labkit.errors import BadImage, UnsafeArchive
from labkit.oci.digest import go_json, sha256_digest


def _member(name: str, data: bytes = b"", **fields) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = fields.pop("mode", 0o644)
    for key, value in fields.items():
        setattr(info, key, value)
    if info.type != tarfile.REGTYPE:
        info.size = 0
    return info, data


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def _archive(path: Path, layers: list[bytes], config_extra: dict | None = None,
             diff_ids: list[str] | None = None) -> Path:
    """A docker-archive whose digests are all right, around the given raw layer tars
    (give ``diff_ids`` for compressed ones)."""
    diff_ids = diff_ids or [sha256_digest(layer) for layer in layers]
    config = go_json({"architecture": "amd64", "os": "linux", **(config_extra or {}),
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    members = [_member("config.json", config),
               _member("manifest.json", go_json([{"Config": "config.json", "RepoTags": ["x:y"],
                                                  "Layers": [f"{i}/layer.tar"
                                                             for i in range(len(layers))]}]))]
    members += [_member(f"{i}/layer.tar", layer) for i, layer in enumerate(layers)]
    path.write_bytes(_tar(members))
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def _assert_one_error_line(done: subprocess.CompletedProcess, match: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert match in lines[0], lines[0]


def _files(top: Path) -> set[str]:
    return {p.relative_to(top).as_posix() for p in top.rglob("*")}


def _outside(tmp_path: Path) -> dict[str, tuple]:
    """Everything in ``tmp_path`` but the sandbox: path -> (mode, size, mtime, content)."""
    found = {}
    for path in sorted(tmp_path.rglob("*")):
        rel = path.relative_to(tmp_path)
        if rel.parts[0] == "sandbox":
            continue
        st = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        found[rel.as_posix()] = (st.st_mode, st.st_size, st.st_mtime_ns, data)
    return found


def _tree(root: Path) -> dict[str, str]:
    """What ``root`` holds: path -> ``dir``, ``-> target`` or the file's content."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        found[rel] = (f"-> {os.readlink(path)}" if path.is_symlink() else
                      "dir" if path.is_dir() else path.read_bytes().decode())
    return found


def _victim_dir(tmp_path: Path) -> Path:
    """A folder outside the sandbox, with a file a hostile image aims at."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "victim").write_text("untouched")
    return outside


# What Docker 20.10.24 (overlay2) loads, and `docker export` then shows (measured:
# tests/test_oci_engine.py checks these rules live): links are data, a path through a
# link the same layer made resolves inside the layer's root, a name's ".." stops at
# the root. OUTSIDE stands for the absolute path of a real folder outside the sandbox.
INSIDE = {
    "dotdot": ([_member("../evil", b"x")], {"evil": "x"}),
    "deep-dotdot": ([_member("a/../../evil", b"x")], {"evil": "x"}),
    "symlink-out": ([_member("link", type=tarfile.SYMTYPE, linkname="../../../etc")],
                    {"link": "-> ../../../etc"}),
    "symlink-dotdot-after-name": ([_member("d", type=tarfile.DIRTYPE, mode=0o755),
                                   _member("d/l", type=tarfile.SYMTYPE, linkname="x/../../..")],
                                  {"d": "dir", "d/l": "-> x/../../.."}),
    "symlink-absolute": ([_member("abs", type=tarfile.SYMTYPE, linkname="OUTSIDE/victim")],
                         {"abs": "-> OUTSIDE/victim"}),
    "through-symlink": ([_member("link", type=tarfile.SYMTYPE, linkname="/"),
                         _member("link/evil", b"x")], {"link": "-> /", "evil": "x"}),
    "through-climbing-symlink": ([_member("etc", type=tarfile.SYMTYPE, linkname="../.."),
                                  _member("etc/passwd", b"x")], {"etc": "-> ../..", "passwd": "x"}),
    "through-symlink-deep": ([_member("up", type=tarfile.SYMTYPE, linkname="../../../../../../.."),
                              _member("up/OUTSIDE/evil", b"x")],
                             {"up": "-> ../../../../../../..", "OUTSIDE/evil": "x"}),
    "through-symlink-to-a-folder": ([_member("real", type=tarfile.DIRTYPE, mode=0o755),
                                     _member("ln", type=tarfile.SYMTYPE, linkname="/real"),
                                     _member("ln/f", b"x")],
                                    {"real": "dir", "real/f": "x", "ln": "-> /real"}),
    "hardlink-climbing": ([_member("data/secret", b"s"),
                           _member("h", type=tarfile.LNKTYPE, linkname="../../data/secret")],
                          {"data": "dir", "data/secret": "s", "h": "s"}),
    "hardlink-absolute": ([_member("data/secret", b"s"),
                           _member("h", type=tarfile.LNKTYPE, linkname="/data/secret")],
                          {"data": "dir", "data/secret": "s", "h": "s"}),
    "hardlink-through-symlink": ([_member("real/f", b"r"),
                                  _member("ln", type=tarfile.SYMTYPE, linkname="/real"),
                                  _member("h", type=tarfile.LNKTYPE, linkname="ln/f")],
                                 {"real": "dir", "real/f": "r", "ln": "-> /real", "h": "r"}),
}


def _aimed(members: list, outside: Path) -> list:
    """``members`` with OUTSIDE replaced by the real folder's path (absolute, or without its /)."""
    aimed = []
    for info, data in members:
        info.name = info.name.replace("OUTSIDE", str(outside).lstrip("/"))
        info.linkname = info.linkname.replace("OUTSIDE", str(outside))
        aimed.append((info, data))
    return aimed


@pytest.mark.parametrize("case", sorted(INSIDE))
def test_links_and_names_land_inside_as_docker_unpacks_them(tmp_path, case):
    outside = _victim_dir(tmp_path)
    members, expected = INSIDE[case]
    image = _archive(tmp_path / "img.tar", [_tar([_member("ok", b"fine")] + _aimed(members, outside))])
    (tmp_path / "sandbox").mkdir()
    before = _outside(tmp_path)
    oci.extract(image, tmp_path / "sandbox" / "root")
    assert _outside(tmp_path) == before, "nothing outside the target may change"
    assert not Path("/evil").exists() and not Path("/passwd").exists()
    inside = str(outside).lstrip("/")
    wanted = {"ok": "fine"}
    for path, what in expected.items():
        path, what = path.replace("OUTSIDE", inside), what.replace("OUTSIDE", str(outside))
        wanted[path] = what
        parts = path.split("/")
        wanted.update({"/".join(parts[:i]): "dir" for i in range(1, len(parts))})
    assert _tree(tmp_path / "sandbox" / "root") == wanted
    assert oci.inspect(image).files == {p: len(w) for p, w in wanted.items()
                                        if w != "dir" and not w.startswith("-> ")}


def test_a_later_layer_never_writes_through_a_lower_layers_link(tmp_path):
    """``x -> OUTSIDE`` below, ``x/evil``, ``y/.wh.victim``, ``z/.wh..wh..opq`` above: each makes a
    real folder that hides the link (as overlay2 shows it); the link's target is untouched."""
    outside = _victim_dir(tmp_path)
    lower = _tar([_member(name, type=tarfile.SYMTYPE, linkname=str(outside)) for name in "xyz"])
    upper = _tar([_member("x/evil", b"x"), _member("y/.wh.victim"), _member("z/.wh..wh..opq")])
    image = _archive(tmp_path / "img.tar", [lower, upper])
    (tmp_path / "sandbox").mkdir()
    before = _outside(tmp_path)
    oci.extract(image, tmp_path / "sandbox" / "root")
    assert _outside(tmp_path) == before
    assert _tree(tmp_path / "sandbox" / "root") == {"x": "dir", "x/evil": "x", "y": "dir", "z": "dir"}


# What Docker 20.10.24 refuses to load (its words, measured), so labkit refuses it too:
# one line from extract and from inspect, and nothing left behind.
REFUSED = {
    "through-looping-symlink": ([_member("etc", type=tarfile.SYMTYPE, linkname="/etc"),
                                 _member("etc/labkit-evil", b"x")], "too many levels of symbolic links"),
    "through-dangling-symlink": ([_member("ln", type=tarfile.SYMTYPE, linkname="/nowhere"),
                                  _member("ln/labkit-evil", b"x")], "open /ln/labkit-evil: no such file"),
    "whiteout-through-symlink": ([_member("tmp", type=tarfile.SYMTYPE, linkname="/tmp"),
                                  _member("tmp/.wh.labkit-victim")], "mknod /tmp/labkit-victim: too many"),
    "opaque-through-symlink": ([_member("tmp", type=tarfile.SYMTYPE, linkname="/tmp"),
                                _member("tmp/.wh..wh..opq")], "setxattr /tmp: too many levels"),
    "hardlink-out": ([_member("h", type=tarfile.LNKTYPE, linkname="../../etc/passwd")],
                     "link /etc/passwd /h: no such file"),
    "hardlink-abs": ([_member("h", type=tarfile.LNKTYPE, linkname="/etc/passwd")],
                     "link /etc/passwd /h: no such file"),
    "hardlink-through-symlink": ([_member("etc", type=tarfile.SYMTYPE, linkname="/etc"),
                                  _member("h", type=tarfile.LNKTYPE, linkname="etc/passwd")],
                                 "too many levels of symbolic links"),
    "hardlink-to-itself": ([_member("h", b"x"), _member("h", type=tarfile.LNKTYPE, linkname="h")],
                           "link /h /h: no such file"),
    "hardlink-to-a-folder": ([_member("d", type=tarfile.DIRTYPE, mode=0o755),
                              _member("h", type=tarfile.LNKTYPE, linkname="d")],
                             "link /d /h: operation not permitted"),
    "dir-then-abs-symlink": ([_member("d", type=tarfile.DIRTYPE, mode=0o777, mtime=5),
                              _member("d", type=tarfile.SYMTYPE, linkname="/labkit-victim")],
                             "chtimes /d: no such file"),
    "empty-symlink": ([_member("e", type=tarfile.SYMTYPE, linkname="")], "symlink /e: no such file"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_docker_refuses_is_refused_and_writes_nothing(tmp_path, case):
    members, match = REFUSED[case]
    image = _archive(tmp_path / "img.tar", [_tar([_member("ok", b"fine")] + members)])
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    done = _cli("extract", image, sandbox / "root")
    _assert_one_error_line(done, match)
    assert "Docker cannot unpack" in done.stderr
    assert _files(sandbox) == set(), "nothing may be left behind"
    assert not Path("/tmp/labkit-evil").exists() and not Path("/etc/labkit-evil").exists()
    _assert_one_error_line(_cli("inspect", image), match)   # the merged view agrees


def test_a_hard_link_to_a_lower_layers_file_is_refused(tmp_path):
    image = _archive(tmp_path / "img.tar", [_tar([_member("f", b"lower")]),
                                            _tar([_member("g", type=tarfile.LNKTYPE, linkname="f")])])
    _assert_one_error_line(_cli("extract", image, tmp_path / "root"), "link /f /g: no such file")
    assert not (tmp_path / "root").exists()


def _victim(tmp_path: Path) -> Path:
    """A file outside the sandbox that a hostile image points at (absolute symlinks)."""
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    victim.chmod(0o600)
    return victim


# What Docker unpacks (so labkit does too), none of which may touch anything outside:
# ``victim`` is replaced by the path of a file outside the sandbox. (A path written
# twice in one layer, as in ``abs-symlink-then-file``, is refused by Docker's layer
# store; labkit lets the later entry win, as the unpacking itself does: docs/extract.md.)
KEPT = {
    "absolute-name": [_member("/tmp/labkit-evil", b"x")],
    "char-device": [_member("dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)],
    "block-device": [_member("sda", type=tarfile.BLKTYPE, devmajor=8)],
    "fifo": [_member("pipe", type=tarfile.FIFOTYPE)],
    "setuid": [_member("su", b"x", mode=0o4755)],
    "setgid": [_member("sg", b"x", mode=0o2755)],
    "abs-symlink-then-file": [_member("s", type=tarfile.SYMTYPE, linkname="victim"),
                              _member("s", b"overwritten?", mode=0o777)],
    "abs-symlink-then-dir": [_member("s", type=tarfile.SYMTYPE, linkname="victim"),
                             _member("s", type=tarfile.DIRTYPE, mode=0o777)],
    "hardlink-to-abs-symlink": [_member("s", type=tarfile.SYMTYPE, linkname="victim"),
                                _member("h", type=tarfile.LNKTYPE, linkname="s", mode=0o777)],
    "whiteout-of-abs-symlink": [_member("s", type=tarfile.SYMTYPE, linkname="victim")],
}


@pytest.mark.parametrize("case", sorted(KEPT))
def test_what_docker_unpacks_lands_inside(tmp_path, case):
    victim = _victim(tmp_path)
    members = []
    for info, data in KEPT[case]:
        if info.linkname == "victim":
            info.linkname = str(victim)
        members.append((info, data))
    layers = [_tar([_member("ok", b"fine")] + members)]
    if case == "whiteout-of-abs-symlink":
        layers.append(_tar([_member(".wh.s")]))
    image = _archive(tmp_path / "img.tar", layers)
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    done = _cli("extract", image, sandbox / "root")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert victim.read_text() == "untouched" and victim.stat().st_mode & 0o7777 == 0o600
    assert not Path("/tmp/labkit-evil").exists()
    assert {p.parts[0] for p in map(Path, _files(sandbox))} == {"root"}
    root = sandbox / "root"
    if case == "absolute-name":
        assert (root / "tmp" / "labkit-evil").read_bytes() == b"x"      # as Docker puts it
    if case in ("setuid", "setgid") and os.geteuid() == 0:
        info = KEPT[case][0][0]
        assert (root / info.name).stat().st_mode & 0o7777 == info.mode


def test_not_root_skips_devices_and_drops_setuid_in_one_summary(tmp_path):
    members = [_member("dev/console", type=tarfile.CHRTYPE, devmajor=5, devminor=1),
               _member("dev/sda", type=tarfile.BLKTYPE, devmajor=8),
               _member("usr/bin/su", b"x", mode=0o4755),
               _member("var/mail", type=tarfile.DIRTYPE, mode=0o2775, gid=8),
               _member("pipe", type=tarfile.FIFOTYPE)]
    image = _archive(tmp_path / "img.tar", [_tar(members)])
    written = oci.extract(image, tmp_path / "root", as_root=False)
    root = tmp_path / "root"
    assert not (root / "dev" / "console").exists() and (root / "pipe").is_fifo()
    assert (root / "usr/bin/su").stat().st_mode & 0o7777 == 0o755
    assert (root / "var/mail").stat().st_mode & 0o7777 == 0o775
    summary = written.summary()
    assert "\n" not in summary and "/dev/console" in summary and "/usr/bin/su" in summary
    assert "/var/mail" in summary and "device nodes (not root): 2" in summary


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _deep_json(tmp_path: Path) -> Path:
    return _write(tmp_path / "deep.tar", _tar([_member("manifest.json", b"[" * 200_000)]))


def _wrong_diff_id(tmp_path: Path) -> Path:
    path = _archive(tmp_path / "w.tar", [oci.layer_tar([oci.Entry.file("a", b"1")])])
    raw = path.read_bytes()
    return _write(path, raw.replace(b"\x31" + bytes(511), b"\x32" + bytes(511), 1))


def _wrong_config_digest(tmp_path: Path) -> Path:
    out = oci.Image([[oci.Entry.file("a", b"1")]], cmd=["/a"]).write(tmp_path / "c.tar")
    return _write(out, out.read_bytes().replace(b'"Cmd":["/a"]', b'"Cmd":["/b"]'))


def _outer_claims_a_terabyte(tmp_path: Path) -> Path:
    info = tarfile.TarInfo("manifest.json")
    info.size = 1 << 40
    return _write(tmp_path / "tb.tar", info.tobuf(tarfile.GNU_FORMAT) + bytes(4096))


def _layer_claims_a_terabyte(tmp_path: Path) -> Path:
    info = tarfile.TarInfo("huge")
    info.size = 1 << 40
    return _archive(tmp_path / "tbl.tar", [info.tobuf(tarfile.GNU_FORMAT) + bytes(8192)])


CORRUPT = {
    "not-a-tar": (lambda t: _write(t / "n.tar", b"\x7fELF not an image" * 1000), "not a readable tar"),
    "empty-file": (lambda t: _write(t / "e.tar", b""), "not"),
    "gzip-outer": (lambda t: _write(t / "g.tar", b"\x1f\x8b\x08" + bytes(100)), "gunzip"),
    "truncated": (lambda t: _write(t / "t.tar", oci.Image([[oci.Entry.file("a", b"x" * 5000)]])
                                   .write(t / "full.tar").read_bytes()[:3000]), "t.tar"),
    "no-metadata": (lambda t: _write(t / "m.tar", _tar([_member("hello", b"x")])), "not an image"),
    "bad-json": (lambda t: _write(t / "b.tar", _tar([_member("manifest.json", b"{nope")])), "JSON"),
    "deep-json": (_deep_json, "nested too deeply"),
    "wrong-diff-id": (_wrong_diff_id, "expected diff_id"),
    "wrong-config-digest": (_wrong_config_digest, "expected sha256"),
    "outer-terabyte": (_outer_claims_a_terabyte, "past the end"),
    "layer-terabyte": (_layer_claims_a_terabyte, "declares more bytes"),
    "manifest-escapes": (lambda t: _write(t / "x.tar", _tar([_member("manifest.json", go_json(
        [{"Config": "../../etc/passwd", "Layers": []}]))])), "refusing image member path"),
    "v1-parent-loop": (lambda t: _write(t / "v1.tar", _tar([
        _member("repositories", go_json({"x": {"y": "a" * 64}})),
        _member("a" * 64 + "/json", go_json({"id": "a" * 64, "parent": "b" * 64})),
        _member("b" * 64 + "/json", go_json({"id": "b" * 64, "parent": "a" * 64}))])), "loops"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_inputs_get_one_error_line(tmp_path, case):
    make, match = CORRUPT[case]
    image = make(tmp_path)
    _assert_one_error_line(_cli("inspect", image, "--json"), match)
    before = _files(tmp_path)
    _assert_one_error_line(_cli("extract", image, tmp_path / "root"), "")
    assert _files(tmp_path) == before


def test_hundreds_of_layers_list_safely_in_bounded_memory(tmp_path):
    layers = [[oci.Entry.file(f"f{i}", b"%d" % i), oci.Entry.whiteout(f"f{i - 1}")]
              for i in range(500)]
    path = oci.Image(layers).write(tmp_path / "many.tar")
    tracemalloc.start()
    info = oci.inspect(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(info.layers) == 500 and info.files == {"f499": 3}
    assert peak < 50 << 20
    done = _cli("inspect", path, "--json")
    assert done.returncode == 0 and len(json.loads(done.stdout)["layers"]) == 500


def test_absurd_sizes_stay_in_bounded_memory(tmp_path):
    for make in (_outer_claims_a_terabyte, _layer_claims_a_terabyte):
        path = make(tmp_path)
        tracemalloc.start()
        with pytest.raises(BadImage):
            oci.inspect(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 20 << 20


def test_a_gzip_bomb_is_refused_before_it_fills_the_disk(tmp_path):
    layer = _tar([_member("ok", b"fine"), _member("zeros", bytes(8 << 20))])
    bomb = gzip.compress(layer, mtime=0)                 # 8 MiB of zeros in ~8 KiB
    image = _archive(tmp_path / "bomb.tar", [bomb], diff_ids=[sha256_digest(layer)])
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    with pytest.raises(UnsafeArchive, match="'zeros': the layers unpack to more than 1,048,576 bytes"):
        oci.extract(image, sandbox / "root", max_bytes=1 << 20)
    assert _files(sandbox) == set(), "nothing may be left behind"
    written = oci.extract(image, sandbox / "root")       # the default bound is far above 8 MiB
    assert (sandbox / "root" / "zeros").stat().st_size == 8 << 20 and len(written) == 2


@pytest.mark.parametrize("field", ["platform", "annotations"])
@pytest.mark.parametrize("value", ["s", 1, [1]])
def test_index_fields_of_the_wrong_type_are_ignored_not_a_traceback(tmp_path, field, value):
    layout = oci.Image([[oci.Entry.file("a", b"1")]]).write(tmp_path / "layout", "oci-dir")
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0][field] = value
    (layout / "index.json").write_text(json.dumps(index))
    assert oci.inspect(layout).files == {"a": 1}


def _odd_v1(tmp_path: Path, **scratch_fields) -> Path:
    """A 1.4-era tarball with no tags (so the top is found from the parents), whose
    scratch layer's json has ``scratch_fields``."""
    good = oci.Image([[oci.Entry.file("a", b"1")]], era="1.4").write(tmp_path / "v1.tar")
    with tarfile.open(good) as tf:
        members = [(m, tf.extractfile(m).read() if m.isreg() else None) for m in tf.getmembers()]
    out = tmp_path / "odd.tar"
    with tarfile.open(out, "w") as tf:
        for info, data in members:
            if info.name == "repositories":
                data = b"{}"
            elif info.name.endswith("/json") and b'"parent"' not in data:
                data = json.dumps({**json.loads(data), **scratch_fields}).encode()
            info.size = len(data) if data is not None else 0
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return out


def test_a_v1_cmd_that_is_not_text_still_lists(tmp_path):
    info = oci.inspect(_odd_v1(tmp_path, container_config={"Cmd": [1, None]}))
    assert info.files == {"a": 1} and info.history[0]["created_by"] == "1 None"


def test_a_v1_parent_that_is_not_an_id_is_one_error(tmp_path):
    with pytest.raises(BadImage, match="bad v1 layer id"):
        oci.inspect(_odd_v1(tmp_path, parent=["not", "an", "id"]))


def test_many_small_gzip_members_stay_in_bounded_memory(tmp_path):
    layer = _tar([_member("zeros", bytes(128 << 20))])
    step = 1 << 20                                         # each member: 1 MiB in ~1 KiB
    bomb = b"".join(gzip.compress(layer[i:i + step], mtime=0) for i in range(0, len(layer), step))
    image = _archive(tmp_path / "members.tar", [bomb], diff_ids=[sha256_digest(layer)])
    del layer
    tracemalloc.start()
    info = oci.inspect(image)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.files == {"zeros": 128 << 20} and info.layers[0].compression == "gzip"
    assert peak < 20 << 20
