"""Checker 02.3 judged by the truth: build the learner's Dockerfile with the lab's build
context on the engine, run the image, and read the program it holds (one program, static,
linked with GNU libc: the exercise asks for the glibc-static hello, not the step's musl
one).

The verdict comes from BuildKit where the engine has it (through the docker CLI); the
legacy builder (``DOCKER_BUILDKIT=0``) builds the same file too, and when it refuses it
the verdict says so in one line. The build context's ``message.h`` holds a message made
for this check, so "prints the message" means the program was compiled from the
context's ``hello.c``. A build that cannot happen for a reason outside the answer -- a
base image the engine lacks and cannot pull, an install that needs a network the
engine's builds do not get -- is an :class:`Outside`, never a failure of the answer.

Example:
    >>> Outcome(True, "Built.").passed
    True
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import secrets
import tempfile
import time
from pathlib import Path

from labkit import engine as engine_mod
from labkit import hello, oci
from labkit.checks.buildlog import NO_NETWORK, PULL, Failure, failure
from labkit.checks.dockerfile import parse, run_script, shell_commands
from labkit.checks.runtime import Rootfs
from labkit.errors import LabkitError

#: The parser directive that names a Dockerfile frontend image (BuildKit pulls it).
SYNTAX = re.compile(r"\A(?:\s*#[^\n]*\n)*?\s*#\s*syntax\s*=[^\n]*\n", re.I)
#: Commands that reach the network from a RUN step.
NETWORKED = re.compile(r"^(apt-get|apt|apk|dnf5?|yum|microdnf|pip3?|curl|wget|git|go|npm|cargo)$")


@dataclasses.dataclass
class Outcome:
    """What building and running showed: ``passed`` (True/False), the message and hint;
    ``outside`` is the reason when the build could not happen for one outside the answer."""

    passed: bool | None
    message: str
    hint: str | None = None
    outside: str | None = None


def has_bridge(eng) -> bool:
    """True when the engine has the default bridge network (builds' RUN steps use it)."""
    try:
        return any(n.get("Name") == "bridge" for n in eng.api.networks())
    except Exception:  # noqa: BLE001 - the SDK's errors, or an engine without the call
        return False


def needs_network(step: str) -> bool:
    """True when a build step (``[build 2/3] RUN apt-get ...`` or ``Step 2/5 : RUN ...``)
    runs a command that reaches the network (a package install, a download)."""
    instruction = step.split("] ", 1)[-1].split(" : ", 1)[-1].strip()
    if not instruction.upper().startswith("RUN"):
        return False
    return any(NETWORKED.match(next((w for w in words if "=" not in w), "").rsplit("/", 1)[-1])
               for words in shell_commands(run_script(instruction[3:].strip())))


def misspelt_base(name: str) -> bool:
    """True for a name close to the lab's base that is not it (``labkit/buildbase:bookworm``).

    Example:
        >>> misspelt_base("labkit/buildbase:bookworm"), misspelt_base("debian:bookworm")
        (True, False)
    """
    wanted = hello.BUILD_BASE
    return name != wanted and (name.startswith("labkit/") or
                               difflib.SequenceMatcher(None, name, wanted).ratio() > 0.8)


def _bases(dockerfile: str) -> list[str]:
    """The images the stages start FROM (not scratch, not an earlier stage)."""
    stages = parse(dockerfile)
    names = {s.name for s in stages if s.name}
    return [s.base for s in stages if s.base.lower() != "scratch" and s.base.lower() not in names
            and "$" not in s.base]


def _present(eng, image: str) -> bool:
    try:
        eng.inspect(image)
        return True
    except LabkitError:
        return False


def _build(eng, context: Path, tag: str, builder: str, network: str | None) -> tuple[Failure | None, float]:
    """Build ``context`` as ``tag``: (None, seconds) or (the failure, seconds)."""
    transcript: list = []
    started = time.monotonic()
    try:
        eng.build(context, tag, builder=builder, label=True, cache=True, transcript=transcript, network=network)
        return None, time.monotonic() - started
    except LabkitError as err:
        output = transcript[-1].output if transcript else str(err)
        return failure(output), time.monotonic() - started
    finally:
        if builder == "legacy" and transcript:
            _tidy(eng, transcript[-1].output)


def _tidy(eng, output: str) -> None:
    """Remove what a legacy build of this check left on a shared engine: the images of
    its steps (never a FROM's base) and the container of a step that failed."""
    images, containers, base = [], [], True
    for line in output.splitlines():
        step = re.match(r"Step \d+/\d+ : (\w+)", line)
        if step:
            base = step.group(1).upper() == "FROM"
            continue
        made = re.match(r"\s*---> ([0-9a-f]{12})\s*$", line)
        running = re.match(r"\s*---> Running in ([0-9a-f]{12})", line)
        if made and not base:
            images.append(made.group(1))
        if running:
            containers.append(running.group(1))
    for container in containers:
        try:
            eng.api.remove_container(container, force=True)
        except Exception:  # noqa: BLE001 - already gone (--rm), or removed by the engine meanwhile
            pass
    for image in reversed(images):
        try:
            eng.api.remove_image(image, force=True, noprune=True)
        except Exception:  # noqa: BLE001 - a parent already went with its child
            pass


def _outside(fail: Failure, dockerfile: str, bridge: bool, eng) -> str | None:
    """The reason outside the answer that stopped the build, or None (the answer's own fault)."""
    missing = [b for b in _bases(dockerfile) if not _present(eng, b)]
    if missing and misspelt_base(missing[0]):
        return None                              # the lab's base, misspelt: the answer's own fault
    if missing and NO_NETWORK.search(fail.words):
        lab = " (run `labkit build-base` once to import the lab's base)" if missing[0] == hello.BUILD_BASE else ""
        return f"the base image {missing[0]} is not on this engine and cannot be pulled here{lab}: \"{fail.error}\""
    if needs_network(fail.step):
        if not bridge:
            return (f"this engine gives builds no network (it has no bridge network), and the step {fail.step} "
                    "installs or downloads")
        if NO_NETWORK.search(fail.words):
            return f"the step {fail.step} needs a network this engine could not reach: \"{fail.detail or fail.error}\""
    return None


def judge(eng, dockerfile: str) -> Outcome:
    """Build ``dockerfile`` with the lab's context on ``eng``, run it, read its program."""
    token = secrets.token_hex(4)
    message = f"Hello from your build! (labkit check {token})\n".encode()
    tag = f"{engine_mod.namespace()}/check-02-3:{token}"
    bridge = has_bridge(eng)
    network = None if bridge else "none"
    builder = "buildkit" if eng.facts.buildkit else "legacy"
    name = {"buildkit": "BuildKit", "legacy": "the legacy builder"}
    try:
        with tempfile.TemporaryDirectory(prefix="labkit-check-") as tmp:
            context = Path(tmp) / "context"
            hello.write_context(context, message=message, dockerfile=dockerfile)
            fail, took = _build(eng, context, tag, builder, network)
            note = ""
            if fail is not None and SYNTAX.search(dockerfile) and "docker/dockerfile" in fail.words:
                plain = SYNTAX.sub("", dockerfile)          # the engine's own frontend instead
                (context / "Dockerfile").write_text(plain)
                fail, took = _build(eng, context, tag, builder, network)
                if fail is not None and ("unknown instruction" in fail.words or "unknown flag" in fail.words):
                    return Outcome(None, "", outside="your # syntax= line asks for a Dockerfile frontend from Docker "
                                   f"Hub, which this engine cannot reach, and its own frontend refuses the file: "
                                   f"\"{fail.error}\"")
                note = (" (Your # syntax= line asks BuildKit to pull a frontend from Docker Hub, which this engine "
                        "cannot reach: it was built with the engine's own.)")
                dockerfile = plain
            if fail is not None:
                why = _outside(fail, dockerfile, bridge, eng)
                if why:
                    return Outcome(None, "", outside=why)
                return Outcome(False, f"It does not build ({name[builder]}, Docker {eng.facts.version}): "
                               f"{fail.text()}.", _hint(fail, dockerfile))
            found = _program(eng, tag, Path(tmp))
            if isinstance(found, Outcome):
                return found
            ran = _run(eng, tag, message)
            if ran is not None:
                return ran
            other = ""
            if builder == "buildkit":
                refused, _ = _build(eng, context, tag + "-legacy", "legacy", network)
                if refused is not None and not _outside(refused, dockerfile, bridge, eng):
                    other = f" The legacy builder (DOCKER_BUILDKIT=0) refuses this file: \"{refused.error}\"."
            return Outcome(True, f"Built with {name[builder]} on Docker {eng.facts.version} in {took:.0f} s; the "
                           f"image holds one program, {found}, and `docker run` prints the message the check put in "
                           f"message.h, so it was compiled from the context's hello.c.{other}{note}")
    finally:
        for ref in (tag, tag + "-legacy"):
            try:
                eng.remove(ref)
            except LabkitError:
                pass


def _hint(fail: Failure, dockerfile: str) -> str:
    words, step = fail.words.lower(), fail.step.lower()
    wrong = next((b for b in _bases(dockerfile) if misspelt_base(b)), None)
    if wrong:
        return f"{wrong} is not the lab's base: FROM {hello.BUILD_BASE}"
    if PULL.search(words) and "from" in (step or "from"):
        return "the registry has no such image: check the name and tag after FROM"
    missing = (re.findall(r"(?:^|: )([\w.+-]+): (?:command )?not found", fail.detail) or [None])[-1]
    if "unknown instruction" in words or "unknown flag" in words:
        if "<<" in dockerfile or "--link" in dockerfile or "--parents" in dockerfile:
            return ("here-documents (RUN <<EOF) and COPY --link need Dockerfile syntax 1.4+ (Docker 23 and later); "
                    "this engine's builder does not read them")
        return "check that line's instruction and flags"
    if "message.h" in words:
        return "COPY hello.c message.h /src/ (both, side by side) before compiling"
    if "copy --from" in step and ("no such file" in words or "not found" in words):
        return "the build stage never wrote that path: copy the path its compiler's -o names"
    if "not found" in words and "copy" in step:
        return "COPY names paths of the build context (hello.c, message.h) or of an earlier stage"
    if "must be a directory" in words:
        return "several sources need a destination folder ending in /: COPY hello.c message.h /src/"
    if "cannot find -lc" in words:
        return "a static link needs the static C library (libc6-dev, musl-dev, glibc-static)"
    if missing and "run" in step:
        return f"{missing} is not installed in the build stage: use what the base has (gcc, musl-gcc)"
    if "no such file or directory" in words and "run" in step:
        return "each RUN sees only what earlier steps put in the stage: COPY the sources before compiling them"
    return "read the step's own words above, fix that line, and check again"


#: What a failed start says -> why, and the fix.
RUN_FAULTS = (
    (re.compile(r'exec: "/bin/sh"'), "the command is in the shell form, which runs /bin/sh -c ..., and scratch has "
     "no shell", 'the exec form: ENTRYPOINT ["/hello"]'),
    (re.compile(r"unable to find (user|group)"), "the USER is a name, and scratch has no /etc/passwd to look it up in",
     "a number needs none: USER 65534"),
    (re.compile(r"permission denied"), "the program may not be executed by the image's user",
     "COPY --chmod=755, or a USER that may execute it"),
    (re.compile(r"no such file or directory|executable file not found"), "the command names a program that is "
     "not there", 'ENTRYPOINT ["/hello"], the path where COPY put it'),
)


def _run(eng, tag: str, message: bytes) -> Outcome | None:
    """None when ``docker run`` prints the message; else why not."""
    result = eng.run(tag, timeout=20)
    if result.error or result.exit_code != 0:
        said = result.error or f"exit status {result.exit_code}: {result.stderr.decode('utf-8', 'replace').strip()}"
        said = " ".join(said.split())[:300]
        why, fix = next(((w, f) for pattern, w, f in RUN_FAULTS if pattern.search(said)),
                        ("the program does not start", "a static program, in the exec form, runnable by its USER"))
        return Outcome(False, f"It builds, but `docker run` fails: {why} (\"{said}\").", fix)
    if result.stdout != message:
        shown = result.stdout.decode("utf-8", "replace").strip()[:120]
        return Outcome(False, f"It builds and runs, but prints {shown!r}, not the message the check put in the "
                       "context's message.h.",
                       "compile the context's hello.c (with its message.h) and ship that program")
    return None


def _program(eng, tag: str, tmp: Path) -> str | Outcome:
    """The one program the image holds (its path), or why that is not so."""
    saved = eng.save(tag, tmp / "image.tar")
    try:
        with Rootfs(saved) as fs:
            programs = [p for p, e in fs.nodes.items() if e.type == "file" and fs.read(p, 4) == b"\x7fELF"]
            objects = [p for p in programs if fs.read(p, 18)[16:18] in (b"\x01\x00", b"\x00\x01")]
            if len(programs) != 1:
                shown = ", ".join("/" + p for p in programs[:4])
                return Outcome(False, f"The image holds {len(programs)} ELF files ({shown}): "
                               "the exercise ships one static program alone.", "COPY --from=build only the program")
            extra = sorted("/" + p for p, e in fs.nodes.items() if e.type == "file" and p not in programs
                           and not p.startswith("etc/"))
            if extra:
                return Outcome(False, f"The image ships more than the program: {', '.join(extra[:4])}"
                               f"{' …' if len(extra) > 4 else ''}. The exercise ships the program alone.",
                               "COPY --from=build only the program's path, not its folder")
            if objects:
                return Outcome(False, f"/{objects[0]} is an object file (gcc -c), not a program: nothing linked it, "
                               "so the kernel cannot start it.", "compile and link in one go: gcc -static -o /hello "
                               "hello.c")
            binary = hello.describe(fs.file_path(programs[0]))
            glibc = b"GLIBC_" in fs.read(programs[0])    # GLIBC_TUNABLES, GLIBC_PRIVATE: GNU libc's own names
    except LabkitError as err:
        return Outcome(False, f"labkit could not read the built image: {err}")
    if not binary.static:
        return Outcome(False, f"It builds, but /{programs[0]} is dynamically linked: in scratch the kernel finds no "
                       f"{binary.interpreter} to load it, and `docker run` fails with \"no such file or directory\".",
                       "link it statically: -static")
    if not glibc:
        return Outcome(False, f"It builds and /{programs[0]} is static, but not linked with GNU libc (no GLIBC_ names "
                       "in it: musl-gcc, as the step's template does?). The exercise asks for the glibc-static hello.",
                       "gcc -static (the packages gcc and libc6-dev), not musl-gcc")
    return f"/{programs[0]} (static, GNU libc, {binary.size:,} bytes)"
