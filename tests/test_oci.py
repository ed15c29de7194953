"""labkit.oci without any engine: layer bytes, config bytes, writers, reader, extract."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from labkit import oci
from labkit.errors import BadImage, DigestMismatch, LabkitError
from labkit.oci.digest import go_json, sha256_digest

DATA = Path(__file__).parent / "data"
HI = oci.Entry.file("hi", b"hello\n", mode=0o755, mtime=1000000000)
HI_DIFF_ID = {"20.10": "sha256:8b708e5fb9dd56153903afd4a3ebddf786218f070d27d6c10472e46193ff79a9",
              "modern": "sha256:4bd8761bf792f1e5e73634c254d481dd041770f4b65fe75969a242aa6ea03c1b"}


# --- layer tars ----------------------------------------------------------------------
@pytest.mark.parametrize("era, fixture", [("20.10", "save-20.10-hi.tar"), ("modern", "save-28.5-hi.tar")])
def test_layer_is_byte_identical_to_the_engines(era, fixture):
    info = oci.inspect(DATA / fixture)
    assert info.layers[0].diff_id == HI_DIFF_ID[era]
    layer = oci.layer_tar([HI], era=era)
    assert sha256_digest(layer) == HI_DIFF_ID[era]


def test_tar_headers_show_what_differs_between_eras():
    old, new = (oci.tar_headers(oci.layer_tar([HI], era=e))[0] for e in ("20.10", "modern"))
    differ = {k for k in old if old[k] != new[k]}
    assert differ == {"mode", "uname", "gname", "chksum"}
    assert (old["mode"], new["mode"]) == ("0100755", "0000755")
    assert (old["uname"], new["uname"]) == ("root", "")
    assert oci.tar_headers(oci.layer_tar([HI]))[-1] == {"offset": 1024, "zero_blocks": 2}


def test_empty_layer_is_1024_nul_bytes():
    assert sha256_digest(oci.layer_tar([])) == oci.EMPTY_LAYER_DIFF_ID


def test_entries_follow_dockers_walk_order_and_kinds():
    layer = oci.layer_tar([oci.Entry.file("a.txt", b"1"), oci.Entry.dir("a"),
                           oci.Entry.file("a/b", b"2"), oci.Entry.symlink("l", "a/b"),
                           oci.Entry.hardlink("h", "a/b")])
    names = [(m.name, m.type) for m in tarfile.open(fileobj=io.BytesIO(layer))]
    assert names == [("a", b"5"), ("a/b", b"0"), ("a.txt", b"0"), ("h", b"1"), ("l", b"2")]


def test_long_paths_use_the_ustar_prefix():
    deep = "d" * 90 + "/" + "f" * 60
    member = next(iter(tarfile.open(fileobj=io.BytesIO(oci.layer_tar([oci.Entry.file(deep, b"x")])))))
    assert member.name == deep


# --- config / ids --------------------------------------------------------------------
@pytest.mark.parametrize("era, fixture", [("20.10", "scratch-config-20.10.json"),
                                          ("modern", "scratch-config-28.5.json")])
def test_zero_layer_buildkit_config_is_byte_identical(era, fixture):
    expected = (DATA / fixture).read_bytes()
    image = oci.Image.buildkit_scratch(era)
    assert image.config_bytes() == expected
    assert image.image_id == "sha256:" + hashlib.sha256(expected).hexdigest()


def test_config_has_cmd_entrypoint_and_epoch():
    config = json.loads(oci.Image([[HI]], cmd=["/hi"], entrypoint=["/sh"]).config_bytes())
    assert config["config"] == {"Entrypoint": ["/sh"], "Cmd": ["/hi"]}
    assert config["created"] == oci.EPOCH_1970
    assert config["rootfs"]["diff_ids"] == [HI_DIFF_ID["modern"]]


def test_go_json_escapes_like_go():
    assert go_json({"a": "<&>"}) == b'{"a":"\\u003c\\u0026\\u003e"}'


# --- writers -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
@pytest.mark.parametrize("era", ["modern", "20.10"])
def test_same_inputs_give_byte_identical_output(tmp_path, fmt, era):
    def build(name):
        return oci.Image([[HI]], cmd=["/hi"], era=era).write(tmp_path / name, fmt, tag="hi:1")
    assert build("a.tar").read_bytes() == build("b.tar").read_bytes()


def test_oci_dir_is_a_valid_layout(tmp_path):
    out = oci.Image([[HI]]).write(tmp_path / "layout", "oci-dir", tag="hi:v1")
    assert json.loads((out / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((out / "index.json").read_text())
    annotation = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    assert annotation == "v1"
    for blob in (out / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name


def test_era_14_layout_has_scratch_parent_and_no_manifest(tmp_path):
    out = oci.Image([[HI]], era="1.4").write(tmp_path / "old.tar", tag="hi")
    names = tarfile.open(out).getnames()
    assert "manifest.json" not in names and "repositories" in names
    assert f"{oci.SCRATCH_LAYER_ID}/layer.tar" in names
    info = oci.inspect(out)
    assert info.format == "docker-v1" and len(info.layers) == 2
    assert info.layers[0].diff_id == oci.EMPTY_LAYER_DIFF_ID
    assert info.files == {"hi": 6}
    with pytest.raises(LabkitError, match="era 1.4"):
        oci.Image(era="1.4").write(tmp_path / "x", "oci-dir")


# --- reader --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, expected", [("docker-archive", "docker-archive"),
                                           ("oci-archive", "oci-layout"), ("oci-dir", "oci-layout")])
def test_inspect_reads_what_labkit_writes(tmp_path, fmt, expected):
    image = oci.Image([[HI], [oci.Entry.file("etc/motd", b"hi there")]], cmd=["/hi"])
    info = oci.inspect(image.write(tmp_path / "img", fmt, tag="hi:latest"))
    assert info.format == expected
    assert info.config_digest == image.config_digest
    assert [layer.diff_id for layer in info.layers] == image.diff_ids
    assert info.files == {"hi": 6, "etc/motd": 8}
    assert info.repo_tags and "hi" in info.repo_tags[0]
    data = info.to_dict()
    assert {"format", "config_digest", "layers", "history", "files"} <= set(data)
    assert data["layers"][0]["size"] == 2048 and data["layers"][0]["files"] == {"hi": 6}
    assert "hi" in info.text()


def test_inspect_reads_the_engines_saves():
    old, new = oci.inspect(DATA / "save-20.10-hi.tar"), oci.inspect(DATA / "save-28.5-hi.tar")
    assert (old.format, new.format) == ("docker-archive", "oci-layout")
    assert old.files == new.files == {"hi": 6}
    assert new.repo_tags == ["h1x:tiny-buildkit"]


def _oci_with_gzip_layers(tmp_path, layers: list[list[oci.Entry]]) -> Path:
    """An OCI layout whose layers are gzip blobs (as registries store them)."""
    image = oci.Image(layers)
    root = tmp_path / "gz"
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    descriptors = []
    for layer in layers:
        blob = gzip.compress(oci.layer_tar(layer), mtime=0)
        (blobs / sha256_digest(blob)[7:]).write_bytes(blob)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": sha256_digest(blob), "size": len(blob)})
    config = image.config_bytes()
    (blobs / sha256_digest(config)[7:]).write_bytes(config)
    manifest = go_json({"schemaVersion": 2, "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": sha256_digest(config), "size": len(config)}, "layers": descriptors})
    (blobs / sha256_digest(manifest)[7:]).write_bytes(manifest)
    (root / "index.json").write_bytes(go_json({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha256_digest(manifest), "size": len(manifest)}]}))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


def test_gzip_layers_and_whiteouts_merge(tmp_path):
    lower = [oci.Entry.file("a", b"1"), oci.Entry.file("d/x", b"22"), oci.Entry.file("d/y", b"3"),
             oci.Entry.file("o/gone", b"4")]
    upper = [oci.Entry.whiteout("a"), oci.Entry.opaque("o"), oci.Entry.file("o/new", b"55"),
             oci.Entry.whiteout("d/x")]
    info = oci.inspect(_oci_with_gzip_layers(tmp_path, [lower, upper]))
    assert info.layers[0].compression == "gzip"
    assert info.layers[0].diff_id == oci.Image([lower]).diff_ids[0]
    assert info.files == {"d/y": 1, "o/new": 2}


def test_digest_mismatch_is_refused(tmp_path):
    out = oci.Image([[HI]]).write(tmp_path / "layout", "oci-dir")
    layer = out / "blobs" / "sha256" / HI_DIFF_ID["modern"][7:]
    layer.write_bytes(layer.read_bytes().replace(b"hello", b"HELLO"))
    with pytest.raises(DigestMismatch, match="expected"):
        oci.inspect(out)


def test_a_symlinked_blob_in_a_folder_is_one_error(tmp_path):
    out = oci.Image([[HI]]).write(tmp_path / "layout", "oci-dir")
    layer = out / "blobs" / "sha256" / HI_DIFF_ID["modern"][7:]
    layer.rename(tmp_path / "elsewhere")
    layer.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BadImage, match="plain files, not links"):
        oci.inspect(out)


def test_inspect_never_writes(tmp_path):
    out = oci.Image([[HI]]).write(tmp_path / "img.tar")
    before = sorted(tmp_path.rglob("*"))
    oci.inspect(out)
    assert sorted(tmp_path.rglob("*")) == before


def test_not_an_image(tmp_path):
    (tmp_path / "x.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(BadImage):
        oci.inspect(tmp_path / "x.tar")


# --- build_cli / extract -------------------------------------------------------------
def test_build_cli_takes_the_files_mode(tmp_path):
    src = tmp_path / "hello"
    src.write_bytes(b"#!hello")
    src.chmod(0o750)
    out = oci.build_cli([f"{src}:/usr/bin/hello"], ["/usr/bin/hello"], None, "h:1",
                        "docker-archive", "modern", tmp_path / "o.tar")
    info = oci.inspect(out)
    assert info.layers[0].entries[0].mode == 0o750
    assert info.config["config"]["Cmd"] == ["/usr/bin/hello"]
    with pytest.raises(LabkitError, match="SRC:DEST"):
        oci.build_cli(["nocolon"], None, None, None, "docker-archive", "modern", tmp_path / "p")


def test_extract_writes_the_merged_tree(tmp_path):
    layers = [[oci.Entry.file("a", b"1"), oci.Entry.dir("d"), oci.Entry.file("d/x", b"2"),
               oci.Entry.symlink("d/up", "../a"), oci.Entry.symlink("abs", "/d/x"),
               oci.Entry.hardlink("d/y", "d/x")],   # a hard link's target: in its layer, before it
              [oci.Entry.whiteout("a")]]
    tar = oci.Image(layers).write(tmp_path / "img.tar")
    written = oci.extract(tar, tmp_path / "root")
    root = tmp_path / "root"
    assert {p.relative_to(root).as_posix() for p in written} == {"d", "d/x", "d/up", "abs", "d/y"}
    assert not (root / "a").exists()
    assert os.readlink(root / "abs") == "/d/x"          # kept exactly as written, as Docker does
    assert (root / "d" / "y").read_bytes() == b"2"
    with pytest.raises(LabkitError, match="not an empty folder"):
        oci.extract(tar, root)


def test_nested_index_picks_the_complete_amd64_image(tmp_path):
    """As the containerd image store saves: index -> index -> manifests (some absent)."""
    out = oci.Image([[HI]]).write(tmp_path / "layout", "oci-dir")
    index = json.loads((out / "index.json").read_text())
    manifest = index["manifests"][0]
    absent = {"mediaType": manifest["mediaType"], "digest": "sha256:" + "0" * 64, "size": 1,
              "platform": {"architecture": "arm64", "os": "linux"}}
    inner = go_json({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": [absent, {**manifest, "platform": {"architecture": "amd64",
                                                                     "os": "linux"}}]})
    (out / "blobs" / "sha256" / sha256_digest(inner)[7:]).write_bytes(inner)
    index["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json",
                           "digest": sha256_digest(inner), "size": len(inner)}]
    (out / "index.json").write_bytes(go_json(index))
    assert oci.inspect(out).files == {"hi": 6}


def test_reads_tarballs_with_dot_slash_names(tmp_path):
    layout = oci.Image([[HI]]).write(tmp_path / "layout", "oci-dir")
    with tarfile.open(tmp_path / "dot.tar", "w") as tf:
        tf.add(layout, arcname=".")
    assert oci.inspect(tmp_path / "dot.tar").format == "oci-layout"


def test_a_source_that_changes_while_writing_is_refused(tmp_path):
    src = tmp_path / "payload"
    src.write_bytes(b"before")
    image = oci.Image([[oci.Entry.file("payload", source=src)]])
    promised = image.diff_ids                        # what the config will name
    src.write_bytes(b"AFTER!")                       # same size, other bytes
    with pytest.raises(LabkitError, match="changed while the image was written"):
        image.write(tmp_path / "img.tar")
    assert not (tmp_path / "img.tar").exists() and promised == image.diff_ids
    assert [p.name for p in tmp_path.iterdir()] == ["payload"]   # no temporary file left


def test_tar_headers_of_a_path_reads_only_the_headers(tmp_path):
    import tracemalloc

    big = tmp_path / "big"
    with big.open("wb") as out:
        out.truncate(64 << 20)
    layer = tmp_path / "layer.tar"
    with layer.open("wb") as out:
        oci.tarlayer.write_layer([oci.Entry.file("big", source=big), HI], out)
    tracemalloc.start()
    rows = oci.tar_headers(layer)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [row.get("name") for row in rows] == ["big", "hi", None] and rows[-1]["zero_blocks"] == 2
    assert rows == oci.tar_headers(layer.read_bytes()) and peak < 4 << 20


def test_a_file_replacing_a_folder_hides_what_the_folder_held(tmp_path):
    # The folder "a" exists only because "a/b" is in it; the upper layer's file "a" replaces it.
    image = oci.Image([[oci.Entry.file("a/b", b"x")], [oci.Entry.file("a", b"yy")]])
    assert oci.inspect(image.write(tmp_path / "r.tar")).files == {"a": 2}


@pytest.mark.parametrize("compress", ["zstd", "gzip"])
def test_compressed_layers_read_and_extract(tmp_path, compress):
    from imagewrap import wrap

    lower = oci.layer_tar([oci.Entry.file("a", b"1" * 5000), oci.Entry.file("d/x", b"2")])
    upper = oci.layer_tar([oci.Entry.whiteout("d")])
    image = wrap([lower, upper], tmp_path / "layout", "oci-dir", compress=compress)
    info = oci.inspect(image)
    assert [l.compression for l in info.layers] == [compress, compress]
    assert info.files == {"a": 5000}
    oci.extract(image, tmp_path / "root")
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == ["a"]


def test_a_corrupt_zstd_layer_is_one_error(tmp_path):
    from imagewrap import wrap

    image = wrap([b"\x28\xb5\x2f\xfd" + b"not zstd" * 100], tmp_path / "bad.tar")
    with pytest.raises(BadImage, match="zstd data is corrupt"):
        oci.inspect(image)


def test_things_that_are_no_image_file_say_so(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, kind in (("/dev/null", "a character device"), (fifo, "a fifo")):
        with pytest.raises(BadImage, match=f"is not an image: it is {kind}"):
            oci.inspect(path)
    for nothing in (None, 42):
        with pytest.raises(LabkitError, match="expected the path of an image"):
            oci.inspect(nothing)
    with pytest.raises(LabkitError, match="does not exist"):
        oci.extract(tmp_path / "missing.tar", tmp_path / "root")


def _relinked(tmp_path: Path, link: str) -> Path:
    """A docker-archive of two identical layers whose second ``layer.tar`` is a symlink
    ``link`` (what ``docker save`` 1.10-24 writes for a repeated layer)."""
    image = oci.Image([[HI], [HI]])
    with tarfile.open(image.write(tmp_path / "same.tar")) as tf:
        members = [(m, tf.extractfile(m).read() if m.isreg() else None) for m in tf.getmembers()]
    manifest = json.loads(next(d for m, d in members if m.name == "manifest.json"))[0]
    manifest["Layers"][1] = "second/layer.tar"
    out = tmp_path / "linked.tar"
    with tarfile.open(out, "w") as tf:
        for info, data in members:
            if info.name == "manifest.json":
                data = go_json([manifest])
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
        info = tarfile.TarInfo("second/layer.tar")
        info.type, info.linkname = tarfile.SYMTYPE, link
        tf.addfile(info)
    return out


def test_a_repeated_layer_saved_as_a_symlink_reads(tmp_path):
    with tarfile.open(oci.Image([[HI], [HI]]).write(tmp_path / "x.tar")) as tf:
        first = json.load(tf.extractfile("manifest.json"))[0]["Layers"][0]
    assert oci.inspect(_relinked(tmp_path, f"../{first}")).files == {"hi": 6}
    with pytest.raises(BadImage, match="has no second/layer.tar"):
        oci.inspect(_relinked(tmp_path, "../../../etc/passwd"))
