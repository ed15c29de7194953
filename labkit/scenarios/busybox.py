"""A busybox base image FROM scratch, and a second layer that deletes a file."""
from __future__ import annotations

from pathlib import Path

from labkit import machine, oci
from labkit.scenarios.case import NOT_HERE, Case, Lab
from labkit.scenarios.describe import loaded_case

#: Where Debian's busybox-static puts it (the one the recordings used).
BUSYBOX = Path("/bin/busybox")
#: Applet links labkit makes itself (no ``busybox --install``): a small, fixed set.
APPLETS = ("cat", "echo", "env", "false", "head", "ls", "mkdir", "pwd", "rm", "sh",
           "true", "uname", "wc")
NOTES = b"".join(b"line %05d of a file the second layer deletes\n" % i for i in range(400))


def busybox_layer(busybox: Path = BUSYBOX) -> list:
    """Notebook 4's base layer: busybox, its applet links, and ``/data/notes.txt``."""
    return _busybox_layer(busybox)


def _busybox_layer(busybox: Path = BUSYBOX) -> list:
    entries = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", source=busybox, mode=0o755)]
    entries += [oci.Entry.symlink(f"bin/{applet}", "busybox") for applet in APPLETS]
    entries += [oci.Entry.dir("data"), oci.Entry.file("data/notes.txt", NOTES, mode=0o644)]
    return entries


def busybox_whiteout(lab: Lab) -> dict[str, Case]:
    """A busybox base image FROM scratch, then a second layer that deletes a file.

    The busybox must be a static Linux one for the engine's architecture
    (``labkit.machine.busybox``); without one the cases are marked ``NOT_HERE``.
    """
    goal = machine.target(lab.engine)
    found = machine.busybox(goal.arch)
    if found.path is None:
        return {name: Case(builder="labkit", ok=False, error=found.reason, extra={NOT_HERE: found.reason})
                for name in ("base", "whiteout")}
    shell = ["/bin/sh", "-c", "echo hello from busybox; ls /data | wc -l"]
    base = [_busybox_layer(found.path)]
    images = {"base": oci.Image(base, cmd=shell, architecture=goal.oci_arch),
              "whiteout": oci.Image(base + [[oci.Entry.whiteout("data/notes.txt")]], cmd=shell,
                                    architecture=goal.oci_arch)}
    cases = {}
    for name, image in images.items():
        case, _ = loaded_case(lab, image, name, shown=("images", "history", "run"))
        case.extra.update(busybox_size=found.path.stat().st_size, applets=list(APPLETS),
                          deleted="/data/notes.txt" if name == "whiteout" else None,
                          layer_sizes=[row["size"] for row in case.history])
        cases[name] = case
    return cases
