"""labkit.oci on tar archives nobody here wrote.

Go's ``archive/tar`` test corpus (Debian's ``golang-1.19-src``) and CPython's tarfile
test archives (``libpython3.11-testsuite``), each tar wrapped as a layer of a
docker-archive and of an OCI layout: inspect and extract never end in a traceback and
list the same files; where the engine loads the tar, ``extract`` gives what ``docker
export`` of a container of it shows. The ``*sparse*`` tars never go near the engine
(``docker import`` writes pax-sparse-big.tar's 60 GB in full).
"""
from __future__ import annotations

import bz2
import lzma
import os
from pathlib import Path

import pytest

from conftest import need, need_path
from fstree import (differences, from_export, from_folder, implied_folders, regular_files, undated,
                    without_runtime)
from imagewrap import wrap
from labkit import oci
from labkit.errors import EngineError, LabkitError, UnsafeArchive

GO_CORPUS = Path("/usr/share/go-1.19/src/archive/tar/testdata")
PY_CORPUS = Path("/usr/lib/python3.11/test")
#: Docker's unpacker refuses these type flags ("unhandled tar header type"), and its
#: layer store (tar-split) refuses a path twice in one layer; labkit reads them as
#: GNU tar does (see labkit.oci.layerscan.KINDS) and lets the later entry win.
DOCKER_REFUSES = ("unhandled tar header type", "duplicates of file paths not supported")


def corpus() -> list[Path]:
    go = sorted(GO_CORPUS.glob("*.tar*")) if GO_CORPUS.is_dir() else []
    python = [PY_CORPUS / n for n in ("testtar.tar", "testtar.tar.xz", "recursion.tar")]
    return go + [p for p in python if p.exists()]


def _need_corpora() -> None:
    """Both corpora (golang-1.19-src, libpython3.11-testsuite), or skip/fail saying how to install them."""
    need_path(GO_CORPUS)
    need_path(PY_CORPUS / "testtar.tar", str(PY_CORPUS))


def raw_tar(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".bz2":
        return bz2.decompress(data)
    if path.suffix == ".xz":
        return lzma.decompress(data)
    return data


def _outcome(call):
    try:
        return call(), None
    except LabkitError as err:   # anything else is a traceback: the test fails
        return None, err


@pytest.mark.tools
def test_the_corpora_are_installed():
    _need_corpora()
    assert len(corpus()) >= 45


@pytest.mark.tools
@pytest.mark.parametrize("fmt", ["docker-archive", "oci-dir"])
@pytest.mark.parametrize("tar", corpus() or [None], ids=lambda p: p.name if p else "no-corpus")
def test_inspect_and_extract_agree(tmp_path, tar, fmt):
    if tar is None:
        _need_corpora()
    image = wrap([raw_tar(tar)], tmp_path / "image", fmt)
    info, refused = _outcome(lambda: oci.inspect(image))
    written, not_extracted = _outcome(lambda: oci.extract(image, tmp_path / "root"))
    for err in (refused, not_extracted):
        assert err is None or ("\n" not in str(err) and len(str(err)) <= 810), err
    if refused is not None:
        assert not_extracted is not None, f"extract took what inspect refused: {refused}"
        return
    if not_extracted is not None:   # only for safety (e.g. 60 GB sparse files), never a bad read
        assert isinstance(not_extracted, UnsafeArchive), not_extracted
        assert not (tmp_path / "root").exists()
        return
    assert regular_files(tmp_path / "root") == info.files
    assert {p.relative_to(tmp_path / "root").as_posix() for p in written} == set(
        from_folder(tmp_path / "root"))


@pytest.mark.tools
def test_corpus_cases_read_as_gos_reader_reads_them(tmp_path):
    """The cases of issue 12, each as Go's archive/tar (so Docker) reads it."""
    def files(name: str) -> dict[str, int]:
        return oci.inspect(wrap([raw_tar(GO_CORPUS / name)], tmp_path / name)).files

    need_path(GO_CORPUS)
    assert files("pax-global-records.tar") == {"file1": 0, "file2": 0, "file3": 0, "file4": 0}
    assert files("pax-nil-sparse-data.tar") == files("pax-nil-sparse-hole.tar") == {"sparse.db": 1000}
    assert files("gnu-nil-sparse-data.tar") == {"sparse.db": 1000}
    assert files("pax-sparse-big.tar") == {"pax-sparse": 60_000_000_000}
    entries = oci.inspect(wrap([raw_tar(GO_CORPUS / "pax-multi-hdrs.tar")], tmp_path / "m")).layers[0].entries
    assert [(e.path, e.linkname) for e in entries] == [("bar", "PAX4/PAX4/long-linkpath-name")]
    entries = oci.inspect(wrap([raw_tar(GO_CORPUS / "gnu-multi-hdrs.tar")], tmp_path / "g")).layers[0].entries
    assert [(e.path, e.linkname) for e in entries] == [("GNU2/GNU2/long-path-name",
                                                        "GNU4/GNU4/long-linkpath-name")]
    with pytest.raises(LabkitError, match="NUL byte"):
        oci.inspect(wrap([raw_tar(GO_CORPUS / "pax-nul-path.tar")], tmp_path / "nul"))
    data = tmp_path / "root"
    oci.extract(wrap([raw_tar(GO_CORPUS / "pax-nil-sparse-data.tar")], tmp_path / "s"), data)
    assert (data / "sparse.db").read_bytes() == b"0123456789" * 100   # the logical file


def _may_go_to_the_engine(tar: Path, layer: bytes) -> bool:
    """Never a sparse tar (nor anything that mentions GNU sparse records) into an engine."""
    return "sparse" not in tar.name and b"GNU.sparse" not in layer


@pytest.mark.engine
@pytest.mark.tools
def test_extract_equals_docker_export(engine, tmp_path):
    """One engine round per corpus tar the engine may load; reports what it compared."""
    _need_corpora()      # the count below assumes both
    compared, refused = [], []
    for tar in corpus():
        layer = raw_tar(tar)
        if not _may_go_to_the_engine(tar, layer):
            continue
        tag = f"labkit-test/corpus-{tar.name.split('.')[0].lower()}:1"
        image = wrap([layer], tmp_path / f"{tar.name}.image.tar", tag=tag)
        try:
            engine.load(image)
        except EngineError as err:
            refused.append(tar.name)
            ours, _ = _outcome(lambda: oci.inspect(image))
            assert ours is None or any(r in str(err) for r in DOCKER_REFUSES), (tar.name, str(err))
            continue
        try:
            export = engine.export(tag, tmp_path / f"{tar.name}.export.tar")
        finally:
            engine.remove(tag)
        root = tmp_path / f"{tar.name}.root"
        oci.extract(image, root)
        ours = from_folder(root)
        implied = implied_folders(oci.inspect(image))
        theirs = undated(without_runtime(from_export(export), set(ours)), implied)
        ours = undated(ours, implied)
        fields = ("type", "size", "link", "group", "sha", "mode", "mtime", "uid", "gid")
        if os.geteuid() != 0:
            fields = fields[:-2]
        assert differences(without_runtime(ours, set(ours)), theirs, fields) == [], tar.name
        compared.append(tar.name)
    print(f"compared with docker export: {len(compared)}; refused by the engine: "
          f"{len(refused)} ({', '.join(refused)})")
    assert len(compared) >= 20
