"""Where this setup differs from the recordings, one line each, and what that changes.

The recordings (``data/observations/``) come from x86-64 Linux engines run by the fleet
(``labkit fleet``): Docker 20.10, 26.1 and 28.5, the classic image store and, for 28.5,
also the containerd store; the lessons' text shows the reference, 20.10.24 with the
classic store, on a Linux host. Each line says what differs, which lesson values will
therefore differ from the text, and which will not.

Example:
    >>> from labkit import host
    >>> lines = differences({"arch": "arm64", "version": "29.1.3", "desktop": True,
    ...                      "containerd_store": True}, host.Host("darwin", "aarch64"))
    >>> [line.split(":")[0] for line in lines]
    ['arm64 engine', 'Docker Desktop', 'containerd image store', 'Docker 29', 'macOS host']
"""
from __future__ import annotations

from labkit import fleet, host as host_mod
from labkit.machine.target import _facts

#: The architecture every recording was made on.
RECORDED_ARCH = "amd64"
#: What stays as the text says whatever the architecture.
_SAME = "layer counts, the empty layer's diff_id, the tar-header story and what the programs print do not"


#: What a rootless engine changes for the lessons (labkit.classroom.rootless).
ROOTLESS = ("rootless engine: it runs as your own user, in a user namespace -- files a container's "
            "root makes are yours on this machine (container uids 1-65535 map to a range of ids of "
            "yours), --privileged gives nothing on the machine, and the engine has a network of its "
            "own (it reaches your registry on 127.0.0.1; containers get none) -- image IDs, layers and "
            "the programs' output are as in the text")


def _major(version: str) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def recorded_majors() -> list[int]:
    """The Docker major versions the fleet ran for the recordings (``[20, 26, 28]``).

    Example:
        >>> recorded_majors()
        [20, 26, 28]
    """
    return sorted({_major(spec.version) for spec in fleet.catalog() if spec.version and spec.engine == "docker"})


def covered(major: int, recorded: list[int] | None = None) -> bool:
    """True when Docker ``major`` was run by the fleet, or lies between two recorded
    majors that write the same layer tars (27, between 26 and 28); False for 23-25 (the
    tar headers changed there, unmeasured) and for 29 and later.

    Example:
        >>> [m for m in range(19, 31) if covered(m)]
        [20, 26, 27, 28]
    """
    recorded = recorded if recorded is not None else recorded_majors()
    if major in recorded:
        return True
    return any(lo < major < hi and _tar_era(lo) == _tar_era(hi)
               for lo, hi in zip(recorded, recorded[1:]))


def _tar_era(major: int) -> str:
    return "20.10" if major < 23 else "modern"           # as EngineFacts.tar_era


def podman_line(facts: dict) -> str:
    """What differs from the text on a Podman engine (measured on Podman 4.3.1 and 5.4.2;
    docs/podman.md).

    Example:
        >>> print(podman_line({"version": "5.4.2"}).split(" -- ")[0])
        Podman 5.4.2: not Docker, though it answers Docker's API
    """
    headers = ("its 4.x layer tars keep 20.10's type bits without owner names, so the hello "
               "layer's diff_id is neither Docker's" if _major(facts.get("version") or "0") < 5
               else "its layer tars are Docker 26+'s byte for byte")
    return (f"Podman {facts.get('version')}: not Docker, though it answers Docker's API -- "
            "commands are podman's (loaded images are named localhost/NAME), builds are "
            "Buildah's (no BuildKit), image IDs, sizes and history rows differ from the text "
            f"and the pre-1.10 layout does not load; {headers}")


def differences(facts=None, host: host_mod.Host | None = None) -> list[str]:
    """One line per way this setup differs from the recordings (``[]`` when none).

    Args:
        facts: the engine (``Engine``, ``EngineFacts``, their dict, or a
            ``labkit.machine.Report``); None when no engine answered.
        host: the notebook's host (default: ``labkit.host.current()``, which honours
            ``LABKIT_HOST_PLATFORM``).

    Example:
        >>> differences({"arch": "amd64", "version": "20.10.24+dfsg1"}, host_mod.Host("linux", "x86_64"))
        []
    """
    if host is None and hasattr(facts, "host") and isinstance(facts.host, dict):
        host = host_mod.Host(**facts.host)                        # a Report
    if hasattr(facts, "mode_reason"):
        facts = facts.engine
    here = host or host_mod.current()
    facts = _facts(facts)
    lines = []
    arch = host_mod.oci_arch((facts or {}).get("arch") or here.arch)
    if arch != RECORDED_ARCH:
        whose = "engine" if facts else "host, no engine"
        lines.append(f"{arch} {whose}: labkit builds for {arch}, the recordings ran on {RECORDED_ARCH} -- "
                     f"image IDs, the hello layer's diff_id and program sizes differ from the text; {_SAME}")
    if facts and facts.get("desktop"):
        lines.append("Docker Desktop: the engine runs in a Linux VM, not on this computer, and runs "
                     "other architectures' images by emulation (a wrong-architecture image still "
                     "runs: check its Architecture) -- lesson values are as for its engine")
    if facts and facts.get("rootless"):
        lines.append(ROOTLESS)
    if facts and facts.get("containerd_store"):
        lines.append("containerd image store: image IDs are manifest digests and sizes count the "
                     "compressed blobs -- the image IDs and sizes differ from the text (classic "
                     "store); the diff_ids, layer counts and config IDs do not")
    major = _major((facts or {}).get("version") or "0")
    if facts and facts.get("family") == "podman":
        lines.append(podman_line(facts))
    elif facts and major and not covered(major):
        runs = ", ".join(str(m) for m in recorded_majors())
        floor = " (it refuses clients older than API 1.44 up to 29.2)" if major == 29 else ""
        lines.append(f"Docker {major}: never run by the fleet (recorded: {runs}){floor} -- "
                     f"expect the 26+ layer tars; any value may differ from every recording")
    if not here.linux:
        lines.append(f"{here.name} host: the notebook runs outside the engine's Linux, so programs "
                     "are not run here, and compiled hellos and busybox come from the recordings "
                     "(labkit still builds the tiny hello and its images) -- outputs of "
                     "'run here' and busybox cells differ; IDs of labkit's images do not")
    return lines
