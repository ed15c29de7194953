"""labkit.oci.merge: one rule, Docker's, for what a layer does to the tree below it.

Each case is a raw layer tar in a given member order (labkit's own writer would sort
it): ``inspect``'s merged files and what ``extract`` writes must both be the expected
tree (as Docker 20.10.24 on overlay2 unpacked and exported the same layers: the
engine test in tests/test_oci_engine.py checks it live), or both refuse what Docker
refused, in its words.
"""
from __future__ import annotations

import io
import json
import os
import tarfile

import pytest

import linkcases
from fstree import regular_files
from imagewrap import wrap
from labkit import oci
from labkit.errors import BadImage
from labkit.oci.layerdir import LayerDir
from labkit.oci.layerscan import TarEntry
from labkit.oci.merge import MOVE, REMOVE, Tree, unpacked


def _tar(*members: tuple) -> bytes:
    """Members ``(name, data)`` for files, ``(name, "dir")``, ``(name, "link", target)``
    (hard link) or ``(name, "sym", target)``, in exactly this order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, kind, *rest in members:
            info = tarfile.TarInfo(name)
            info.mode = 0o755 if kind == "dir" else 0o644
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind in ("link", "sym"):
                info.type = tarfile.LNKTYPE if kind == "link" else tarfile.SYMTYPE
                info.linkname = rest[0]
            else:
                info.size = len(kind)
            tf.addfile(info, io.BytesIO(kind) if isinstance(kind, bytes) else None)
    return buf.getvalue()


LOWER = _tar(("d", "dir"), ("d/old", b"1"), ("d/sub", "dir"), ("d/sub/deep", b"22"),
             ("f", b"333"), ("x", "dir"), ("x/y", b"4444"), ("lnk", "sym", "/x"))
BELOW = {"d/old": 1, "d/sub/deep": 2, "f": 3, "x/y": 4}

CASES = {
    "opaque-after-new-entries": (_tar(("d", "dir"), ("d/new", b"55555"), ("d/.wh..wh..opq", b"")),
                                 {"d/new": 5, "f": 3, "x/y": 4}),
    "opaque-before-new-entries": (_tar(("d/.wh..wh..opq", b""), ("d/new", b"55555")),
                                  {"d/new": 5, "f": 3, "x/y": 4}),
    "opaque-keeps-this-layers-subfolder": (_tar(("d/sub/new", b"55555"), ("d/.wh..wh..opq", b"")),
                                           {"d/sub/new": 5, "f": 3, "x/y": 4}),
    "whiteout-then-same-name": (_tar((".wh.f", b""), ("f", b"666666")), {**BELOW, "f": 6}),
    "whiteout-a-folder": (_tar((".wh.d", b"")), {"f": 3, "x/y": 4}),
    "file-replaces-folder": (_tar(("x", b"7777777")), {**{k: v for k, v in BELOW.items()
                                                          if k != "x/y"}, "x": 7}),
    "folder-replaces-file": (_tar(("f", "dir"), ("f/in", b"88888888")),
                             {**{k: v for k, v in BELOW.items() if k != "f"}, "f/in": 8}),
    "dot-slash-hard-links": (_tar(("./usr/", "dir"), ("./usr/bin/perl", b"999999999"),
                                  ("./usr/bin/perl5.36.0", "link", "./usr/bin/perl")),
                             {**BELOW, "usr/bin/perl": 9, "usr/bin/perl5.36.0": 9}),
    "whiteout-then-folder-shows-the-lower-folder": (_tar((".wh.d", b""), ("d", "dir"), ("d/new", b"55555")),
                                                    {**BELOW, "d/new": 5}),
    "a-folder-under-a-lower-link-hides-it": (_tar(("lnk/new", b"55555")), {**BELOW, "lnk/new": 5}),
    "through-this-layers-link": (_tar(("x", "dir"), ("l2", "sym", "/x"), ("l2/z", b"55555")),
                                 {**BELOW, "x/z": 5}),
}
REFUSED = {
    "same-name-then-whiteout": (_tar(("f", b"666666"), (".wh.f", b"")), "mknod /f: file exists"),
    "hard-link-to-a-lower-layers-file": (_tar(("g", "link", "f")), "link /f /g: no such file"),
    "whiteout-then-a-file-in-it": (_tar((".wh.d", b""), ("d/new", b"1")), "open /d/new: not a directory"),
    "through-a-lower-layers-link": (_tar(("l2", "sym", "/lnk"), ("l2/z", b"1")), "open /l2/z: no such"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_inspect_and_extract_apply_one_rule(tmp_path, case):
    layer, expected = CASES[case]
    image = wrap([LOWER, layer], tmp_path / "img.tar")
    assert oci.inspect(image).files == expected
    oci.extract(image, tmp_path / "root")
    assert regular_files(tmp_path / "root") == expected


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_inspect_and_extract_refuse_what_docker_refuses(tmp_path, case):
    layer, words = REFUSED[case]
    image = wrap([LOWER, layer], tmp_path / "img.tar")
    with pytest.raises(BadImage, match=f"layer 2: Docker cannot unpack .*{words}"):
        oci.inspect(image)
    with pytest.raises(BadImage, match=words):
        oci.extract(image, tmp_path / "root")
    assert not (tmp_path / "root").exists()


def _entry(path: str, kind: str = "file", linkname: str = "", size: int = 1) -> TarEntry:
    return TarEntry(path, kind, size, 0o644, linkname, path.rsplit("/", 1)[-1].startswith(".wh."))


def test_a_whiteout_hides_only_what_is_below():
    tree = Tree()
    tree.overlay(unpacked([_entry("a")]))
    ops = tree.overlay(unpacked([_entry(".wh.a"), _entry("b")]))
    assert tree.files() == {"b": 1} and ops == [(REMOVE, "a"), (MOVE, "b")]
    ops = tree.overlay(unpacked([_entry(".wh.nothing")]))
    assert tree.files() == {"b": 1} and ops == []


def test_paths_through_a_layers_own_links_resolve_in_its_root():
    layer = LayerDir()
    assert layer.apply(_entry("ln", "symlink", "../../..")).path == "ln"
    change = layer.apply(_entry("ln/a/b/c"))     # MkdirAll through the link: made at the root
    assert change.path == "a/b/c" and change.made == ["a", "a/b"]
    assert layer.apply(_entry("h", "hardlink", "ln/a/b/c")).link_to == "a/b/c"
    assert layer.resolve("ln/ln/ln/a", True) == "a"
    layer.apply(_entry("loop", "symlink", "loop"))
    with pytest.raises(BadImage, match="open /loop/x: too many levels of symbolic links"):
        layer.apply(_entry("loop/x"))


RECORDED = json.loads(linkcases.RECORDING.read_text())


@pytest.mark.parametrize("case", sorted(linkcases.CASES))
def test_extract_gives_what_docker_exported(tmp_path, case):
    """Every case of tests/linkcases.py as Docker 20.10.24 (overlay2) loaded and exported it
    (the recording; tests/test_oci_engine.py measures it again live), entry for entry:
    types, modes, owners (as root), link targets, contents, hard-link groups, dates."""
    as_root = os.geteuid() == 0
    docker = RECORDED["cases"][case]
    ours = linkcases.labkit_result(case, tmp_path, as_root)
    assert linkcases.differences(case, docker if as_root else linkcases.without_owners(docker), ours) == []
    image = tmp_path / f"{case}.tar"
    if "refused" in ours:
        with pytest.raises(BadImage, match="Docker cannot unpack"):
            oci.inspect(image)
    else:
        assert oci.inspect(image).files == {p: row[4] for p, row in ours["rows"].items() if row[0] == "file"}
