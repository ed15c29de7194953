"""labkit.checks: every checker says right, wrong (with a hint) or not answered; progress."""
from __future__ import annotations

import hashlib
import json

import pytest

from labkit import checks, hello, oci
from labkit.checks import Verdict


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LABKIT_PROGRESS", str(path))
    return path


def test_every_exercise_has_a_checker_and_none_means_unanswered():
    for exercise, checker in checks.checkers().items():
        verdict = checker(None)
        assert isinstance(verdict, Verdict)
        assert verdict.passed is None and verdict.exercise == exercise
        assert "Not answered yet" in str(verdict)


def test_verdict_renders_as_text_and_html():
    verdict = Verdict("01.2", False, "Not that.", "try again")
    assert str(verdict) == "✘ 01.2 Not that.\n  hint: try again"
    assert "<b>Hint:</b> try again" in verdict._repr_html_()


def test_passing_is_remembered_and_shown(progress_file):
    assert checks.check_00_2("b").passed
    assert "00.2" in json.loads(progress_file.read_text())["passed"]
    text = str(checks.progress())
    assert f"1 of {len(checks.EXERCISES)} exercises passed" in text
    assert "open" in text


def test_failing_is_not_remembered(progress_file):
    assert checks.check_00_2("a").passed is False
    assert not progress_file.exists()


def test_corrupt_progress_file_is_replaced(progress_file):
    progress_file.write_text("{not json")
    assert "0 of" in str(checks.progress())
    assert checks.check_00_2("b").passed
    assert json.loads(progress_file.read_text()) == {"passed": {"00.2": checks.record.passed()["00.2"]}}


def test_unwritable_progress_never_breaks_a_check(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("a file where a folder should be")
    monkeypatch.setenv("LABKIT_PROGRESS", str(tmp_path / "file" / "progress.json"))
    assert checks.check_00_2("b").passed
    assert "0 of" in str(checks.progress())


def test_progress_file_defaults_to_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.delenv("LABKIT_PROGRESS")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert checks.progress_file() == tmp_path / "labkit" / "progress.json"


def test_00_1_compares_with_the_actual_mode(monkeypatch):
    import labkit

    monkeypatch.setattr(labkit.machine, "mode", lambda: "offline")
    assert checks.check_00_1(" Offline ").passed
    verdict = checks.check_00_1("live")
    assert verdict.passed is False and "Mode:" in verdict.hint


def test_01_1_oci_layout_with_cmd(tmp_path):
    assert "nothing at" in checks.check_01_1(tmp_path / "missing").message
    oci.Image(cmd=["/hello"]).write(tmp_path / "archive.tar")
    assert "not an OCI layout" in checks.check_01_1(tmp_path / "archive.tar").message
    oci.Image(cmd=["hello"]).write(tmp_path / "wrong-cmd", format="oci-dir")
    assert "Cmd" in checks.check_01_1(tmp_path / "wrong-cmd").message
    oci.Image([[oci.Entry.file("x", b"x")]], cmd=["/hello"]).write(tmp_path / "layered", format="oci-dir")
    assert "1 layer" in checks.check_01_1(tmp_path / "layered").message
    oci.Image(cmd=["/hello"]).write(tmp_path / "right", format="oci-dir")
    assert checks.check_01_1(tmp_path / "right").passed
    (tmp_path / "junk").write_bytes(b"not an image")
    verdict = checks.check_01_1(tmp_path / "junk")
    assert verdict.passed is False and "could not read" in verdict.message


@pytest.mark.parametrize("answer, passed, says", [
    ("sha256:" + hashlib.sha256(bytes(1024)).hexdigest(), True, "two end-of-archive blocks"),
    (" SHA256:" + hashlib.sha256(bytes(1024)).hexdigest().upper() + " ", True, "two end-of-archive blocks"),
    ("sha256:" + hashlib.sha256(bytes(10240)).hexdigest(), True, "GNU tar"),   # an empty tar too
    (hashlib.sha256(bytes(1024)).hexdigest(), False, "names its algorithm"),
    ("sha256:" + hashlib.sha256(b"").hexdigest(), False, "zero bytes"),
    (oci.SCHEMA1_EMPTY_GZIP_DIGEST, False, "gzipped"),
    ("sha256:1234", False, "not the digest"),
    (1024, False, "not the digest"),
])
def test_01_2_empty_layer_digest(answer, passed, says):
    verdict = checks.check_01_2(answer)
    assert verdict.passed is passed and says in verdict.message


@pytest.mark.parametrize("answer, passed, says", [
    (True, True, "sha256 of the config"),
    (oci.Image().image_id != oci.Image(created="2015-02-10T00:00:00Z").image_id, True, "config"),
    (False, False, "does change"),
    ("True", False, "truth value"),      # a string: say what kind of answer is wanted
    ("yes", False, "truth value"),
    (1, False, "neither True nor False"),
])
def test_01_3_created_is_in_the_id(answer, passed, says):
    verdict = checks.check_01_3(answer)
    assert verdict.passed is passed and says in verdict.message


def test_02_1_own_tiny_hello(tmp_path):
    assert checks.check_02_1(tmp_path / "none").passed is False
    (tmp_path / "text").write_text("hello")
    assert "not an ELF" in checks.check_02_1(tmp_path / "text").message
    hello.build("tiny", tmp_path / "default")
    assert "default message" in checks.check_02_1(tmp_path / "default").message
    hello.build("tiny", tmp_path / "mine", message=b"mine\n")
    assert checks.check_02_1(tmp_path / "mine").passed


@pytest.mark.parametrize("answer, passed, says", [
    ("/lib64/ld-linux-x86-64.so.2", True, "PT_INTERP"),
    ("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", True, "PT_INTERP"),
    ("  /lib64/ld-linux-x86-64.so.2\n", True, "PT_INTERP"),
    ("ld-linux-x86-64.so.2", False, "full path"),
    ("libc.so.6", False, "libc is missing too"),
    ("/lib/ld-musl-x86_64.so.1", False, "musl"),
    ("/bin/sh", False, "not what the dynamic hello asks for"),
])
def test_02_2_interpreter(answer, passed, says):
    verdict = checks.check_02_2(answer)
    assert verdict.passed is passed and says in verdict.message


def test_02_2_accepts_this_machines_own_loader(monkeypatch):
    import platform

    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert checks.check_02_2("/lib/ld-linux-aarch64.so.1").passed
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    verdict = checks.check_02_2("/lib/ld-linux-aarch64.so.1")
    assert verdict.passed is False and "another processor" in verdict.message


def test_02_3_layer_floor_function():
    assert checks.check_02_3(lambda n: 512 + (n + 511) // 512 * 512 + 1024).passed
    assert checks.check_02_3(lambda n: 512 + n + 1024).passed is False
    assert "512 bytes fill exactly one block" in checks.check_02_3(
        lambda n: 512 + (n // 512 + 1) * 512 + 1024).hint
    assert "raised ZeroDivisionError" in checks.check_02_3(lambda n: 1 // 0).message
    assert "function itself" in checks.check_02_3(2048).message
    # matches the bytes labkit really writes
    assert len(oci.layer_tar([oci.Entry.file("hello", bytes(150))])) == 2048


GOOD_DOCKERFILE = """
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y gcc libc6-dev
COPY hello.c .
RUN gcc -static -Os -o /hello hello.c
FROM scratch
COPY --from=build /hello /hello
ENTRYPOINT ["/hello"]
"""

#: Every valid way the lesson accepts.
GOOD_VARIANTS = {
    "canonical": GOOD_DOCKERFILE,
    "copy --link, CMD": GOOD_DOCKERFILE.replace("COPY --from=build", "COPY --link --from=build")
                                       .replace("ENTRYPOINT", "CMD"),
    "flags after --from": GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello",
                                                  "COPY --from=build --chmod=755 /hello /hello"),
    "gcc image": 'FROM gcc:13 AS build\nCOPY hello.c .\nRUN gcc -static -o /hello hello.c\n'
                 'FROM scratch\nCOPY --from=build /hello /\nCMD ["/hello"]\n',
    "musl": 'FROM debian:bookworm AS build\nRUN apt-get update && \\\n    apt-get install -y musl-tools\n'
            'COPY hello.c /src/\nRUN musl-gcc -static -Os -s -o /hello /src/hello.c\n'
            'FROM scratch\nCOPY --from=build /hello /hello\nENTRYPOINT ["/hello"]\n',
    "by index": GOOD_DOCKERFILE.replace(" AS build", "").replace("--from=build", "--from=0"),
    "alpine": 'FROM alpine:3.20 AS build\nRUN apk add --no-cache gcc musl-dev\nCOPY hello.c .\n'
              'RUN gcc -static -o /hello hello.c\nFROM scratch\nCOPY --from=build /hello /hello\n'
              'ENTRYPOINT ["/hello"]\n',
    "comments": "# build it\n" + GOOD_DOCKERFILE.replace("FROM scratch", "# ship it\nfrom scratch"),
}


@pytest.mark.parametrize("name", sorted(GOOD_VARIANTS))
def test_02_4_accepts_every_valid_variant(name):
    verdict = checks.check_02_4(GOOD_VARIANTS[name])
    assert verdict.passed, f"{name}: {verdict}"


@pytest.mark.parametrize("dockerfile, says", [
    ("FROM scratch\nCOPY hello /hello\n", "FROM line"),
    (GOOD_DOCKERFILE.replace("FROM scratch", "FROM debian"), "not FROM scratch"),
    (GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello", "COPY hello /hello"), "never copies"),
    (GOOD_DOCKERFILE.replace("--from=build", "--from=compile"), "never copies"),
    # the reasons the lesson teaches: a dynamic program, a stage without a compiler
    (GOOD_DOCKERFILE.replace("-static ", ""), "linked dynamically"),
    (GOOD_DOCKERFILE.replace("RUN apt-get update && apt-get install -y gcc libc6-dev\n", ""), "no C compiler"),
    (GOOD_DOCKERFILE.replace("RUN gcc -static -Os -o /hello hello.c\n", ""), "never compiles"),
    (GOOD_DOCKERFILE.replace("COPY hello.c .\n", ""), "never gets hello.c"),
    (GOOD_DOCKERFILE.replace('ENTRYPOINT ["/hello"]', ""), "no command"),
    (GOOD_DOCKERFILE.replace('ENTRYPOINT ["/hello"]', "CMD /hello"), "shell form"),
    (GOOD_DOCKERFILE.replace('ENTRYPOINT', 'RUN ls\nENTRYPOINT'), "RUN in the scratch stage"),
    (["FROM scratch"], "as a string"),
])
def test_02_4_rejects_what_would_not_work(dockerfile, says):
    verdict = checks.check_02_4(dockerfile)
    assert verdict.passed is False and says in verdict.message


@pytest.mark.parametrize("answer, passed, says", [
    (3, True, "Three"),
    (3.0, True, "Three"),
    (2, False, "today's Docker shows: COPY and CMD"),
    (1, False, "Not even a build with today's Docker shows one row"),
    ("3", False, "is a number"),
    ("2", False, "is a number"),
    (True, False, "not a number"),
    (4, False, "Not 4"),
])
def test_03_1_history_rows_of_docker_1_4(answer, passed, says):
    verdict = checks.check_03_1(answer)
    assert verdict.passed is passed and says in verdict.message


def test_03_1_the_answer_is_what_the_engines_show():
    from labkit import observe

    for obs in observe.recorded():
        case = obs["era-1.4"].main
        if case.ok:
            assert checks.check_03_1(len(case.history)).passed, obs.name


def test_03_exercises():
    assert checks.check_03_2({"mode", "uname", "gname"}).passed
    assert checks.check_03_2(["Mode", "uname", "gname", "chksum"]).passed
    assert "look at the owner" in checks.check_03_2("mode").hint
    assert "mtime is the same" in checks.check_03_2({"mtime", "mode"}).message
    assert checks.check_03_3("oci-layout").passed
    assert "20.10" in checks.check_03_3("docker-archive").message


def _busybox_layer(target="busybox"):
    return [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", b"\x7fELF pretend", mode=0o755),
            oci.Entry.symlink("bin/sh", target)]


def test_04_1_shell_image(tmp_path):
    oci.Image([[oci.Entry.file("bin/sh", b"x")]]).write(tmp_path / "nobusybox.tar")
    assert "no /bin/busybox" in checks.check_04_1(tmp_path / "nobusybox.tar").message
    oci.Image([_busybox_layer()[:2]]).write(tmp_path / "nosh.tar")
    assert "not a link" in checks.check_04_1(tmp_path / "nosh.tar").message
    oci.Image([_busybox_layer("dash")]).write(tmp_path / "dash.tar")
    assert "not to busybox" in checks.check_04_1(tmp_path / "dash.tar").message
    oci.Image([_busybox_layer()]).write(tmp_path / "good.tar")
    assert checks.check_04_1(tmp_path / "good.tar").passed


def test_04_2_whiteout_layer(tmp_path):
    base = _busybox_layer()
    oci.Image([base]).write(tmp_path / "one.tar")
    assert "1 layer" in checks.check_04_2(tmp_path / "one.tar").message
    oci.Image([base, [oci.Entry.whiteout("bin/sh")]]).write(tmp_path / "wrong.tar")
    assert "does not delete /bin/busybox" in checks.check_04_2(tmp_path / "wrong.tar").message
    oci.Image([base, [oci.Entry.whiteout("bin/busybox")]]).write(tmp_path / "good.tar")
    verdict = checks.check_04_2(tmp_path / "good.tar")
    assert verdict.passed and "never shrinks" in verdict.message


@pytest.mark.parametrize("answer, passed", [
    ("etc/.wh.motd", True), ("/etc/.wh.motd", True), ("./etc/.wh.motd", True),
    (".wh.motd", False), ("etc/.wh..wh..opq", False), ("etc/motd", False),
])
def test_04_3_whiteout_name(answer, passed):
    assert checks.check_04_3(answer).passed is passed


@pytest.mark.parametrize("exercise", sorted(checks.EXERCISES))
def test_a_wrong_kind_of_answer_is_a_verdict_not_a_traceback(exercise, progress_file):
    for answer in (2.5, object(), [None]):
        verdict = checks.checkers()[exercise](answer)
        assert isinstance(verdict, Verdict) and verdict.passed is not True


def test_02_1_a_broken_elf_is_a_verdict(tmp_path, progress_file):
    broken = tmp_path / "hello"
    broken.write_bytes(b"\x7fELF" + bytes(12))
    verdict = checks.check_02_1(broken)
    assert verdict.passed is False and "could not read" in verdict.message


@pytest.mark.parametrize("answer, passed", [
    ("b", True), (" B ", True), ("a", False), ("c", False), ("d", False), (2, False)])
def test_00_2_least_an_image_needs(answer, passed):
    assert checks.check_00_2(answer).passed is passed


@pytest.mark.parametrize("answer, passed", [
    ({"mode", "uname", "gname"}, True), (["MODE", "uname", "gname", "chksum"], True),
    (("mode", "uname", "gname"), True), ({"mode"}, False), ({"mode", "mtime"}, False),
    ("mode", False), (42, False)])
def test_03_2_header_fields(answer, passed):
    assert checks.check_03_2(answer).passed is passed


@pytest.mark.parametrize("answer, passed", [
    ("oci-layout", True), (" OCI-Layout ", True), ("docker-archive", False), ("docker-v1", False),
    ("oci", False), (25, False)])
def test_03_3_save_format(answer, passed):
    assert checks.check_03_3(answer).passed is passed


def test_01_1_running_the_exercise_twice_works(tmp_path):
    # A learner re-runs the cell: writing the layout again replaces it, the check passes.
    for _ in range(2):
        path = oci.Image(cmd=["/hello"]).write(tmp_path / "ex1", format="oci-dir")
        assert checks.check_01_1(path).passed
    assert checks.check_01_1(str(path)).passed
