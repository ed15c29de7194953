"""labkit.oci.tarfields: every byte of a layer tar named, one header field by field."""
from __future__ import annotations

import doctest
import io
import tarfile

import pytest

from labkit.bytefields import totals
from labkit.errors import LabkitError
from labkit.oci import Entry, layer_tar, one_file_layer_size, tar_fields, tarfields


def test_doctests():
    assert doctest.testmod(tarfields).failed == 0


@pytest.mark.parametrize("n", [0, 1, 170, 511, 512, 513, 13376])
def test_one_file_layer_adds_up_to_the_floor(n):
    layer = layer_tar([Entry.file("hello", b"x" * n)])
    parts = dict(totals(tar_fields(layer)))
    assert sum(parts.values()) == len(layer) == one_file_layer_size(n)
    assert parts["tar header"] == 512 and parts["end of archive"] == 1024
    assert parts.get("padding", 0) == -n % 512 and parts.get("content", 0) == n


def test_the_header_fields_sit_where_ustar_puts_them():
    fields = {f.name: f for f in tar_fields(layer_tar([Entry.file("hello", b"hi", mode=0o755)]))}
    assert (fields["mode"].offset, fields["mode"].raw) == (100, b"0000755\0")
    assert (fields["size"].offset, fields["size"].raw) == (124, b"00000000002\0")
    assert (fields["magic"].offset, fields["magic"].raw) == (257, b"ustar\0")
    assert fields["typeflag"].meaning.startswith('"0": a regular file')
    assert "rwxr-xr-x" in fields["mode"].meaning
    assert fields["uname"].meaning.startswith("empty")


def test_the_20_10_header_says_type_bits_and_root():
    fields = {f.name: f for f in tar_fields(layer_tar([Entry.file("hello", b"hi")], era="20.10"))}
    assert "file-type bits 100000" in fields["mode"].meaning
    assert fields["uname"].meaning.startswith('"root"')


def test_a_member_in_the_middle_names_what_comes_before_and_after():
    layer = layer_tar([Entry.dir("etc"), Entry.file("etc/passwd", b"root\n"), Entry.file("hello", b"hi")])
    parts = totals(tar_fields(layer, "etc/passwd"))
    assert [p for p, _ in parts] == ["other members", "tar header", "content", "padding", "other members",
                                     "end of archive"]
    assert [p for p, _ in totals(tar_fields(layer, "etc/"))] == ["tar header", "other members", "end of archive"]


def test_python_tarfile_record_padding_is_named_too():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("a")
        tar.addfile(info, io.BytesIO(b""))
    fields = tar_fields(buf.getvalue())
    assert fields[-1].size == 10240 - 512 and "the rest pads it" in fields[-1].meaning


def test_no_such_member_and_not_a_tar_are_one_line_errors(tmp_path):
    with pytest.raises(LabkitError, match="no member 'nope'"):
        tar_fields(layer_tar([Entry.file("hello", b"hi")]), "nope")
    with pytest.raises(LabkitError, match="cannot read"):
        tar_fields(tmp_path / "missing.tar")
    with pytest.raises(LabkitError):
        tar_fields(b"not a tar" * 100)
