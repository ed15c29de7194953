"""labkit.checks: every checker says right, wrong (with a hint) or not answered; progress."""
from __future__ import annotations

import hashlib
import json
import os
import re

import pytest

from labkit import checks, hello, oci
from labkit.checks import Verdict

TINY = hello.tiny_elf(hello.DEFAULT_MESSAGE)


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
    ("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", False, "exactly the path the program names"),
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
COPY hello.c message.h ./
RUN gcc -static -Os -o /hello hello.c
FROM scratch
COPY --from=build /hello /hello
ENTRYPOINT ["/hello"]
"""

#: Every valid way the lesson accepts.
GOOD_VARIANTS = {
    "canonical": GOOD_DOCKERFILE,
    "the lesson's": hello.MULTI_STAGE_DOCKERFILE,
    "copy --link, CMD": GOOD_DOCKERFILE.replace("COPY --from=build", "COPY --link --from=build")
                                       .replace("ENTRYPOINT", "CMD"),
    "flags after --from": GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello",
                                                  "COPY --from=build --chmod=755 /hello /hello"),
    "gcc image": 'FROM gcc:13 AS build\nCOPY hello.c message.h .\nRUN gcc -static -o /hello hello.c\n'
                 'FROM scratch\nCOPY --from=build /hello /\nCMD ["/hello"]\n',
    "musl, in /src": 'FROM debian:bookworm AS build\nRUN apt-get update && \\\n    apt-get install -y musl-tools\n'
                     'COPY hello.c message.h /src/\nRUN musl-gcc -static -Os -s -o /hello /src/hello.c\n'
                     'FROM scratch\nCOPY --from=build /hello /hello\nENTRYPOINT ["/hello"]\n',
    "by index": GOOD_DOCKERFILE.replace(" AS build", "").replace("--from=build", "--from=0"),
    "alpine": 'FROM alpine:3.20 AS build\nRUN apk add --no-cache gcc musl-dev\nCOPY . .\n'
              'RUN gcc -static -o /hello hello.c\nFROM scratch\nCOPY --from=build /hello /hello\n'
              'ENTRYPOINT ["/hello"]\n',
    "comments": "# build it\n" + GOOD_DOCKERFILE.replace("FROM scratch", "# ship it\nfrom scratch"),
    "static-pie": GOOD_DOCKERFILE.replace("-static ", "-static-pie "),
    "workdir, relative -o": GOOD_DOCKERFILE.replace("COPY hello.c", "WORKDIR /src\nCOPY hello.c")
                                           .replace("-o /hello", "-o hello")
                                           .replace("COPY --from=build /hello /hello",
                                                    "COPY --from=build /src/hello /hello"),
    "cd inside RUN": GOOD_DOCKERFILE.replace("COPY hello.c message.h ./", "COPY hello.c message.h /src/")
                                    .replace("RUN gcc -static -Os -o /hello hello.c",
                                             "RUN cd /src && gcc -static -Os -o hello hello.c")
                                    .replace("COPY --from=build /hello", "COPY --from=build /src/hello"),
    "make": GOOD_DOCKERFILE.replace("RUN gcc -static -Os -o /hello hello.c",
                                    'WORKDIR /src\nRUN make LDFLAGS="-static" hello')
                           .replace("COPY hello.c message.h ./", "WORKDIR /src\nCOPY hello.c message.h ./")
                           .replace("COPY --from=build /hello", "COPY --from=build /src/hello"),
    "heredoc RUN": GOOD_DOCKERFILE.replace("RUN gcc -static -Os -o /hello hello.c",
                                           "RUN <<EOF\nset -e\ngcc -static -Os -o /hello hello.c\nEOF"),
    "exec-form RUN": GOOD_DOCKERFILE.replace("RUN gcc -static -Os -o /hello hello.c",
                                             'RUN ["gcc", "-static", "-o", "/hello", "hello.c"]'),
    "in PATH, by name": GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello",
                                                "COPY --from=build /hello /usr/local/bin/")
                                       .replace('["/hello"]', '["hello"]'),
    "chained stages": 'FROM debian:bookworm AS tools\nRUN apt-get update && apt-get install -y gcc libc6-dev\n'
                      'FROM tools AS build\nCOPY hello.c message.h ./\nRUN gcc -static -o /hello hello.c\n'
                      'FROM scratch\nCOPY --from=build /hello /hello\nENTRYPOINT ["/hello"]\n',
    "USER by number": GOOD_DOCKERFILE.replace("ENTRYPOINT", "USER 65534:65534\nENTRYPOINT"),
    "out folder": GOOD_DOCKERFILE.replace("-o /hello", "-o /out/hello").replace("RUN gcc", "RUN mkdir /out && gcc")
                                 .replace("COPY --from=build /hello /hello", "COPY --from=build /out/ /"),
    "out folder by WORKDIR": GOOD_DOCKERFILE.replace("-o /hello", "-o /out/hello")
                                            .replace("RUN gcc", "WORKDIR /out/\nWORKDIR /\nRUN gcc")
                                            .replace("COPY --from=build /hello /hello", "COPY --from=build /out/ /"),
    "ARG output": GOOD_DOCKERFILE.replace("-o /hello", "-o $OUT").replace("COPY hello.c", "ARG OUT=/hello\nCOPY hello.c"),
    "apt-get -qq, -o option": GOOD_DOCKERFILE.replace("apt-get install -y", "apt-get -o Dpkg::Use-Pty=0 -qq install"),
    "update in an earlier RUN": GOOD_DOCKERFILE.replace("apt-get update && ", "apt-get update\nRUN "),
    "fedora": 'FROM fedora:40 AS build\nRUN dnf install -y gcc glibc-static\nCOPY hello.c message.h ./\n'
              'RUN gcc -static -o /hello hello.c\nFROM scratch\nCOPY --from=build /hello /hello\nCMD ["/hello"]\n',
    "copy . /src, no slash": 'FROM gcc:13 AS build\nCOPY . /src\nRUN gcc -static -o /src/hello /src/hello.c\n'
                             'FROM scratch\nCOPY --from=build /src/hello /hello\nCMD ["/hello"]\n',
    "comment in a continuation": GOOD_DOCKERFILE.replace("apt-get update && apt-get install",
                                                         "apt-get update && \\\n    # the compiler\n\n    apt-get install"),
    "libc in a later RUN": GOOD_DOCKERFILE.replace("install -y gcc libc6-dev",
                                                   "install -y --no-install-recommends gcc\n"
                                                   "RUN apt-get install -y --no-install-recommends libc6-dev"),
    "fedora, glibc-static later": 'FROM fedora:40 AS build\nRUN dnf install -y gcc\nRUN dnf install -y glibc-static\n'
                                  'COPY hello.c message.h ./\nRUN gcc -static -o /hello hello.c\n'
                                  'FROM scratch\nCOPY --from=build /hello /hello\nCMD ["/hello"]\n',
    "alpine libc-dev": 'FROM alpine AS build\nRUN apk add --no-cache gcc libc-dev\nCOPY . .\n'
                       'RUN gcc -static -o /hello hello.c\nFROM scratch\nCOPY --from=build /hello /hello\nCMD ["/hello"]\n',
    "alpine-sdk": 'FROM alpine AS build\nRUN apk add alpine-sdk\nCOPY . .\n'
                  'RUN gcc -static -o /hello hello.c\nFROM scratch\nCOPY --from=build /hello /hello\nCMD ["/hello"]\n',
    "bind mount": 'FROM gcc:13 AS build\nRUN --mount=type=bind,target=/src gcc -static -o /hello /src/hello.c\n'
                  'FROM scratch\nCOPY --from=build /hello /hello\nCMD ["/hello"]\n',
    "cp after compiling": GOOD_DOCKERFILE.replace("COPY hello.c message.h ./", "WORKDIR /src\nCOPY hello.c message.h ./")
                                         .replace("-o /hello hello.c", "-o hello hello.c && cp hello /hello"),
    "tab after RUN": GOOD_DOCKERFILE.replace("RUN gcc", "RUN\tgcc"),
    "no recommends, libc6-dev named": GOOD_DOCKERFILE.replace("install -y gcc", "install -y --no-install-recommends gcc"),
    "entrypoint and cmd": GOOD_DOCKERFILE.replace('ENTRYPOINT ["/hello"]', 'ENTRYPOINT ["/hello"]\nCMD []'),
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
    (GOOD_DOCKERFILE.replace("-static ", "") + "# -static\n", "linked dynamically"),
    (GOOD_DOCKERFILE.replace("-static -Os -o /hello hello.c", "-Os -o /hello hello.c # -static"),
     "linked dynamically"),
    (GOOD_DOCKERFILE.replace("-static ", "").replace("RUN gcc", "RUN echo -static && gcc"), "linked dynamically"),
    (GOOD_DOCKERFILE.replace("RUN apt-get update && apt-get install -y gcc libc6-dev\n", ""), "no C compiler"),
    (GOOD_DOCKERFILE.replace("RUN gcc -static -Os -o /hello hello.c\n", ""), "never compiles"),
    (GOOD_VARIANTS["alpine"].replace("gcc musl-dev", "gcc"), "musl-dev"),
    (GOOD_DOCKERFILE.replace("install -y gcc libc6-dev", "install -y --no-install-recommends gcc"), "libc6-dev"),
    (GOOD_DOCKERFILE.replace("COPY hello.c message.h ./\n", ""), "never gets hello.c"),
    # what apt, dnf and gcc need in a build: package lists, -y, glibc-static, an existing -o folder
    (GOOD_DOCKERFILE.replace("apt-get update && ", ""), "Unable to locate package"),
    (GOOD_DOCKERFILE.replace("install -y", "install"), "nobody to answer"),
    (GOOD_VARIANTS["fedora"].replace("install -y", "install"), "nobody to answer"),
    (GOOD_VARIANTS["fedora"].replace(" glibc-static", ""), "cannot find -lc"),
    (GOOD_DOCKERFILE.replace("-o /hello", "-o /out/hello")
                    .replace("COPY --from=build /hello /hello", "COPY --from=build /out/hello /hello"),
     "/out does not exist"),
    # hello.c includes message.h, which must sit beside it
    (GOOD_DOCKERFILE.replace("COPY hello.c message.h ./", "COPY hello.c ."), "message.h"),
    (GOOD_DOCKERFILE.replace("COPY hello.c message.h ./", "COPY hello.c /src/\nCOPY message.h /inc/"),
     "not beside"),
    (GOOD_DOCKERFILE.replace('ENTRYPOINT ["/hello"]', ""), "no command"),
    (GOOD_DOCKERFILE.replace('ENTRYPOINT ["/hello"]', "CMD /hello"), "shell form"),
    (GOOD_DOCKERFILE.replace('["/hello"]', "['/hello']"), "shell form"),
    (GOOD_DOCKERFILE.replace('["/hello"]', '["/hello",]'), "shell form"),
    (GOOD_DOCKERFILE.replace('ENTRYPOINT', 'RUN ls\nENTRYPOINT'), "RUN in the scratch stage"),
    # what lands where, and what runs
    (GOOD_DOCKERFILE.replace("-o /hello", "-o /app/hello"), "compiler writes the program to /app/hello"),
    (GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello", "COPY --from=build /hello /app/hello"),
     "lands at /app/hello"),
    (GOOD_DOCKERFILE.replace('["/hello"]', '["hello"]'), "lands at /hello"),
    (GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello", "COPY --from=build / /"), "whole filesystem"),
    (GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello", "COPY --from=build /hello.c /hello"),
     "source code"),
    (GOOD_DOCKERFILE.replace("-o /hello hello.c", "hello.c"), "compiler writes the program to /a.out"),
    # the runtime: users and modes
    (GOOD_DOCKERFILE.replace("ENTRYPOINT", "USER nobody\nENTRYPOINT"), "unable to find user nobody"),
    (GOOD_DOCKERFILE.replace("ENTRYPOINT", "USER 65534:nogroup\nENTRYPOINT"), "unable to find group nogroup"),
    (GOOD_DOCKERFILE.replace("COPY --from=build", "COPY --chmod=644 --from=build"), "execute bit"),
    (GOOD_DOCKERFILE.replace("COPY --from=build", "COPY --chmod=740 --from=build")
                    .replace("ENTRYPOINT", "USER 65534\nENTRYPOINT"), "that user needs"),
    (["FROM scratch"], "as a string"),
])
def test_02_4_rejects_what_would_not_work(dockerfile, says):
    verdict = checks.check_02_4(dockerfile)
    assert verdict.passed is False and says in verdict.message, verdict


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
    assert "Docker 24 and earlier" in checks.check_03_3("docker-archive").message
    assert "1.9 and earlier" in checks.check_03_3("docker-v1").message
    assert "not a tar header field" in checks.check_03_2({"mode", "colour"}).message
    assert "gid, uid are the same" in checks.check_03_2({"mode", "uid", "gid"}).message


def _busybox_layer(target="busybox"):
    return [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755),
            oci.Entry.symlink("bin/sh", target)]


def test_04_1_shell_image(tmp_path):
    oci.Image([[oci.Entry.file("bin/sh", b"x")]]).write(tmp_path / "nobusybox.tar")
    assert "no /bin/busybox" in checks.check_04_1(tmp_path / "nobusybox.tar").message
    oci.Image([_busybox_layer()[:2]]).write(tmp_path / "nosh.tar")
    assert "not a link" in checks.check_04_1(tmp_path / "nosh.tar").message
    oci.Image([_busybox_layer("dash")]).write(tmp_path / "dash.tar")
    assert "not /bin/busybox" in checks.check_04_1(tmp_path / "dash.tar").message
    oci.Image([_busybox_layer()]).write(tmp_path / "good.tar")
    assert checks.check_04_1(tmp_path / "good.tar").passed


@pytest.mark.parametrize("busybox, says", [
    (oci.Entry.file("bin/busybox", TINY, mode=0o644), "permission denied"),
    (oci.Entry.file("bin/busybox", b"#!", mode=0o755), "too small for a program"),
])
def test_04_1_wants_a_program_that_can_run(tmp_path, busybox, says):
    verdict = checks.check_04_1(oci.Image([[busybox, oci.Entry.symlink("bin/sh", "busybox")]]).write(tmp_path / "b.tar"))
    assert verdict.passed is False and says in verdict.message, verdict


@pytest.mark.parametrize("links, deleted, says, not_says", [
    ([oci.Entry.hardlink("bin/sh", "bin/busybox"), oci.Entry.symlink("bin/ls", "busybox")], [],
     ["/bin/sh still runs", "symbolic link /bin/ls now points nowhere"], ["no shell"]),
    ([oci.Entry.symlink("bin/sh", "busybox"), oci.Entry.symlink("bin/ls", "/bin/busybox")], [],
     ["/bin/ls and /bin/sh now point nowhere and no shell can start"], ["hard link"]),
    ([oci.Entry.hardlink("bin/sh", "bin/busybox"), oci.Entry.hardlink("bin/ls", "bin/busybox")], ["bin/sh", "bin/ls"],
     ["/bin/busybox is gone;"], ["still run", "symbolic"]),
])
def test_04_2_says_what_happens_to_each_link(tmp_path, links, deleted, says, not_says):
    base = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", TINY, mode=0o755), *links]
    upper = [oci.Entry.whiteout(p) for p in ["bin/busybox", *deleted]]
    verdict = checks.check_04_2(oci.Image([base, upper]).write(tmp_path / "h.tar"))
    assert verdict.passed and all(w in verdict.message for w in says), verdict
    assert not any(w in verdict.message for w in not_says), verdict


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
    ("mode", False), (42, False),
    # the words learners use: synonyms, a comma-separated string, the checksum named or not
    ("mode, uname, gname", True), ("mode uname gname", True), ({"permissions", "user name", "group name"}, True),
    ({"mode", "owner", "group", "checksum"}, True), ({"Mode", "UName", "GName"}, True),
    ({"mode", "uid", "gid"}, False), ({"mode", "uname", "gname", "owner id"}, False)])
def test_03_2_header_fields(answer, passed):
    assert checks.check_03_2(answer).passed is passed


@pytest.mark.parametrize("answer, passed", [
    ("oci-layout", True), (" OCI-Layout ", True), ("docker-archive", False), ("docker-v1", False),
    ("oci", False), (25, False), ("OCI layout", True), ("oci_layout", True), ("oci-archive", True),
    ("OCI image layout", True), ("docker archive", False)])
def test_03_3_save_format(answer, passed):
    assert checks.check_03_3(answer).passed is passed


def test_01_1_running_the_exercise_twice_works(tmp_path):
    # A learner re-runs the cell: writing the layout again replaces it, the check passes.
    for _ in range(2):
        path = oci.Image(cmd=["/hello"]).write(tmp_path / "ex1", format="oci-dir")
        assert checks.check_01_1(path).passed
    assert checks.check_01_1(str(path)).passed


# --- 02.5: the image that fails twice (no exec bit, USER nobody without /etc/passwd) ---------
PASSWD = b"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
GROUP = b"root:x:0:\nnogroup:x:65534:nobody\n"


def _hello(mode, path="hello", data=TINY):
    return oci.Entry.file(path, data, mode=mode)


def _accounts(passwd=PASSWD, group=None):
    return [oci.Entry.dir("etc"), oci.Entry.file("etc/passwd", passwd, mode=0o644)] + (
        [oci.Entry.file("etc/group", group, mode=0o644)] if group else [])


#: (name, layers, Image keywords, passes, words the verdict must contain). Whether each
#: image really starts is checked on the engine in test_02_5_agrees_with_the_engine.
FIXES = [
    ("broken", [[_hello(0o644)]], {"user": "nobody"}, False,
     ["unable to find user nobody", "no /etc/passwd", "mode 0644", "permission denied"]),
    ("number and exec bit", [[_hello(0o755)]], {"user": "65534"}, True, ["uid 65534, gid 0"]),
    ("passwd and exec bit", [_accounts() + [_hello(0o755)]], {"user": "nobody"}, True,
     ["uid 65534, gid 65534", "nobody is in your /etc/passwd"]),
    ("only the user fixed", [[_hello(0o644)]], {"user": "65534"}, False, ["mode 0644"]),
    ("only the mode fixed", [[_hello(0o755)]], {"user": "nobody"}, False, ["unable to find user"]),
    ("root is not a fix", [[_hello(0o755)]], {}, False, ["as root"]),
    ("0711 is enough", [[_hello(0o711)]], {"user": "65534"}, True, ["mode 0711"]),
    ("0750 with gid 0", [[_hello(0o750)]], {"user": "65534"}, True, ["gid 0"]),
    ("0750 with gid 65534", [_accounts() + [_hello(0o750)]], {"user": "nobody"}, False,
     ["uid 65534 (gid 65534)"]),
    ("explicit group", [[_hello(0o755)]], {"user": "65534:65534"}, True, ["gid 65534"]),
    ("unknown group name", [[_hello(0o755)]], {"user": "65534:nogroup"}, False,
     ["unable to find group nogroup"]),
    ("group from /etc/group", [_accounts(group=GROUP) + [_hello(0o755)]],
     {"user": "nobody:nogroup"}, True, ["gid 65534"]),
    ("passwd without nobody", [_accounts(b"root:x:0:0::/:/x\n") + [_hello(0o755)]],
     {"user": "nobody"}, False, ["no matching entries in passwd file"]),
    ("mode fixed in a second layer", [[_hello(0o644)], [_hello(0o755)]], {"user": "65534"}, True, []),
    ("whiteout of the program", [[_hello(0o755)], [oci.Entry.whiteout("hello")]],
     {"user": "65534"}, False, ["nothing in this image"]),
    ("symlink to the program", [[_hello(0o755, "bin/hello"), oci.Entry.symlink("hello", "bin/hello")]],
     {"user": "65534"}, True, []),
    ("closed folder", [[oci.Entry.dir("bin", mode=0o700), _hello(0o755, "bin/hello")]],
     {"user": "65534", "cmd": ["/bin/hello"]}, False, ["folder /bin above /bin/hello is mode 0700"]),
    ("merged /usr", [[oci.Entry.dir("usr"), oci.Entry.dir("usr/bin"), oci.Entry.symlink("bin", "usr/bin"),
                      _hello(0o755, "usr/bin/hello")]], {"user": "65534", "cmd": ["/bin/hello"]}, True, ["uid 65534"]),
    ("relative command", [[_hello(0o755)]], {"user": "65534", "cmd": ["hello"]}, False, ["not a path"]),
    ("no command", [[_hello(0o755)]], {"user": "65534", "cmd": None}, False, ["no command"]),
    ("not a program", [[_hello(0o755, data=b"#!/bin/sh\necho hi\n")]], {"user": "65534"}, False,
     ["not an ELF"]),
    ("another architecture", [[_hello(0o755, data=hello.tiny_elf(b"hi\n", arch="aarch64"))]],
     {"user": "65534"}, True, ["says amd64 for an aarch64 program", "warns"]),
    ("both, labelled arm64", [[_hello(0o755, data=hello.tiny_elf(b"hi\n", arch="aarch64"))]],
     {"user": "65534", "architecture": "arm64"}, True, []),
]


def _fixed(tmp_path, name, layers, kwargs):
    kwargs = {"cmd": ["/hello"], **kwargs}
    return oci.Image(layers, **kwargs).write(tmp_path / (re.sub(r"[^a-z0-9]+", "-", name) + ".tar"))


@pytest.mark.parametrize("name, layers, kwargs, passed, says", FIXES, ids=[f[0] for f in FIXES])
def test_02_5_fixes(tmp_path, progress_file, name, layers, kwargs, passed, says):
    path = _fixed(tmp_path, name, layers, kwargs)
    verdict = checks.check_02_5(path)
    assert verdict.passed is passed, str(verdict)
    for words in says:
        assert words in str(verdict)
    assert checks.check_02_5(path) == verdict          # run again: same verdict, no error


def test_02_5_unreadable_answers(tmp_path, progress_file):
    assert "nothing at" in checks.check_02_5(tmp_path / "missing.tar").message
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    assert checks.check_02_5(tmp_path / "junk.tar").passed is False


#: Rows whose program is for aarch64: whether they start depends on the machine (and on
#: emulation), so the engine test leaves them out.
OTHER_ARCH = {"another architecture", "both, labelled arm64"}


@pytest.mark.engine
def test_02_5_agrees_with_the_engine(engine, tmp_path, progress_file):
    """The checker's verdict is what `docker run` does -- except root, which starts but
    is not the exercise's answer."""
    if engine.docker(["version", "--format", "{{.Server.Arch}}"]).output.strip() != "amd64":
        pytest.skip("the table's programs are x86_64")
    for name, layers, kwargs, passed, _ in FIXES:
        if name in OTHER_ARCH:
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", name)
        tag = f"labkit-test-02-5:{slug}"
        path = oci.Image(layers, **{"cmd": ["/hello"], **kwargs}).write(tmp_path / f"{slug}.tar", tag=tag)
        assert engine.docker(["load", "-i", str(path)]).exit_code == 0
        engine.remember(tag)
        try:
            run = engine.docker(["run", "--rm", "--network", "none", tag])
        finally:
            engine.remove(tag)
        starts = run.exit_code == 0 and run.output.startswith("Hello")
        expected = True if name == "root is not a fix" else passed
        assert starts is expected, f"{name}: {run.output}"


# --- 05.2, against the real registry ----------------------------------------------------
def test_05_2_judges_the_layers_so_a_rerun_still_passes(tmp_path):
    from conftest import need_tool
    from labkit import registry
    need_tool("docker-registry")
    base = [oci.Entry.file("bin/base", b"base layer\n" * 100, mode=0o755)]
    with registry.local(tmp_path / "registry") as reg:
        registry.push(reg, oci.Image([base], cmd=["/bin/base"]), "lab/base:1")
        mine = oci.Image([base, [oci.Entry.file("etc/motd", b"mine\n")]], cmd=["/bin/base"])
        first = checks.check_05_2(registry.push(reg, mine, "lab/mine:1"))
        assert first.passed and "mounted from the other repository" in first.message, first
        again = checks.check_05_2(registry.push(reg, mine, "lab/mine:1"))       # the cell run twice
        assert again.passed and "this push ran before" in again.message, again
        alone = checks.check_05_2(registry.push(reg, oci.Image([base], cmd=["/bin/base"]), "lab/same:1"))
        assert alone.passed is False and "1 layer(s)" in alone.message
        other = oci.Image([[oci.Entry.file("a", b"a")], [oci.Entry.file("b", b"b")]], cmd=["/a"])
        fresh = checks.check_05_2(registry.push(reg, other, "lab/other:1"))
        assert fresh.passed is False and "shares no layer" in fresh.message
        pulled = checks.check_05_2(registry.pull(reg, "lab/mine:1", tmp_path / "layout"))
        assert pulled.passed is False and "pull" in pulled.message
        theirs = checks.check_05_2(registry.push(reg, mine, "lab/busybox-trimmed:1"))   # the notebook's `second`
        assert theirs.passed is False and "notebook's own push" in theirs.message
        elsewhere = checks.check_05_2(registry.push(reg, mine, "lab/elsewhere:1"))     # nothing of its own
        assert elsewhere.passed is False and "none of them is yours" in elsewhere.message, elsewhere
    assert "not a push result" in checks.check_05_2(3).message


# --- the answers learners type: punctuation, look-alike digests, numbers as text -----------
@pytest.mark.parametrize("answer, passed", [("b)", True), ("(b)", True), ("B.", True), ("b:", True),
                                            ("a)", False), ("d", False)])
def test_00_2_takes_the_letter_however_it_is_written(answer, passed):
    assert checks.check_00_2(answer).passed is passed


def test_01_2_names_buildkits_gzipped_empty_layer():
    verdict = checks.check_01_2("sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1")
    assert verdict.passed is False and "BuildKit's gzipped empty layer" in verdict.message


def test_02_1_wants_the_tiny_hello_not_any_static_program(tmp_path):
    if os.path.exists("/bin/busybox"):                    # Debian's busybox-static: static, not ours
        verdict = checks.check_02_1("/bin/busybox")
        assert verdict.passed is False and "not labkit's tiny hello" in verdict.message, verdict
    mine = hello.build("tiny", tmp_path / "mine", message=b"mine\n")
    assert checks.check_02_1(mine).passed


def test_02_2_wants_the_path_the_program_names():
    assert checks.check_02_2("/lib64/ld-linux-x86-64.so.2").passed
    verdict = checks.check_02_2("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    assert verdict.passed is False and "exactly the path the program names" in verdict.message


@pytest.mark.parametrize("sh, passed, says", [
    (oci.Entry.symlink("bin/sh", "busybox"), True, "One program"),
    (oci.Entry.symlink("bin/sh", "/bin/busybox"), True, "One program"),
    (oci.Entry.hardlink("bin/sh", "bin/busybox"), True, "One program"),
    (oci.Entry.symlink("bin/sh", "/usr/bin/busybox"), False, "/usr/bin/busybox, not /bin/busybox"),
    (oci.Entry.symlink("bin/sh", "../busybox"), False, "/busybox, not /bin/busybox"),
    (oci.Entry.file("bin/sh", b"#!"), False, "not a link"),
])
def test_04_1_follows_the_link_as_the_kernel_would(tmp_path, sh, passed, says):
    layer = [oci.Entry.file("bin/busybox", TINY, mode=0o755), sh]
    verdict = checks.check_04_1(oci.Image([layer]).write(tmp_path / "bb.tar"))
    assert verdict.passed is passed and says in verdict.message, verdict


def test_04_1_wants_one_layer(tmp_path):
    layers = [[oci.Entry.file("bin/busybox", TINY, mode=0o755)], [oci.Entry.symlink("bin/sh", "busybox")]]
    verdict = checks.check_04_1(oci.Image(layers).write(tmp_path / "two.tar"))
    assert verdict.passed is False and "2 layers" in verdict.message


@pytest.mark.parametrize("answer, passed, says", [
    ("1066258", False, "the text"), (1066258.0, True, "1,066,258 bytes"), (1066258.5, False, "whole number"),
])
def test_05_1_number_types(answer, passed, says):
    verdict = checks.check_05_1(answer)
    assert verdict.passed is passed and says in verdict.message, verdict


def test_05_3_any_case():
    from labkit.scenarios import hello_image
    assert checks.check_05_3(" " + hello_image("modern").diff_ids[0].upper()).passed


@pytest.mark.parametrize("answer, passed", [
    ("an attestation manifest", True), ("in-toto provenance", True), ("SLSA provenance", True),
    ("not an attestation, an arm image", False), ("an image for another platform", False), ("a cache", False),
    ("metadata about how the image was built", True), ("build metadata, not a runnable image", True),
    ("build info about the image", True), ("a manifest with no platform, holding build metadata", True),
    ("an image built for arm", False), ("a description of the build", True), ("supply-chain metadata", True),
    ("it's not a real platform, it describes the build", True), ("data about the build, not a runnable image", True)])
def test_05_4_words(answer, passed):
    assert checks.check_05_4(answer).passed is passed
