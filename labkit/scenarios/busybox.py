"""A busybox base image FROM scratch, and a second layer that deletes a file."""
from __future__ import annotations

from pathlib import Path

from labkit import oci
from labkit.scenarios.case import Case, Lab
from labkit.scenarios.describe import loaded_case

BUSYBOX = Path("/bin/busybox")
#: Applet links labkit makes itself (no ``busybox --install``): a small, fixed set.
APPLETS = ("cat", "echo", "env", "false", "head", "ls", "mkdir", "pwd", "rm", "sh",
           "true", "uname", "wc")
NOTES = b"".join(b"line %05d of a file the second layer deletes\n" % i for i in range(400))


def busybox_layer() -> list:
    """Notebook 4's base layer: busybox, its applet links, and ``/data/notes.txt``."""
    return _busybox_layer()


def _busybox_layer() -> list:
    entries = [oci.Entry.dir("bin"), oci.Entry.file("bin/busybox", source=BUSYBOX, mode=0o755)]
    entries += [oci.Entry.symlink(f"bin/{applet}", "busybox") for applet in APPLETS]
    entries += [oci.Entry.dir("data"), oci.Entry.file("data/notes.txt", NOTES, mode=0o644)]
    return entries


def busybox_whiteout(lab: Lab) -> dict[str, Case]:
    """A busybox base image FROM scratch, then a second layer that deletes a file."""
    if not BUSYBOX.is_file():
        reason = f"{BUSYBOX} is missing; install Debian's busybox-static"
        return {name: Case(builder="labkit", ok=False, error=reason) for name in ("base", "whiteout")}
    shell = ["/bin/sh", "-c", "echo hello from busybox; ls /data | wc -l"]
    base = [_busybox_layer()]
    images = {"base": oci.Image(base, cmd=shell),
              "whiteout": oci.Image(base + [[oci.Entry.whiteout("data/notes.txt")]], cmd=shell)}
    cases = {}
    for name, image in images.items():
        case, _ = loaded_case(lab, image, name)
        case.extra.update(busybox_size=BUSYBOX.stat().st_size, applets=list(APPLETS),
                          deleted="/data/notes.txt" if name == "whiteout" else None,
                          layer_sizes=[row["size"] for row in case.history])
        cases[name] = case
    return cases
