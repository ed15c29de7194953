"""labkit.oci.merge: one rule, Docker's, for what a layer does to the tree below it.

Each case is a raw layer tar in a given member order (labkit's own writer would sort
it): ``inspect``'s merged files and what ``extract`` writes must both be the expected
tree, whatever the order of whiteouts and entries in the layer.
"""
from __future__ import annotations

import io
import tarfile

import pytest

from fstree import regular_files
from imagewrap import wrap
from labkit import oci
from labkit.oci.layerscan import TarEntry
from labkit.oci.merge import Tree


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
             ("f", b"333"), ("x", "dir"), ("x/y", b"4444"))
BELOW = {"d/old": 1, "d/sub/deep": 2, "f": 3, "x/y": 4}

CASES = {
    "opaque-after-new-entries": (_tar(("d", "dir"), ("d/new", b"55555"), ("d/.wh..wh..opq", b"")),
                                 {"d/new": 5, "f": 3, "x/y": 4}),
    "opaque-before-new-entries": (_tar(("d/.wh..wh..opq", b""), ("d/new", b"55555")),
                                  {"d/new": 5, "f": 3, "x/y": 4}),
    "opaque-keeps-this-layers-subfolder": (_tar(("d/sub/new", b"55555"), ("d/.wh..wh..opq", b"")),
                                           {"d/sub/new": 5, "f": 3, "x/y": 4}),
    "whiteout-then-same-name": (_tar((".wh.f", b""), ("f", b"666666")), {**BELOW, "f": 6}),
    "same-name-then-whiteout": (_tar(("f", b"666666"), (".wh.f", b"")), {**BELOW, "f": 6}),
    "whiteout-a-folder": (_tar((".wh.d", b"")), {"f": 3, "x/y": 4}),
    "file-replaces-folder": (_tar(("x", b"7777777")), {**{k: v for k, v in BELOW.items()
                                                          if k != "x/y"}, "x": 7}),
    "folder-replaces-file": (_tar(("f", "dir"), ("f/in", b"88888888")),
                             {**{k: v for k, v in BELOW.items() if k != "f"}, "f/in": 8}),
    "dot-slash-hard-links": (_tar(("./usr/", "dir"), ("./usr/bin/perl", b"999999999"),
                                  ("./usr/bin/perl5.36.0", "link", "./usr/bin/perl")),
                             {**BELOW, "usr/bin/perl": 9, "usr/bin/perl5.36.0": 9}),
    "hard-link-to-a-lower-layers-file": (_tar(("g", "link", "f")), {**BELOW, "g": 3}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_inspect_and_extract_apply_one_rule(tmp_path, case):
    layer, expected = CASES[case]
    image = wrap([LOWER, layer], tmp_path / "img.tar")
    assert oci.inspect(image).files == expected
    oci.extract(image, tmp_path / "root")
    assert regular_files(tmp_path / "root") == expected


def test_a_whiteout_spares_what_its_own_layer_wrote():
    tree = Tree()
    tree.begin_layer()
    tree.apply(TarEntry("a", "file", 1, 0o644, "", False))
    tree.begin_layer()
    tree.apply(TarEntry("a", "file", 2, 0o644, "", False))
    step = tree.apply(TarEntry(".wh.a", "file", 0, 0o644, "", True))
    assert tree.files() == {"a": 2} and step.removed == []
    tree.begin_layer()
    step = tree.apply(TarEntry(".wh.a", "file", 0, 0o644, "", True))
    assert tree.files() == {} and step.removed == ["a"]


def test_implied_folders_are_reported_and_a_symlink_in_the_way_is_found():
    tree = Tree()
    tree.begin_layer()
    assert tree.apply(TarEntry("a/b/c", "file", 1, 0o644, "", False)).made == ["a", "a/b"]
    tree.apply(TarEntry("l", "symlink", 0, 0o777, "/etc", False))
    assert tree.link_in_the_way("l/passwd") == "l" and tree.link_in_the_way("a/b/c") is None
