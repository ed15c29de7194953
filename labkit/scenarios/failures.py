"""Why a real program fails in a FROM scratch image: each failure, run for real, with the
exact message the engine's Docker version prints.

Two scenarios: ``scratch-exec`` (the kernel cannot start the program: a dynamically
linked one, one for another architecture, one without the exec bit) and ``scratch-user``
(``USER nobody`` with and without an ``/etc/passwd`` in the image, and ``USER 65534``).
Every case keeps its docker commands (``commands``) and puts the one that shows the
lesson in ``extra``: ``command``, ``exit status`` and ``message`` (its output on one line).

Example:
    >>> one_line("docker: Error response from daemon: x.\\n\\nRun 'docker run --help'\\n")
    "docker: Error response from daemon: x. / Run 'docker run --help'"
"""
from __future__ import annotations

import re
import shutil
from typing import Sequence

from labkit import hello, oci
from labkit.engine.commands import CommandRun, varying_spans
from labkit.errors import EngineError, LabkitError
from labkit.scenarios.busybox import BUSYBOX
from labkit.scenarios.case import NOT_HERE, Case, Lab
from labkit.scenarios.describe import load_image

#: ``/etc/passwd`` for the image that knows ``nobody``: Debian's uid and gid 65534.
PASSWD = (b"root:x:0:0:root:/root:/sbin/nologin\n"
          b"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")
#: ``/etc/group`` to go with it.
GROUP = b"root:x:0:\nnogroup:x:65534:\n"


def one_line(output: str) -> str:
    """A command's output on one line: blank lines dropped, the others joined by `` / ``."""
    return " / ".join(line.strip() for line in output.splitlines() if line.strip())


def steady(run: CommandRun) -> str:
    """``run.output`` without the lines it prints only sometimes (see
    ``labkit.engine.commands.SOMETIMES``): what every run of it prints.

    Example:
        >>> steady(CommandRun("docker run x", 125, 'no user\\n'
        ...        'time="2026-11-27T10:54:37Z" level=error msg="error waiting for container: x"\\n'))
        'no user\\n'
    """
    out, last = [], 0
    for start, end, kind in varying_spans(run):
        if kind == "time":
            out.append(run.output[last:start])
            last = end
    return "".join(out) + run.output[last:]


def run_args(ref: str, *command: str, env: Sequence[str] = ()) -> list[str]:
    """``docker run`` as the lab types it: removed afterwards, no network.

    Example:
        >>> run_args("lab/x:y", "/busybox", "id", env=["TZ=UTC"])
        ['run', '--rm', '--network', 'none', '-e', 'TZ=UTC', 'lab/x:y', '/busybox', 'id']
    """
    return ["run", "--rm", "--network", "none", *[a for e in env for a in ("-e", e)], ref, *command]


#: Podman names the container whose start failed ("preparing container <64 hex> for
#: attach"), a new ID every run: the message keeps ``<id>`` in its place.
_FAILED_CONTAINER = re.compile(r"(?<=container )[0-9a-f]{64}(?= for attach)")


def outcome(lab: Lab, case: str, shown: CommandRun, **extra) -> Case:
    """The case: its transcript, and the command that shows the lesson with its result."""
    message = _FAILED_CONTAINER.sub("<id>", one_line(steady(shown)))
    return Case(builder="labkit", commands=[r.to_dict() for r in lab.transcript(case)],
                extra={"command": shown.command, "exit status": shown.exit_code,
                       "message": message, **extra})


def missing(lab: Lab, case: str, reason: str, not_here: bool = False) -> Case:
    """A case that could not be tried here, and why (what to install). ``not_here``: a tool
    this machine lacks (a compiler, busybox), so the lesson shows the case's recording."""
    return Case(builder="labkit", ok=False, error=reason, extra={NOT_HERE: reason} if not_here else {},
                commands=[r.to_dict() for r in lab.transcript(case)])


def runtime_version(engine) -> str | None:
    """The OCI runtime that starts the engine's containers (``runc 1.1.5+ds1``): the
    start-up messages are its words, so they follow its version. ``None`` when the
    engine does not say (``/version`` ``Components``: Docker's ``runc``, Podman's
    ``OCI Runtime (runc)``; what ``docker version`` lists)."""
    return engine.facts.runtime or None


# --- scratch-exec -------------------------------------------------------------------------
def _dynamic(lab: Lab) -> Case:
    reason = hello.available().get("dynamic")
    if reason:
        return missing(lab, "dynamic", reason, not_here=True)
    try:
        binary = hello.build("dynamic", lab.workdir / "hello-dynamic")
    except LabkitError as err:
        return missing(lab, "dynamic", str(err))
    info = hello.describe(binary)
    if shutil.which("file"):                 # the ELF header names the interpreter it needs
        lab.local("dynamic", ["file", binary.name])
    image = oci.Image([[oci.Entry.file("hello", source=binary, mode=0o755)]], cmd=["/hello"])
    tag = load_image(lab, "dynamic", image)
    run = lab.docker("dynamic", run_args(tag))
    return outcome(lab, "dynamic", run, interpreter=info.interpreter, static=info.static)


def _other_arch(lab: Lab) -> Case:
    program = hello.tiny_elf(hello.DEFAULT_MESSAGE, arch="aarch64")
    image = oci.Image([[oci.Entry.file("hello", program, mode=0o755)]], cmd=["/hello"],
                      architecture="arm64")
    tag = load_image(lab, "other-arch", image)
    engine_arch = lab.docker("other-arch", ["version", "--format", "{{.Server.Arch}}"])
    image_arch = lab.docker("other-arch", ["image", "inspect", "--format", "{{.Architecture}}", tag])
    run = lab.docker("other-arch", run_args(tag))
    return outcome(lab, "other-arch", run, engine_arch=engine_arch.output.strip().split("/")[-1],
                   image_arch=image_arch.output.strip(), program_arch="aarch64",
                   emulated=run.exit_code == 0)


def _no_exec_bit(lab: Lab) -> Case:
    program = hello.tiny_elf(hello.DEFAULT_MESSAGE)
    image = oci.Image([[oci.Entry.file("hello", program, mode=0o644)]], cmd=["/hello"])
    tag = load_image(lab, "no-exec-bit", image)
    run = lab.docker("no-exec-bit", run_args(tag))
    return outcome(lab, "no-exec-bit", run, mode="0644")


def scratch_exec(lab: Lab) -> dict[str, Case]:
    """Three programs the kernel will not start in scratch: dynamically linked (its
    interpreter is missing), built for aarch64 (on an amd64 engine without emulation),
    and a file without the exec bit."""
    cases = {}
    for name, make in (("dynamic", _dynamic), ("other-arch", _other_arch),
                       ("no-exec-bit", _no_exec_bit)):
        try:
            cases[name] = make(lab)
        except EngineError as err:
            cases[name] = missing(lab, name, err.message)
    runtime = runtime_version(lab.engine)
    for case in cases.values():
        case.extra["runtime"] = runtime
    return cases


# --- scratch-user -------------------------------------------------------------------------
def busybox_entries() -> list[oci.Entry]:
    """Debian's static busybox as ``/busybox`` (one program, many commands: ``/busybox id``)."""
    return [oci.Entry.file("busybox", source=BUSYBOX, mode=0o755)]


def user_images() -> dict[str, oci.Image]:
    """The three ``USER`` cases, each running ``/busybox id``.

    Example:
        >>> {name: image.user for name, image in user_images().items()}  # doctest: +SKIP
        {'user-nobody': 'nobody', 'user-65534': '65534', 'user-passwd': 'nobody'}
    """
    box = busybox_entries()
    accounts = [oci.Entry.dir("etc"), oci.Entry.file("etc/group", GROUP, mode=0o644),
                oci.Entry.file("etc/passwd", PASSWD, mode=0o644)]
    return {"user-nobody": oci.Image([box], cmd=["/busybox", "id"], user="nobody"),
            "user-65534": oci.Image([box], cmd=["/busybox", "id"], user="65534"),
            "user-passwd": oci.Image([box + accounts], cmd=["/busybox", "id"], user="nobody")}


def scratch_user(lab: Lab) -> dict[str, Case]:
    """``USER nobody`` without ``/etc/passwd`` (the runtime cannot find the name),
    ``USER 65534`` (a number needs no lookup) and ``USER nobody`` with ``/etc/passwd``
    and ``/etc/group`` written into the image."""
    if not BUSYBOX.is_file():
        reason = f"{BUSYBOX} is missing: apt-get install busybox-static"
        return {name: missing(lab, name, reason, not_here=True) for name in ("user-nobody", "user-65534", "user-passwd")}
    cases = {}
    for name, image in user_images().items():
        try:
            tag = load_image(lab, name, image)
        except EngineError as err:
            cases[name] = missing(lab, name, err.message)
            continue
        if name == "user-nobody":
            lab.docker(name, ["image", "inspect", "--format", "{{.Config.User}}", tag])
        run = lab.docker(name, run_args(tag))
        cases[name] = outcome(lab, name, run, user=image.user)
    return cases
