"""labkit.checks, checker 02.3: a multi-stage Dockerfile, judged by building it on the
engine (the engine tests below, run in CI), and where no engine answers reported "not built
here" with what a reading of the file says (labkit.checks.multi_stage.read, tested on its
own first)."""
from __future__ import annotations

import re

import pytest

from conftest import reference_dockerfile
from labkit import checks, hello
from labkit.checks import multi_stage


#: A progress file of the test's own; the checkers judge files alone (no engine).
pytestmark = pytest.mark.usefixtures("progress_file")


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


#: Variants that build a static program, but with musl: the exercise asks for GNU libc.
MUSL = ("the lesson's", "musl, in /src", "alpine", "alpine libc-dev", "alpine-sdk")


@pytest.mark.parametrize("name", sorted(GOOD_VARIANTS))
def test_02_3_a_reading_finds_nothing_wrong_in_a_valid_variant(name):
    said = multi_stage.read(GOOD_VARIANTS[name])
    if name in MUSL:
        assert said.passed is False and "links with musl" in said.message, f"{name}: {said}"
    else:
        assert said.passed, f"{name}: {said}"


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
    (["FROM scratch"], "1 FROM line(s)"),
])
def test_02_3_a_reading_names_what_would_not_work(dockerfile, says):
    said = multi_stage.read(dockerfile) if isinstance(dockerfile, str) else checks.check_02_3(dockerfile)
    assert said.passed is False and says in said.message, said


# --- check_02_3 where no engine answers: certain faults fail, the rest is unverified ------------
def test_02_3_without_an_engine_is_unverified_never_passed(progress_file):
    verdict = checks.check_02_3(LAB)
    assert verdict.passed is None and verdict.unverified
    assert verdict.message.startswith("Not built here: no Docker engine answers here.")
    assert "finds nothing wrong" in verdict.message
    assert "02.3" in checks.record.unverified() and "02.3" not in checks.record.passed()
    dynamic = checks.check_02_3(GOOD_DOCKERFILE.replace("-static ", ""))
    assert dynamic.unverified and "suggests: The program is linked dynamically" in dynamic.message


@pytest.mark.parametrize("dockerfile, says", [
    ("FROM labkit/build-base:bookworm\nRUN gcc -static -o /hello hello.c\n", "1 FROM line"),
    (GOOD_DOCKERFILE.replace("FROM scratch", "FROM debian"), "FROM debian, not FROM scratch"),
    (GOOD_DOCKERFILE.replace("COPY --from=build /hello /hello", "COPY hello /hello"), "never copies"),
    ("just some text", "no FROM line"),
    (["FROM scratch"], "1 FROM line(s)"),
    ({"FROM": "scratch"}, "is a dict"),
    (GOOD_DOCKERFILE.replace("RUN gcc", "RUNN gcc"), "RUNN is not a Dockerfile instruction"),
    (42, "is a number"),
])
def test_02_3_a_fault_of_the_file_itself_is_never_unverified(dockerfile, says):
    verdict = checks.check_02_3(dockerfile)
    assert verdict.passed is False and not verdict.unverified and says in verdict.message, verdict


def test_02_3_takes_its_lines_too():
    lines = hello.MULTI_STAGE_DOCKERFILE.splitlines()
    assert checks.check_02_3(lines).unverified and checks.check_02_3(tuple(lines)).unverified
    assert "is a list" in checks.check_02_3([1, 2]).message


def test_02_3_takes_a_file_too(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(hello.MULTI_STAGE_DOCKERFILE)
    for answer in (path, str(path), hello.MULTI_STAGE_DOCKERFILE.encode()):
        assert checks.check_02_3(answer).unverified


# --- on a real engine: built, run and read -----------------------------------------------------
BASE = hello.BUILD_BASE
LAB = reference_dockerfile()

#: (name, Dockerfile, what the verdict must be: "pass", "fail" or "outside", words it says).
#: A "pass" that the legacy builder refuses says so ("legacy" in the words).
BUILT = [
    ("the lab's reference answer", LAB, "pass", "static, GNU libc"),
    ("the step's template: musl, not glibc", hello.MULTI_STAGE_DOCKERFILE, "fail", "not linked with GNU libc"),
    ("several sources into .", LAB.replace("COPY hello.c message.h /src/", "COPY hello.c message.h .")
     .replace("/src/hello.c", "hello.c"), "pass", "legacy builder (DOCKER_BUILDKIT=0) refuses"),
    ("static linking through LDFLAGS", LAB.replace("RUN gcc -static -Os -s -o /hello /src/hello.c",
                                                  "ENV LDFLAGS=-static\nRUN gcc $LDFLAGS -o /hello /src/hello.c"),
     "pass", "static"),
    ("exec-form RUN, cd, relative -o", LAB.replace("RUN gcc -static -Os -s -o /hello /src/hello.c",
                                                    'WORKDIR /src\nRUN ["gcc", "-static", "-o", "out", "hello.c"]')
     .replace("COPY --from=build /hello /hello", "COPY --from=build /src/out /hello"), "pass", "static"),
    ("clang would be another compiler", LAB.replace("gcc -static", "cc -static"), "pass", "static"),
    ("a syntax line this engine cannot fetch", "# syntax=docker/dockerfile:1.4\n" + LAB, "pass", "static"),
    ("passwd for USER nobody", LAB.replace("USER 65534", "USER nobody").replace(
        "COPY --from=build /hello /hello", "COPY --from=build /hello /hello\nCOPY --from=build /etc/passwd /etc/passwd"),
     "pass", "static"),
    # faults of the answer: the engine's words, the step named
    ("message.h left out", LAB.replace("COPY hello.c message.h /src/", "COPY hello.c /src/"), "fail",
     "message.h: No such file or directory"),
    ("compiled before copied", LAB.replace("COPY hello.c message.h /src/\nRUN gcc -static -Os -s -o /hello /src/hello.c",
                                           "RUN gcc -static -Os -s -o /hello /src/hello.c\nCOPY hello.c message.h /src/"),
     "fail", "RUN gcc"),
    ("an object file, not a program", LAB.replace("gcc -static -Os -s -o /hello", "gcc -c -o /hello"), "fail",
     "object file"),
    ("dynamic", LAB.replace("-static ", ""), "fail", "dynamically linked"),
    ("a file not in the context", LAB.replace("COPY hello.c message.h /src/", "COPY hello.c message.h main.c /src/"),
     "fail", "main.c"),
    ("copied from a path the stage never wrote", LAB.replace("COPY --from=build /hello /hello",
                                                             "COPY --from=build /out/hello /hello"), "fail", "/out/hello"),
    ("shell-form ENTRYPOINT", LAB.replace('ENTRYPOINT ["/hello"]', "ENTRYPOINT /hello"), "fail", "shell form"),
    ("USER by name", LAB.replace("USER 65534", "USER nobody"), "fail", "no /etc/passwd"),
    ("make is not in the base", LAB.replace("RUN gcc -static -Os -s -o /hello /src/hello.c",
                                            "WORKDIR /src\nRUN make LDFLAGS=-static hello && cp hello /hello"),
     "fail", "make"),
    ("the sources shipped too", LAB.replace("COPY --from=build /hello /hello", "COPY --from=build /src /src\n"
                                            "COPY --from=build /hello /hello"), "fail", "more than the program"),
    ("two programs", LAB.replace("COPY --from=build /hello /hello",
                                 "COPY --from=build /hello /hello\nCOPY --from=build /usr/bin/gcc /gcc"),
     "fail", "2 ELF files"),
    ("a typo in an instruction", LAB.replace("RUN gcc", "RUNN gcc"), "fail", "unknown instruction"),
    # outside the answer: "not built here"
    ("a base nobody can pull here", LAB.replace(BASE, "nobody-has/this-base:1"), "outside", "cannot be pulled"),
]


@pytest.mark.engine
@pytest.mark.parametrize("name, dockerfile, kind, says", BUILT, ids=[b[0] for b in BUILT])
def test_02_3_judged_by_building(build_engine, progress_file, monkeypatch, name, dockerfile, kind, says):
    monkeypatch.delenv("LABKIT_CHECK_ENGINE")
    verdict = checks.check_02_3(dockerfile)
    got = "pass" if verdict.passed else ("outside" if verdict.unverified else "fail")
    if name == "a base nobody can pull here" and got == "fail":   # an engine that reaches Docker Hub hears
        assert re.search(r"denied|not found|does not exist", verdict.message), verdict   # "no such image"
        return
    assert got == kind and says in verdict.message, verdict
    judged_after_building = r"docker run|ELF|dynamically|object file|more than|GNU libc|not a Dockerfile instruction"
    if kind == "fail" and not re.search(judged_after_building, verdict.message):
        assert re.search(r"the step .+ failed: \"|stopped before its first step", verdict.message), verdict


@pytest.mark.engine
def test_02_3_an_install_without_network_is_not_built_here(build_engine, progress_file, monkeypatch):
    from labkit.checks import building
    monkeypatch.delenv("LABKIT_CHECK_ENGINE")
    installs = LAB.replace("COPY hello.c", "RUN apt-get update && apt-get install -y make\nCOPY hello.c")
    verdict = checks.check_02_3(installs)
    if building.has_bridge(build_engine):
        pytest.skip("this engine gives builds a network: the install's outcome is the build's")
    assert verdict.unverified and "no network" in verdict.message and "apt-get" in verdict.message, verdict


@pytest.fixture(scope="module")
def build_engine(engine):
    """The engine, with the lab's build base imported (`labkit build-base`, cached)."""
    from labkit.errors import LabkitError
    from labkit.fleet import buildbase
    try:
        buildbase.ensure(engine)
    except LabkitError as err:
        from conftest import need
        need("engine", f"the lab's build base cannot be made here: {err}")
    return engine


@pytest.mark.engine
def test_02_3_a_misspelt_lab_base_is_the_answers_fault(build_engine, progress_file, monkeypatch):
    monkeypatch.delenv("LABKIT_CHECK_ENGINE")
    verdict = checks.check_02_3(LAB.replace(BASE, "labkit/buildbase:bookworm"))
    assert verdict.passed is False and not verdict.unverified, verdict
    assert "labkit/buildbase:bookworm is not the lab's base" in verdict.hint
