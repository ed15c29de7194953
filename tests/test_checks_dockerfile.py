"""labkit.checks, checker 02.3: a multi-stage Dockerfile, judged by reading it (no engine
here) and, in the engine tests, by building it."""
from __future__ import annotations

import pytest

from labkit import checks, hello


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LABKIT_PROGRESS", str(path))
    monkeypatch.setenv("LABKIT_CHECK_ENGINE", "0")
    return path


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
def test_02_3_accepts_every_valid_variant(name):
    verdict = checks.check_02_3(GOOD_VARIANTS[name])
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
def test_02_3_rejects_what_would_not_work(dockerfile, says):
    verdict = checks.check_02_3(dockerfile)
    assert verdict.passed is False and says in verdict.message, verdict
