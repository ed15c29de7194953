"""labkit.checks, notebook 05: a shell from scratch (05.1), deleting busybox and saying what
sh then does (05.2), a whiteout's name (05.3), an opaque whiteout (05.4). The engine tests
assert that the checkers' verdicts are what `docker run` and `docker export` show."""
from __future__ import annotations

import posixpath
import re
import tarfile

import pytest

from labkit import checks, hello, oci

TINY = hello.tiny_elf(hello.DEFAULT_MESSAGE)


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LABKIT_PROGRESS", str(path))
    monkeypatch.setenv("LABKIT_CHECK_ENGINE", "0")
    return path


@pytest.fixture
def work(tmp_path):
    folder = tmp_path / "work" / "05"
    folder.mkdir(parents=True)
    return folder


def _busybox_layer(target="busybox"):
    return [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755),
            oci.Entry.symlink("bin/sh", target)]


def test_05_1_shell_image(work):
    oci.Image([[oci.Entry.file("bin/sh", b"x")]]).write(work / "nobusybox.tar")
    assert "no /bin/busybox" in checks.check_05_1(work / "nobusybox.tar").message
    oci.Image([_busybox_layer()[:2]]).write(work / "nosh.tar")
    assert "not a link" in checks.check_05_1(work / "nosh.tar").message
    oci.Image([_busybox_layer("dash")]).write(work / "dash.tar")
    assert "not /bin/busybox" in checks.check_05_1(work / "dash.tar").message
    oci.Image([_busybox_layer()]).write(work / "good.tar")
    assert checks.check_05_1(work / "good.tar").passed


@pytest.mark.parametrize("busybox, says", [
    (oci.Entry.file("bin/busybox", TINY, mode=0o644), "permission denied"),
    (oci.Entry.file("bin/busybox", b"#!", mode=0o755), "too small for a program"),
])
def test_05_1_wants_a_program_that_can_run(work, busybox, says):
    verdict = checks.check_05_1(oci.Image([[busybox, oci.Entry.symlink("bin/sh", "busybox")]]).write(work / "b.tar"))
    assert verdict.passed is False and says in verdict.message, verdict


@pytest.mark.parametrize("sh, passed, says", [
    (oci.Entry.symlink("bin/sh", "busybox"), True, "One program"),
    (oci.Entry.symlink("bin/sh", "/bin/busybox"), True, "One program"),
    (oci.Entry.hardlink("bin/sh", "bin/busybox"), True, "One program"),
    (oci.Entry.symlink("bin/sh", "/usr/bin/busybox"), False, "/usr/bin/busybox, not /bin/busybox"),
    (oci.Entry.symlink("bin/sh", "../busybox"), False, "/busybox, not /bin/busybox"),
    (oci.Entry.file("bin/sh", b"#!"), False, "not a link"),
])
def test_05_1_follows_the_link_as_the_kernel_would(work, sh, passed, says):
    layer = [oci.Entry.file("bin/busybox", TINY, mode=0o755), sh]
    verdict = checks.check_05_1(oci.Image([layer]).write(work / "bb.tar"))
    assert verdict.passed is passed and says in verdict.message, verdict


def test_05_1_wants_one_layer(work):
    layers = [[oci.Entry.file("bin/busybox", TINY, mode=0o755)], [oci.Entry.symlink("bin/sh", "busybox")]]
    verdict = checks.check_05_1(oci.Image(layers).write(work / "two.tar"))
    assert verdict.passed is False and "2 layers" in verdict.message


def test_05_1_not_the_notebooks_own_layer(work, tmp_path):
    from labkit.scenarios import busybox_layer
    tiny = hello.build("tiny", tmp_path / "busybox")
    verdict = checks.check_05_1(oci.Image([busybox_layer(tiny)]).write(work / "theirs.tar"))
    assert verdict.passed is False and "notebook's own busybox layer" in verdict.message
    elsewhere = oci.Image([_busybox_layer()]).write(tmp_path / "mine.tar")
    assert "not under work/" in checks.check_05_1(elsewhere).message


# --- 05.2: delete busybox in a second layer, and predict what sh does -------------------------
def _two_layers(work, sh, name="deleted", extra=()):
    base = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755), sh]
    upper = [oci.Entry.whiteout("bin/busybox"), *extra]
    return oci.Image([base, upper], cmd=["/bin/sh"]).write(work / f"{name}.tar")


SYMBOLIC = oci.Entry.symlink("bin/sh", "busybox")
HARD = oci.Entry.hardlink("bin/sh", "bin/busybox")


@pytest.mark.parametrize("sh, said, passed, says", [
    (SYMBOLIC, "fails", True, "symbolic link to busybox, which is not there"),
    (SYMBOLIC, "It fails: sh: not found", True, "not there"),
    (SYMBOLIC, "won't run", True, "not there"),
    (SYMBOLIC, "runs", False, "you predicted it runs"),
    (SYMBOLIC, "still works", False, "you predicted it runs"),
    (HARD, "runs", True, "hard link"),
    (HARD, "It still runs!", True, "hard link"),
    (HARD, "fails", False, "you predicted it fails"),
    (oci.Entry.symlink("bin/sh", "/bin/busybox"), "FAILS", True, "not there"),
])
def test_05_2_judges_the_image_and_the_prediction(work, sh, said, passed, says):
    path = _two_layers(work, sh)
    for answer in ((path, said), [str(path), said], (said, path)):
        verdict = checks.check_05_2(answer)
        assert verdict.passed is passed and says in verdict.message, verdict


def test_05_2_what_it_needs(work, tmp_path):
    path = _two_layers(work, SYMBOLIC)
    assert "two things" in checks.check_05_2(path).message
    assert "say whether" in checks.check_05_2((path, "maybe")).message
    assert "runs\" or \"fails" in checks.check_05_2((path, 3)).message
    base = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755), SYMBOLIC]
    oci.Image([base]).write(work / "one.tar")
    assert "1 layer" in checks.check_05_2((work / "one.tar", "fails")).message
    oci.Image([base, [oci.Entry.whiteout("bin/sh")]]).write(work / "wrong.tar")
    assert "does not delete /bin/busybox" in checks.check_05_2((work / "wrong.tar", "fails")).message
    elsewhere = oci.Image([base, [oci.Entry.whiteout("bin/busybox")]]).write(tmp_path / "x.tar")
    assert "not under work/" in checks.check_05_2((elsewhere, "fails")).message
    verdict = checks.check_05_2((path, "fails"))
    assert verdict.passed and "never shrinks" in verdict.message


def test_05_2_sh_deleted_too_fails(work):
    path = _two_layers(work, HARD, extra=[oci.Entry.whiteout("bin/sh")])
    verdict = checks.check_05_2((path, "fails"))
    assert verdict.passed and "no /bin/sh" in verdict.message, verdict


@pytest.mark.parametrize("text, word", [
    ("runs", "runs"), ("it runs", "runs"), ("Works fine", "runs"), ("still starts", "runs"),
    ("fails", "fails"), ("error: not found", "fails"), ("it doesn't run", "fails"), ("crashes", "fails"),
    ("No such file or directory", "fails"), ("hmm", None), ("", None)])
def test_05_2_reads_a_prediction(text, word):
    from labkit.checks.whiteouts import prediction
    assert prediction(text) == word


@pytest.mark.parametrize("answer, passed", [
    ("etc/.wh.motd", True), ("/etc/.wh.motd", True), ("./etc/.wh.motd", True), (" 'etc/.wh.motd' ", True),
    (b"etc/.wh.motd", True), (".wh.motd", False), ("etc/.wh..wh..opq", False), ("etc/motd", False),
    ("etc/.WH.motd", False), ("etc/wh.motd", False), ("etc/.wh.MOTD", False), (42, False)])
def test_05_3_whiteout_name(answer, passed):
    assert checks.check_05_3(answer).passed is passed


# --- 05.4: an opaque whiteout ------------------------------------------------------------------
LOWER = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755), oci.Entry.dir("data"),
         oci.Entry.file("data/old.txt", b"old\n"), oci.Entry.file("data/notes.txt", b"notes\n"),
         oci.Entry.dir("data/sub"), oci.Entry.file("data/sub/deep.txt", b"deep\n")]
NEW = oci.Entry.file("data/new.txt", b"new\n")

#: (name, second layer, passes, words in the verdict); whether each merged view is what
#: `docker export` shows is checked on the engine in test_05_4_agrees_with_docker_export.
OPAQUES = [
    ("opaque", [oci.Entry.opaque("data"), NEW], True, "hid all 4"),
    ("opaque after the file", [NEW, oci.Entry.opaque("data")], True, "only new.txt"),
    ("opaque with its folder", [oci.Entry.dir("data"), oci.Entry.opaque("data"), NEW], True, "only new.txt"),
    ("per-file whiteouts", [oci.Entry.whiteout("data/old.txt"), oci.Entry.whiteout("data/notes.txt"),
                            oci.Entry.whiteout("data/sub"), NEW], False, "Right view, but not an opaque whiteout"),
    ("the folder whited out", [oci.Entry.whiteout("data"), NEW], False, "whole folder (.wh.data)"),
    ("opaque, no new file", [oci.Entry.opaque("data")], False, "holds nothing"),
    ("opaque and an extra file", [oci.Entry.opaque("data"), NEW, oci.Entry.file("data/x", b"x")], False,
     "holds new.txt, x"),
    ("opaque at the root", [oci.Entry.file(".wh..wh..opq", b""), NEW], False, "not in /data"),
    ("a misspelt marker", [oci.Entry.file("data/.wh.opq", b""), NEW], False, "is not the marker"),
    ("only a new file", [NEW], False, "holds new.txt, notes.txt"),
]


@pytest.mark.parametrize("name, upper, passed, says", OPAQUES, ids=[o[0] for o in OPAQUES])
def test_05_4_opaque_whiteout(work, name, upper, passed, says):
    path = oci.Image([LOWER, upper], cmd=["/bin/busybox", "ls", "/data"]).write(work / "opaque.tar")
    verdict = checks.check_05_4(path)
    assert verdict.passed is passed and says in verdict.message, verdict


def test_05_4_needs_two_layers_with_something_to_replace(work):
    oci.Image([LOWER]).write(work / "one.tar")
    assert "1 layer" in checks.check_05_4(work / "one.tar").message
    oci.Image([[oci.Entry.file("x", b"x")], [oci.Entry.opaque("data"), NEW]]).write(work / "empty.tar")
    assert "nothing in /data" in checks.check_05_4(work / "empty.tar").message
