"""labkit.checks: every checker says right, wrong (with a hint) or not answered; progress;
the checkers of notebooks 00, 01, 02 (02.3: test_checks_dockerfile.py) and 04, and dd.1.
Notebook 03: test_checks_runtime.py; 05: test_checks_layers.py; 06: test_checks_registry.py."""
from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from labkit import checks, hello, oci
from labkit.checks import Verdict

TINY = hello.tiny_elf(hello.DEFAULT_MESSAGE)
TAR_EMPTY = "sha256:" + hashlib.sha256(bytes(10240)).hexdigest()


#: A progress file of the test's own; the checkers judge files alone (no engine).
pytestmark = pytest.mark.usefixtures("progress_file")


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
    assert json.loads(progress_file.read_text()) == {"ids": 2, "passed": {"00.2": checks.record.passed()["00.2"]},
                                                     "unverified": {}}


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



def test_02_1_own_tiny_hello(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    assert checks.check_02_1(work / "none").passed is False
    (work / "text").write_text("hello")
    assert "not an ELF" in checks.check_02_1(work / "text").message
    hello.build("tiny", work / "default")
    assert "default message" in checks.check_02_1(work / "default").message
    hello.build("tiny", work / "mine", message=b"mine\n")
    assert checks.check_02_1(work / "mine").passed



def test_02_2_layer_floor_function():
    assert checks.check_02_2(lambda n: 512 + (n + 511) // 512 * 512 + 1024).passed
    assert checks.check_02_2(lambda n: float(512 + -(-n // 512) * 512 + 1024)).passed       # another way, a float
    assert checks.check_02_2(lambda n: np.int64(1536 + 512 * ((n + 511) >> 9))).passed     # numpy, a shift
    assert "not a number of bytes" in checks.check_02_2(lambda n: print(n)).message
    assert "over 5 seconds" in checks.check_02_2(lambda n: sum(1 for _ in iter(int, 1))).message
    assert "whole 10 KiB record" in checks.check_02_2(lambda n: 10240 * (1 + n // 9216)).message    # tar's records
    assert checks.check_02_2(lambda n: 512 + n + 1024).passed is False
    assert "512 bytes fill exactly one block" in checks.check_02_2(
        lambda n: 512 + (n // 512 + 1) * 512 + 1024).hint
    assert "raised ZeroDivisionError" in checks.check_02_2(lambda n: 1 // 0).message
    assert "function itself" in checks.check_02_2(2048).message
    # matches the bytes labkit really writes
    assert len(oci.layer_tar([oci.Entry.file("hello", bytes(150))])) == 2048



@pytest.mark.parametrize("answer, passed, says", [
    (3, True, "Three"),
    (3.0, True, "Three"),
    (2, False, "today's Docker shows: COPY and CMD"),
    (1, False, "Not even a build with today's Docker shows one row"),
    ("3", True, "Three"),                # typed as text: its meaning is plain
    ("Three", True, "Three"), ("two", False, "today's Docker shows"),
    ("3 rows", True, "Three"),
    ("2", False, "today's Docker shows"),
    (True, False, "truth value"),
    ("a few", False, "not a number"),
    (4, False, "Not 4"),
])
def test_dd_1_history_rows_of_docker_1_4(answer, passed, says):
    verdict = checks.check_dd_1(answer)
    assert verdict.passed is passed and says in verdict.message


def test_dd_1_the_answer_is_what_the_engines_show():
    from labkit import observe

    for obs in observe.recorded():
        case = obs["era-1.4"].main
        if case.ok:
            assert checks.check_dd_1(len(case.history)).passed, obs.name


def test_04_1_says_which_fields():
    assert checks.check_04_1({"mode", "uname", "gname"}).passed
    assert checks.check_04_1(["Mode", "uname", "gname", "chksum"]).passed
    assert "look at the owner" in checks.check_04_1("mode").hint
    assert "mtime is the same" in checks.check_04_1({"mtime", "mode"}).message
    assert "not a tar header field" in checks.check_04_1({"mode", "colour"}).message
    assert "gid, uid are the same" in checks.check_04_1({"mode", "uid", "gid"}).message



@pytest.mark.parametrize("exercise", sorted(checks.EXERCISES))
def test_a_wrong_kind_of_answer_is_a_verdict_not_a_traceback(exercise, progress_file, tmp_path):
    weird = (2.5, object(), [None], (None, None), {"a": 1}, b"\xff\xfe", float("nan"), -1, 10 ** 30, "",
             " ", "\x00", "é" * 300, np.int64(7), Decimal("NaN"), tmp_path, (tmp_path, "runs"), [tmp_path],
             lambda: None, False, ("x",) * 3)
    for answer in weird:
        verdict = checks.checkers()[exercise](answer)
        assert isinstance(verdict, Verdict) and verdict.passed is not True


def test_02_1_a_broken_elf_is_a_verdict(tmp_path, progress_file):
    (tmp_path / "work").mkdir()
    broken = tmp_path / "work" / "hello"
    broken.write_bytes(b"\x7fELF" + bytes(12))
    verdict = checks.check_02_1(broken)
    assert verdict.passed is False and "could not read" in verdict.message


@pytest.mark.parametrize("answer, passed", [
    ("b", True), (" B ", True), ("a", False), ("c", False), ("d", False), (2, False),
    ("b) one program and the JSON that names it", True), ("(a) a distribution", False)])
def test_00_2_least_an_image_needs(answer, passed):
    assert checks.check_00_2(answer).passed is passed



@pytest.mark.parametrize("answer, passed", [
    ({"mode", "uname", "gname"}, True), (["MODE", "uname", "gname", "chksum"], True),
    (("mode", "uname", "gname"), True), ({"mode"}, False), ({"mode", "mtime"}, False),
    ("mode", False), (42, False),
    # the words learners use: synonyms, a comma-separated string, the checksum named or not
    ("mode, uname, gname", True), ("mode uname gname", True), ({"permissions", "user name", "group name"}, True),
    ({"mode", "owner", "group", "checksum"}, True), ({"Mode", "UName", "GName"}, True),
    ({"mode", "uid", "gid"}, False), ({"mode", "uname", "gname", "owner id"}, False),
    # other tools' names: Go's archive/tar, GNU tar's listing, free text
    ("Mode, Uname, Gname", True), ("mode and owner/group", True), ("the mode and the owner names", True),
    (b"mode uname gname", True), ("mode, uname, gname, ModTime", False), ({"mode": 1, "uname": 2, "gname": 3}, True),
    ("mode; the owner name fields (so the checksum too)", True), ("Mode + Uname/Gname", True),
    ("mode, owner id", False), ("mode, colour", False),
    ([1, 2], False)])
def test_04_1_header_fields(answer, passed):
    assert checks.check_04_1(answer).passed is passed



@pytest.mark.parametrize("answer, passed", [("b)", True), ("(b)", True), ("B.", True), ("b:", True),
                                            ("a)", False), ("d", False)])
def test_00_2_takes_the_letter_however_it_is_written(answer, passed):
    assert checks.check_00_2(answer).passed is passed



def test_02_1_wants_the_tiny_hello_not_any_static_program(tmp_path):
    (tmp_path / "work").mkdir()
    if os.path.exists("/bin/busybox"):                    # Debian's busybox-static: static, not ours
        theirs = tmp_path / "work" / "busybox"
        theirs.write_bytes(open("/bin/busybox", "rb").read())
        verdict = checks.check_02_1(theirs)
        assert verdict.passed is False and "not labkit's tiny hello" in verdict.message, verdict
        assert "not under work/" in checks.check_02_1("/bin/busybox").message
    mine = hello.build("tiny", tmp_path / "work" / "mine", message=b"mine\n")
    assert checks.check_02_1(mine).passed




# --- 01: the empty image -----------------------------------------------------------------------
@pytest.mark.parametrize("answer, passed, says", [
    (True, True, "sha256 of the config"),
    (oci.Image().image_id != oci.Image(created="2015-02-10T00:00:00Z").image_id, True, "config"),
    (np.bool_(True), True, "config"), ("True", True, "config"), (" yes ", True, "config"),
    (False, False, "does change"), ("no", False, "does change"),
    ("maybe", False, "neither True nor False"), (1, False, "neither True nor False"),
    # judged by meaning: the exercise's own words, a "not" before them
    ("It would differ", True, "config"), ("the image ID stays identical", False, "does change"),
    ("it does not stay the same", True, "config"), ("Nope, same ID", False, "does change"),
    ("changes? no, the same", False, "neither True nor False"),     # both: say which
])
def test_01_1_created_is_in_the_id(answer, passed, says):
    verdict = checks.check_01_1(answer)
    assert verdict.passed is passed and says in verdict.message, verdict


@pytest.mark.parametrize("answer, passed, says", [
    (TAR_EMPTY, True, "10 KiB record"),
    (" SHA256:" + TAR_EMPTY[7:].upper() + "\n", True, "10 KiB record"),
    ("sha256: " + TAR_EMPTY[7:], True, "10 KiB record"),
    (TAR_EMPTY.encode(), True, "10 KiB record"),
    # the one the step showed, and other look-alikes
    ("sha256:" + hashlib.sha256(bytes(1024)).hexdigest(), False, "the one the step showed"),
    (TAR_EMPTY[7:], False, "names its algorithm"),
    ("sha256:" + hashlib.sha256(b"").hexdigest(), False, "zero bytes"),
    ("sha256:" + hashlib.sha256(b"0" * 10240).hexdigest(), False, "not zero bytes"),
    ("sha256:" + hashlib.sha256(bytes(20480)).hexdigest(), False, "20,480"),
    (oci.SCHEMA1_EMPTY_GZIP_DIGEST, False, "gzipped"),
    ("sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1", False, "BuildKit's gzipped"),
    ("sha512:" + hashlib.sha512(bytes(10240)).hexdigest(), False, "sha512"),
    ("Sha_256:" + TAR_EMPTY[7:], False, "it is written sha256, not sha_256"),
    ("sha256:1234", False, "not a sha256 digest"),
    (10240, False, "is a number"),
])
def test_01_2_the_tar_programs_empty_archive(answer, passed, says):
    verdict = checks.check_01_2(answer)
    assert verdict.passed is passed and says in verdict.message, verdict


def test_01_2_a_hash_object_gets_a_hint():
    verdict = checks.check_01_2(hashlib.sha256(bytes(10240)))
    assert verdict.passed is False and "hash object" in verdict.message


def test_01_2_the_answer_is_what_tar_writes(tmp_path):
    import shutil
    import subprocess
    import tarfile

    with tarfile.open(tmp_path / "py.tar", "w"):
        pass
    assert checks.check_01_2("sha256:" + hashlib.sha256((tmp_path / "py.tar").read_bytes()).hexdigest()).passed
    if shutil.which("tar"):
        subprocess.run(["tar", "-cf", str(tmp_path / "gnu.tar"), "--files-from", "/dev/null"], check=True)
        assert checks.check_01_2("sha256:" + hashlib.sha256((tmp_path / "gnu.tar").read_bytes()).hexdigest()).passed


def test_01_3_oci_layout_with_cmd(tmp_path):
    work = tmp_path / "work" / "01"
    assert "nothing at" in checks.check_01_3(work / "missing").message
    oci.Image(cmd=["/hello"]).write(work / "archive.tar")
    assert "not an OCI layout" in checks.check_01_3(work / "archive.tar").message
    oci.Image(cmd=["hello"]).write(work / "wrong-cmd", format="oci-dir")
    assert "Cmd" in checks.check_01_3(work / "wrong-cmd").message
    oci.Image(entrypoint=["/hello"]).write(work / "entry", format="oci-dir")
    assert "That is an Entrypoint" in checks.check_01_3(work / "entry").message
    oci.Image([[oci.Entry.file("x", b"x")]], cmd=["/hello"]).write(work / "layered", format="oci-dir")
    assert "1 layer" in checks.check_01_3(work / "layered").message
    for how in ({"cmd": ["/hello"]}, {"cmd": ("/hello",)}, {"cmd": ["/hello"], "created": None}):
        path = oci.Image(**how).write(work / "right", format="oci-dir")
        assert checks.check_01_3(path).passed and checks.check_01_3(str(path)).passed
    oci.Image(cmd=["/hello"]).write(tmp_path / "elsewhere", format="oci-dir")
    assert "not under work/" in checks.check_01_3(tmp_path / "elsewhere").message
    (work / "junk").write_bytes(b"not an image")
    verdict = checks.check_01_3(work / "junk")
    assert verdict.passed is False and "could not read" in verdict.message


def test_01_3_running_the_exercise_twice_works(tmp_path):
    # A learner re-runs the cell: writing the layout again replaces it, the check passes.
    for _ in range(2):
        path = oci.Image(cmd=["/hello"]).write(tmp_path / "work" / "ex3", format="oci-dir")
        assert checks.check_01_3(path).passed


# --- 04.2: what docker save writes here (the engine's own save: test_checks_runtime's engine tests)
def test_04_2_wants_the_path_and_the_format(tmp_path):
    from labkit.checks import docker_versions
    mine = oci.Image([[oci.Entry.file("hello", TINY, mode=0o755)]], cmd=["/hello"]).write(tmp_path / "work" / "m.tar")
    assert "two things" in checks.check_04_2("docker-archive").message
    assert "not one of the format names" in checks.check_04_2((mine, "zip")).message
    verdict = checks.check_04_2((mine, "docker-archive"))
    assert verdict.passed is False and "not by docker save" in verdict.message
    assert docker_versions.saved_by_docker(mine) is False
    assert docker_versions.format_name("OCI") == "oci-layout" and docker_versions.format_name("Docker") == "docker-archive"


@pytest.mark.engine
def test_04_2_judges_this_engines_own_save(engine, tmp_path, progress_file, monkeypatch):
    monkeypatch.delenv("LABKIT_CHECK_ENGINE")
    mine = oci.Image([[oci.Entry.file("hello", TINY, mode=0o755)]], cmd=["/hello"],
                     architecture=engine.facts.arch or "amd64")
    engine.load(mine.write(tmp_path / "hello.tar", tag="labkit-test-04-2:mine"))
    (tmp_path / "work" / "04").mkdir(parents=True)
    try:
        saved = engine.save("labkit-test-04-2:mine", tmp_path / "work" / "04" / "mine.tar")
    finally:
        engine.remove("labkit-test-04-2:mine")
    right = "oci-layout" if engine.facts.major >= 25 else "docker-archive"
    wrong = "docker-archive" if right == "oci-layout" else "oci-layout"
    for answer in ((saved, right), (str(saved), right.upper().replace("-", " ")), (right, saved)):
        verdict = checks.check_04_2(answer)
        assert verdict.passed, verdict
    assert checks.check_04_2((saved, wrong)).passed is False
    labkit_written = mine.write(tmp_path / "work" / "04" / "labkit.tar")
    assert "not by docker save" in checks.check_04_2((labkit_written, "docker-archive")).message


@pytest.mark.parametrize("spelling, name", [
    ("oci-layout", "oci-layout"), (" OCI-Layout ", "oci-layout"), ("OCI layout", "oci-layout"),
    ("oci_layout", "oci-layout"), ("OCI image layout", "oci-layout"), ("OCI", "oci-layout"),
    ("docker-archive", "docker-archive"), ("docker archive", "docker-archive"), ("docker_archive", "docker-archive"),
    ("docker save format", "docker-archive"), ("docker-v1", "docker-v1"), ("tar", None), ("", None),
    ("the OCI image-layout spec", "oci-layout"), ("Moby's save format v1.2", "docker-archive"),
    ("docker 1.9 legacy", "docker-v1"), ("oci or docker", None)])
def test_04_2_format_spellings(spelling, name):
    from labkit.checks.docker_versions import format_name
    assert format_name(spelling) == name


# --- numbers of any type, text of any kind -------------------------------------------------------
@pytest.mark.parametrize("value, number", [
    (3, 3), (np.int64(3), 3), (np.uint8(3), 3), (3.0, 3), (np.float32(3.0), 3), (Decimal("3"), 3),
    (Decimal("3.00"), 3), (Fraction(6, 2), 3), ("3", 3), (" 1,066,258 ", 1066258), ("1_024 B", 1024),
    ("2048 bytes", 2048), (2.5, 2.5)])
def test_numbers_of_every_type(value, number):
    from labkit.checks.verdict import number_answer
    got, failed = number_answer("dd.1", value, "a number")
    assert failed is None and got == number and type(got) is type(number)


@pytest.mark.parametrize("value", [True, np.bool_(False), None, [3], "lots", float("nan"), float("inf"), 1 + 2j,
                                   object()])
def test_what_is_not_a_number_is_one_line(value):
    from labkit.checks.verdict import number_answer
    got, failed = number_answer("dd.1", value, "a number")
    assert got is None and failed.passed is False and "\n" not in str(failed)
