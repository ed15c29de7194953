"""labkit.explore: what each layer adds, changes and deletes (the layer explorer's model)."""
from __future__ import annotations

import json

import pytest

from labkit import explore, oci, show
from labkit.explore import ADDED, CHANGED, DELETED
from labkit.oci import Entry, TarEntry


def rows(layer):
    return [(c.change, c.path, c.size, c.size_before) for c in layer.changes]


def write(tmp_path, layers, fmt="docker-archive", era="modern", name="img.tar"):
    return oci.Image(layers, cmd=["/hello"], era=era).write(tmp_path / name, format=fmt)


def test_zero_layer_image_has_no_layers_and_no_files(tmp_path):
    x = explore.explore(write(tmp_path, []))
    assert x.layers == ()
    assert x.files == {}
    assert x.totals() == {"layers": 0, "layer_bytes": 0, "content_bytes": 0,
                          "hidden_bytes": 0, "tar_overhead_bytes": 0}


def test_one_empty_layer_is_1024_bytes_of_pure_tar_overhead(tmp_path):
    x = explore.explore(write(tmp_path, [[]]))
    (layer,) = x.layers
    assert layer.diff_id == oci.EMPTY_LAYER_DIFF_ID
    assert (layer.size, layer.changes, x.tar_overhead_bytes) == (1024, (), 1024)


def test_added_then_changed_then_deleted(tmp_path):
    x = explore.explore(write(tmp_path, [
        [Entry.file("hello", b"x" * 600), Entry.dir("etc"), Entry.file("etc/motd", b"hi\n")],
        [Entry.file("hello", b"y" * 10)],
        [Entry.whiteout("etc/motd")],
    ]))
    assert rows(x.layers[0]) == [(ADDED, "etc", 0, None), (ADDED, "etc/motd", 3, None),
                                 (ADDED, "hello", 600, None)]
    assert rows(x.layers[1]) == [(CHANGED, "hello", 10, 600)]
    (deleted,) = x.layers[2].changes
    assert (deleted.change, deleted.path, deleted.type, deleted.size_before, deleted.marker) == (
        DELETED, "etc/motd", "file", 3, "etc/.wh.motd")
    assert x.files == {"hello": 10}
    assert x.hidden_bytes == 600 + 3
    assert x.layers[2].deleted_bytes == 3
    assert [layer.hidden_bytes for layer in x.layers] == [0, 600, 3]      # overwritten, then deleted
    assert sum(layer.hidden_bytes for layer in x.layers) == x.hidden_bytes


def test_totals_add_up_to_the_layer_tars(tmp_path):
    x = explore.explore(write(tmp_path, [
        [Entry.file("a", b"1" * 700), Entry.file("b", b"2" * 5)], [Entry.whiteout("a")]]))
    assert x.layer_bytes == sum(layer.size for layer in x.layers)
    assert x.layer_bytes == x.content_bytes + x.hidden_bytes + x.tar_overhead_bytes
    assert (x.content_bytes, x.hidden_bytes) == (5, 700)


def test_deleting_a_folder_deletes_everything_under_it(tmp_path):
    x = explore.explore(write(tmp_path, [
        [Entry.dir("d"), Entry.file("d/a", b"aa"), Entry.file("d/sub/b", b"bbb"), Entry.file("dd", b"k")],
        [Entry.whiteout("d")],
    ]))
    assert [(c.change, c.path, c.size_before) for c in x.layers[1].changes] == [
        (DELETED, "d", 0), (DELETED, "d/a", 2), (DELETED, "d/sub/b", 3)]
    assert x.files == {"dd": 1}


def test_opaque_folder_hides_lower_content_but_keeps_its_own_layer(tmp_path):
    x = explore.explore(write(tmp_path, [
        [Entry.dir("d"), Entry.file("d/old", b"old"), Entry.file("d/kept", b"1")],
        [Entry.opaque("d"), Entry.file("d/kept", b"22"), Entry.file("d/new", b"n")],
    ]))
    assert rows(x.layers[1]) == [(CHANGED, "d/kept", 2, 1), (ADDED, "d/new", 1, None),
                                 (DELETED, "d/old", 0, 3)]
    assert x.layers[1].of(DELETED)[0].marker == "d/.wh..wh..opq"
    assert x.files == {"d/kept": 2, "d/new": 1}


def test_whiteout_of_a_path_no_lower_layer_has_is_still_shown(tmp_path):
    x = explore.explore(write(tmp_path, [[Entry.file("a", b"a")], [Entry.whiteout("ghost")]]))
    (ghost,) = x.layers[1].changes
    assert (ghost.change, ghost.path, ghost.type, ghost.size_before) == (DELETED, "ghost", "missing", None)


def test_whiteouts_apply_to_lower_layers_only_whatever_the_member_order():
    # ".wh.a" sorts after "a" in a tar; the re-added "a" of the same layer must stay.
    state = {"a": ("file", 5)}
    changes = explore.apply_layer(state, [TarEntry("a", "file", 7, 0o644, "", False),
                                          TarEntry(".wh.a", "file", 0, 0o644, "", True)])
    assert [(c.change, c.path) for c in changes] == [(CHANGED, "a")]
    assert state == {"a": ("file", 7)}


def test_links_show_their_target(tmp_path):
    x = explore.explore(write(tmp_path, [[Entry.file("bin/busybox", b"b" * 9),
                                          Entry.symlink("bin/sh", "busybox"),
                                          Entry.hardlink("bin/ls", "bin/busybox")]]))
    links = {c.path: (c.type, c.linkname) for c in x.layers[0].changes}
    assert links == {"bin/busybox": ("file", ""), "bin/sh": ("symlink", "busybox"),
                     "bin/ls": ("hardlink", "bin/busybox")}


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive", "oci-dir"])
def test_every_format_gives_the_same_changes(tmp_path, fmt):
    layers = [[Entry.file("a", b"aaa"), Entry.file("b", b"b")], [Entry.whiteout("b")]]
    x = explore.explore(write(tmp_path, layers, fmt=fmt, name=f"img-{fmt}"))
    assert x.format == ("docker-archive" if fmt == "docker-archive" else "oci-layout")
    assert [rows(layer) for layer in x.layers] == [
        [(ADDED, "a", 3, None), (ADDED, "b", 1, None)], [(DELETED, "b", 0, 1)]]


def test_era_1_4_shows_the_empty_scratch_layer_first(tmp_path):
    x = explore.explore(write(tmp_path, [[Entry.file("hello", b"hi")]], era="1.4"))
    assert x.format == "docker-v1"
    assert [layer.diff_id for layer in x.layers][0] == oci.EMPTY_LAYER_DIFF_ID
    # scratch, the layer, and the CMD (before 1.10 every instruction was an image)
    assert [rows(layer) for layer in x.layers] == [[], [(ADDED, "hello", 2, None)], []]


def test_merged_files_agree_with_oci_inspect(tmp_path):
    path = write(tmp_path, [
        [Entry.file("a", b"1"), Entry.file("d/x", b"22"), Entry.file("d/y", b"333")],
        [Entry.opaque("d"), Entry.file("d/z", b"4444"), Entry.whiteout("a")],
        [Entry.file("a", b"55555")],
    ])
    info = oci.inspect(path)
    assert explore.explore(info).files == info.files == {"a": 5, "d/z": 4}


def test_created_by_comes_from_the_history(tmp_path):
    img = oci.Image([[Entry.file("hello", b"hi")]],
                    history=[{"created_by": "COPY hello /hello"}, {"created_by": "CMD", "empty_layer": True}])
    x = explore.explore(img.write(tmp_path / "h.tar"))
    assert x.layers[0].created_by == "COPY hello /hello"
    assert show.layer_label(x.layers[0]).startswith("layer 1 · ")


def test_an_image_object_is_explored_without_leaving_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    x = explore.explore(oci.Image([[Entry.file("a", b"abc")]]))
    assert (x.source, x.files) == ("labkit image", {"a": 3})
    assert list(tmp_path.iterdir()) == []


def test_to_dict_is_plain_json(tmp_path):
    x = explore.explore(write(tmp_path, [[Entry.file("a", b"1")], [Entry.whiteout("a")]]))
    data = json.loads(json.dumps(x.to_dict()))
    assert data["totals"]["hidden_bytes"] == 1
    assert data["layers"][1]["changes"][0]["change"] == DELETED


@pytest.mark.engine
def test_explores_what_docker_save_writes(engine, tmp_path):
    """The same two-layer image, loaded into the engine and saved back, explores the same."""
    path = oci.Image([[Entry.file("a", b"aaaa"), Entry.file("b", b"bb")], [Entry.whiteout("a")]],
                     cmd=["/b"]).write(tmp_path / "in.tar", tag="labkit-explore-test:1")
    engine.load(path)
    try:
        engine.save("labkit-explore-test:1", tmp_path / "saved.tar")
    finally:
        engine.remove("labkit-explore-test:1")
    ours, saved = explore.explore(path), explore.explore(tmp_path / "saved.tar")
    assert [rows(layer) for layer in saved.layers] == [rows(layer) for layer in ours.layers]
    assert saved.files == ours.files == {"b": 2}


def test_a_multi_platform_layout_is_explored_as_inspect_reads_it(tmp_path):
    """The explorer never picks a platform itself: it shows what labkit.oci.inspect picks
    from an index (the machine's own platform is the reader's choice, issue 12/14)."""
    import shutil

    layouts = {}
    for arch in ("amd64", "arm64"):
        program = f"{arch} program".encode()
        layouts[arch] = oci.Image([[Entry.file("hello", program)]], architecture=arch).write(
            tmp_path / arch, format="oci-dir")
    both = tmp_path / "both"
    shutil.copytree(layouts["amd64"], both)
    for blob in (layouts["arm64"] / "blobs" / "sha256").iterdir():
        shutil.copy(blob, both / "blobs" / "sha256" / blob.name)
    index = json.loads((both / "index.json").read_text())
    arm = json.loads((layouts["arm64"] / "index.json").read_text())["manifests"][0]
    index["manifests"][0]["platform"] = {"os": "linux", "architecture": "amd64"}
    index["manifests"].append({**arm, "platform": {"os": "linux", "architecture": "arm64"}})
    (both / "index.json").write_text(json.dumps(index))
    info = oci.inspect(both)
    x = explore.explore(both)
    assert [layer.diff_id for layer in x.layers] == [layer.diff_id for layer in info.layers]
    assert x.files == info.files and info.config["architecture"] in ("amd64", "arm64")
