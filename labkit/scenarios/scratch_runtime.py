"""What a FROM scratch container lacks, and what the runtime adds although the image
has none of it: scenario ``scratch-runtime``, with Debian's static busybox as ``/busybox``.

Cases: ``not-there`` (no ``/tmp``, no CA certificates, no time zone data), ``timezone``
(a zone name without its data, then with it), ``container`` (a long-running busybox:
``docker exec … sh`` fails, ``ls`` shows what the runtime mounted and wrote, ``docker
export`` against ``docker save``) and ``static-nss`` (a static glibc program calling
``getpwnam``: the linker's warning, then what it finds in scratch).

Example:
    >>> container_name("scratch-runtime")
    'lab-scratch-runtime'
"""
from __future__ import annotations

import shutil
from pathlib import Path

from labkit import hello, oci
from labkit.errors import EngineError
from labkit.scenarios.busybox import BUSYBOX
from labkit.scenarios.case import Case, Lab, namespace
from labkit.scenarios.describe import load_image
from labkit.scenarios.failures import (PASSWD, busybox_entries, missing, one_line,
                                      outcome, run_args, steady)

#: Where programs look for time zone data, and the zone the lesson asks for.
ZONEINFO = Path("/usr/share/zoneinfo")
ZONE = "Europe/Paris"
#: ``date`` at the epoch in that zone: 01:00 CET with the zone's data, 00:00 without.
DATE_AT_EPOCH = ["/busybox", "date", "-d", "@0", "+%H:%M %Z"]
#: How long the container that ``docker exec`` talks to keeps running (it is removed
#: as soon as the case is done).
SLEEP_SECONDS = "120"
#: A tiny C program that looks up a user through glibc's NSS (name service switch).
GETPWNAM_C = r"""#include <pwd.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "nobody";
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        printf("getpwnam(\"%s\"): not found\n", name);
        return 1;
    }
    printf("getpwnam(\"%s\"): uid %u, home %s\n", name, (unsigned) pw->pw_uid, pw->pw_dir);
    return 0;
}
"""
#: The compiler commands, as typed (in the case's folder): compile, then link statically.
GCC_STEPS = (["gcc", "-Os", "-c", "getpw.c"], ["gcc", "-static", "-s", "-o", "getpw", "getpw.o"])
#: An NSS service that is a shared library (``libnss_compat.so.2``), unlike ``files``.
NSSWITCH_COMPAT = b"passwd: compat\n"


def container_name(scenario: str) -> str:
    """The name of the scenario's long-running container: ``<namespace>-<scenario>``."""
    return f"{namespace()}-{scenario}"


def _not_there(lab: Lab, box: str) -> Case:
    run = lab.docker("not-there", run_args(box, "/busybox", "ls", "/tmp", "/etc/ssl/certs",
                                           str(ZONEINFO)))
    return outcome(lab, "not-there", run)


def _timezone(lab: Lab, box: str) -> Case:
    run = lab.docker("timezone", run_args(box, *DATE_AT_EPOCH, env=[f"TZ={ZONE}"]))
    data = ZONEINFO / ZONE
    if not data.is_file():
        return outcome(lab, "timezone", run, with_zone_data=None,
                       why=f"{data} is missing here; install Debian's tzdata")
    parts = ZONE.split("/")
    folders = ["usr", "usr/share", "usr/share/zoneinfo"]
    folders += ["usr/share/zoneinfo/" + "/".join(parts[:i]) for i in range(1, len(parts))]
    image = oci.Image([busybox_entries() + [oci.Entry.dir(f) for f in folders]
                       + [oci.Entry.file(f"usr/share/zoneinfo/{ZONE}", source=data, mode=0o644)]])
    tag = load_image(lab, "timezone", image, "with-zone-data")
    fixed = lab.docker("timezone", run_args(tag, *DATE_AT_EPOCH, env=[f"TZ={ZONE}"]))
    return outcome(lab, "timezone", run, with_zone_data=one_line(steady(fixed)))


def _container(lab: Lab, box: str) -> Case:
    name = container_name(lab.scenario)
    lab.engine.docker(["rm", "-f", name])            # a leftover of an interrupted run
    try:
        lab.docker("container", ["run", "-d", "--network", "none", "--name", name, box,
                                 "/busybox", "sleep", SLEEP_SECONDS])
        shell = lab.docker("container", ["exec", name, "sh"])
        lab.docker("container", ["exec", name, "/busybox", "ls", "-a", "/", "/etc", "/dev"])
        lab.docker("container", ["exec", name, "/busybox", "cat", "/etc/hosts"])
        if shutil.which("tar"):
            lab.docker("container", ["export", name], pipe=["tar", "-t"])
            lab.docker("container", ["save", box], pipe=["tar", "-t"])
    finally:
        lab.docker("container", ["rm", "-f", name])
    return outcome(lab, "container", shell)


def _static_nss(lab: Lab) -> Case:
    reason = hello.available().get("glibc-static")
    if reason:
        return missing(lab, "static-nss", reason, not_here=True)
    (lab.workdir / "getpw.c").write_text(GETPWNAM_C)
    for argv in GCC_STEPS:
        built = lab.local("static-nss", argv)
        if built.exit_code != 0:
            return missing(lab, "static-nss", f"{built.command} failed: {one_line(built.output)}")
    program = oci.Entry.file("getpw", source=lab.workdir / "getpw", mode=0o755)
    files = [oci.Entry.dir("etc"), oci.Entry.file("etc/passwd", PASSWD, mode=0o644)]
    compat = [oci.Entry.file("etc/nsswitch.conf", NSSWITCH_COMPAT, mode=0o644)]
    tag = load_image(lab, "static-nss", oci.Image([files + [program]], cmd=["/getpw"]))
    found = lab.docker("static-nss", run_args(tag))
    tag = load_image(lab, "static-nss", oci.Image([files + compat + [program]], cmd=["/getpw"]),
               "static-nss-compat")
    lost = lab.docker("static-nss", run_args(tag))
    warning = next((ln.split("warning: ", 1)[1] for ln in built.output.splitlines()
                    if "warning: " in ln), None)       # the link step's
    return outcome(lab, "static-nss", found, linker_warning=warning,
                   with_compat=one_line(steady(lost)))


def scratch_runtime(lab: Lab) -> dict[str, Case]:
    """What a scratch container has and lacks at run time (see the module docstring)."""
    names = ("not-there", "timezone", "container", "static-nss")
    if not BUSYBOX.is_file():
        reason = f"{BUSYBOX} is missing: apt-get install busybox-static"
        return {name: missing(lab, name, reason, not_here=True) for name in names}
    try:
        box = load_image(lab, "not-there", oci.Image([busybox_entries()], cmd=["/busybox", "sleep", SLEEP_SECONDS]),
                   "busybox")
    except EngineError as err:
        return {name: missing(lab, name, err.message) for name in names}
    cases = {}
    for name, make in (("not-there", lambda: _not_there(lab, box)), ("timezone", lambda: _timezone(lab, box)),
                       ("container", lambda: _container(lab, box)), ("static-nss", lambda: _static_nss(lab))):
        try:
            cases[name] = make()
        except EngineError as err:
            cases[name] = missing(lab, name, err.message)
    return cases
