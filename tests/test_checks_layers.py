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
#: A program the rules take for busybox (it says so, as busybox does): for tests that run nothing.
BUSYBOX = TINY + b"\0BusyBox v9.9 (labkit test)\0"


#: A progress file of the test's own; the checkers judge files alone (no engine).
pytestmark = pytest.mark.usefixtures("progress_file")


@pytest.fixture
def work(tmp_path):
    folder = tmp_path / "work" / "05"
    folder.mkdir(parents=True)
    return folder


def _busybox_layer(target="busybox"):
    return [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", BUSYBOX, mode=0o755),
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
    (oci.Entry.file("bin/busybox", BUSYBOX, mode=0o644), "permission denied"),
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
    layer = [oci.Entry.file("bin/busybox", BUSYBOX, mode=0o755), sh]
    verdict = checks.check_05_1(oci.Image([layer]).write(work / "bb.tar"))
    assert verdict.passed is passed and says in verdict.message, verdict


def test_05_1_wants_busybox_itself(work):
    layer = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755), oci.Entry.symlink("bin/sh", "busybox")]
    verdict = checks.check_05_1(oci.Image([layer]).write(work / "hello.tar"))
    assert verdict.passed is False and "not busybox" in verdict.message, verdict


def test_05_1_merged_usr_and_a_stand_in(work, tmp_path):
    usr = [oci.Entry.symlink("bin", "usr/bin"), oci.Entry.dir("usr"), oci.Entry.dir("usr/bin"),
           oci.Entry.file("usr/bin/busybox", BUSYBOX, mode=0o755), oci.Entry.symlink("usr/bin/sh", "busybox")]
    verdict = checks.check_05_1(oci.Image([usr]).write(work / "usr.tar"))
    assert verdict.passed and "/usr/bin/busybox" in verdict.message, verdict
    from labkit import machine
    stand_in = machine.Busybox(None, "x86_64", "none here").stand_in(tmp_path)
    layer = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", source=stand_in, mode=0o755),
             oci.Entry.symlink("bin/sh", "busybox")]
    verdict = checks.check_05_1(oci.Image([layer]).write(work / "stand-in.tar"))
    assert verdict.unverified and "stand-in" in verdict.message, verdict


def test_05_1_wants_one_layer(work):
    layers = [[oci.Entry.file("bin/busybox", BUSYBOX, mode=0o755)], [oci.Entry.symlink("bin/sh", "busybox")]]
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
    ("the folder whited out", [oci.Entry.whiteout("data"), NEW], False, "open /data/new.txt: not a directory"),
    ("opaque, no new file", [oci.Entry.opaque("data")], False, "holds nothing"),
    ("opaque and an extra file", [oci.Entry.opaque("data"), NEW, oci.Entry.file("data/x", b"x")], False,
     "holds new.txt, x"),
    ("opaque at the root", [oci.Entry.file(".wh..wh..opq", b""), NEW], False, "for the folder /, not for /data"),
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


# --- on the engine: what sh really does, what /data really holds ---------------------------------
def _real_busybox() -> bytes:
    from labkit import machine
    found = machine.busybox("x86_64")
    if found.path is None:
        from conftest import need
        need("tools", f"a static busybox: {found.reason}")
    return found.path.read_bytes()


@pytest.mark.engine
@pytest.mark.parametrize("sh, also_deleted", [
    (SYMBOLIC, ()), (HARD, ()), (oci.Entry.symlink("bin/sh", "/bin/busybox"), ()), (HARD, ("bin/sh",))])
def test_05_2_agrees_with_the_engine(engine, work, monkeypatch, sh, also_deleted):
    if engine.facts.arch != "amd64":
        pytest.skip("the busybox here is the x86_64 one")
    base = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", _real_busybox(), mode=0o755), sh]
    upper = [oci.Entry.whiteout(p) for p in ("bin/busybox", *also_deleted)]
    path = oci.Image([base, upper], cmd=["/bin/sh"]).write(work / "deleted.tar", tag="labkit-test-05-2:x")
    engine.load(path)
    try:
        run = engine.docker(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", "labkit-test-05-2:x",
                             "-c", "echo ok"])
    finally:
        engine.remove("labkit-test-05-2:x")
    really = "runs" if run.exit_code == 0 and run.output.strip() == "ok" else "fails"
    assert checks.check_05_2((path, really)).passed, "the rules disagree with docker run"
    monkeypatch.delenv("LABKIT_CHECK_ENGINE")
    verdict = checks.check_05_2((path, really))
    assert verdict.passed and "on the engine" in verdict.message, verdict


@pytest.mark.engine
def test_05_4_agrees_with_docker_export(engine, work, tmp_path):
    """The merged /data the checker judges is what a container of the image sees."""
    from labkit.checks.whiteouts import _data_view
    from labkit.errors import LabkitError
    for name, upper, _, _ in OPAQUES:
        path = oci.Image([LOWER, upper], cmd=["/bin/busybox"]).write(work / "opaque.tar", tag="labkit-test-05-4:x")
        try:
            engine.load(path)
        except LabkitError as err:                  # the engine refuses the layer: so does the checker
            assert "not a directory" in str(err) and "not a directory" in checks.check_05_4(path).message, name
            continue
        try:
            exported = engine.export("labkit-test-05-4:x", tmp_path / "export.tar")
        finally:
            engine.remove("labkit-test-05-4:x")
        with tarfile.open(exported) as tar:
            seen = sorted(posixpath.normpath(m.name) for m in tar.getmembers()
                          if posixpath.normpath(m.name).startswith("data/"))
        assert seen == _data_view(oci.inspect(path)), name


def _all_images(engine) -> set[str]:
    return {image["Id"] for image in engine.api.images(all=True)}


@pytest.mark.engine
@pytest.mark.parametrize("tag", [None, "labkit-test-05-1:tagged"])
def test_05_1_on_the_engine_leaves_no_image_behind(engine, work, monkeypatch, tag):
    """The checker removes what it loaded by name only: an untagged answer gets a name of
    the check's own first (else it stayed as a dangling image, one per check)."""
    if engine.facts.arch != "amd64":
        pytest.skip("the busybox here is the x86_64 one")
    layer = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", _real_busybox(), mode=0o755),
             oci.Entry.symlink("bin/sh", "busybox"), oci.Entry.file("labkit-test", tag.encode() if tag else b"")]
    path = oci.Image([layer], cmd=["/bin/sh"]).write(work / "shell.tar", tag=tag)
    monkeypatch.delenv("LABKIT_CHECK_ENGINE")
    before = _all_images(engine)
    verdict = checks.check_05_1(path)
    assert verdict.passed and "busybox reads argv[0]" in verdict.message, verdict
    assert _all_images(engine) == before
