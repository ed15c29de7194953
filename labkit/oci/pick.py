"""Which image of a file: named references between images, architectures between platforms.

A ``docker save`` of two images lists both in ``manifest.json``; an OCI layout names
each in ``index.json`` (``org.opencontainers.image.ref.name``, and Docker 25+ and
containerd also ``io.containerd.image.name``). labkit never picks between images
silently: with more than one, a reference must say which (``PATH:REF`` on the command
line, ``ref=`` in Python), and the error lists what is there.

A multi-platform image is an index with one manifest per platform; a containerd-store
``docker save`` of a pulled image keeps the index but only the platforms it pulled.
Between platforms labkit takes one whose blobs are all there, preferring this
machine's architecture, and lists the absent ones (not an error).

Example:
    >>> pick = choose([Candidate(["a:1"], ["sha256:" + "a" * 64], None),
    ...                Candidate(["b:2"], ["sha256:" + "b" * 64], None)], "b:2", "two.tar")
    >>> pick.names
    ['b:2']
"""
from __future__ import annotations

import dataclasses
import platform as _platform
import re

from labkit.errors import BadImage
from labkit.oci.refs import split_tag

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
#: ``platform.machine()`` -> the OCI ``architecture`` (GOARCH) that runs on it.
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
          "armv7l": "arm", "armv6l": "arm", "i386": "386", "i686": "386",
          "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
_HEX = re.compile(r"(?:sha256:)?([0-9a-f]{4,64})")


def machine_arch(machine: str | None = None) -> str:
    """This machine's architecture as OCI names it.

    Example:
        >>> machine_arch("aarch64"), machine_arch("x86_64")
        ('arm64', 'amd64')
    """
    machine = (machine if machine is not None else _platform.machine()).lower()
    return ARCHES.get(machine, machine)


def normalize(name: str) -> str:
    """A reference as Docker would resolve it, to compare names written differently.

    Example:
        >>> normalize("busybox") == normalize("docker.io/library/busybox:latest")
        True
    """
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if "@" in name:
        return name
    return ":".join(split_tag(name))


def short_name(name: str) -> str:
    """``docker.io/library/busybox:latest`` -> ``busybox:latest`` (as ``docker images``)."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclasses.dataclass
class Candidate:
    """One image of a file: its names, the digests that identify it, and where it is
    (a ``manifest.json`` entry, index descriptors, or a v1 layer id)."""

    names: list[str]
    ids: list[str]
    item: object

    def label(self) -> str:
        """How the error lists it: its names, else its short digest."""
        return ", ".join(self.names) or (self.ids[0][:19] if self.ids else "?")


def choose(candidates: list[Candidate], ref: str | None, where: str) -> Candidate:
    """The candidate ``ref`` names (a name, or a digest or its first hex digits), or the
    only one there is.

    Raises:
        BadImage: no image, several and no ``ref``, or none that ``ref`` names.
    """
    listing = "; ".join(c.label() for c in candidates[:20]) + (" …" if len(candidates) > 20 else "")
    if not candidates:
        raise BadImage(f"{where} holds no image")
    if ref is None:
        if len(candidates) == 1:
            return candidates[0]
        first = next((c.names[0] for c in candidates if c.names), candidates[0].label())
        raise BadImage(f"{where} holds {len(candidates)} images: {listing}",
                       hint=f"say which: labkit inspect {where}:{first} (or --ref {first}; "
                            f"in Python ref={first!r})")
    wanted = normalize(ref)
    found = [c for c in candidates if wanted in {normalize(n) for n in c.names}]
    digits = _HEX.fullmatch(ref)
    if not found and digits:
        found = [c for c in candidates
                 if any(i.removeprefix("sha256:").startswith(digits.group(1)) for i in c.ids)]
    if len(found) == 1:
        return found[0]
    if found:
        raise BadImage(f"{where}: {ref[:80]!r} names {len(found)} images: "
                       + "; ".join(c.label() for c in found[:20]), hint="give more of the digest")
    raise BadImage(f"{where} holds no image {ref[:80]!r}; it holds: {listing}",
                   hint="give one of these names, or a digest")


def descriptor_names(descriptor: dict) -> list[str]:
    """The names an index entry carries (containerd's full name first)."""
    notes = descriptor.get("annotations")
    notes = notes if isinstance(notes, dict) else {}
    return [n for n in (notes.get(CONTAINERD_NAME), notes.get(REF_NAME)) if isinstance(n, str) and n]


def platform_of(descriptor: dict) -> str | None:
    """``linux/arm64/v8`` from a descriptor's ``platform`` (``None`` when it has none)."""
    found = descriptor.get("platform")
    if not isinstance(found, dict):
        return None
    parts = [found.get("os"), found.get("architecture"), found.get("variant")]
    return "/".join(str(p) for p in parts if isinstance(p, str) and p) or None


def is_attestation(descriptor: dict) -> bool:
    """BuildKit's provenance/SBOM entries (``unknown/unknown``): not a platform to run."""
    notes = descriptor.get("annotations")
    kind = notes.get("vnd.docker.reference.type") if isinstance(notes, dict) else None
    return kind == "attestation-manifest" or platform_of(descriptor) == "unknown/unknown"


def oci_candidates(manifests: list[dict]) -> list[Candidate]:
    """The images of an ``index.json``: entries that share a digest or a name are one
    image, and so are unnamed entries that each name a platform (one image's platforms)."""
    groups: list[Candidate] = []
    for descriptor in manifests:
        names = descriptor_names(descriptor)
        digest = str(descriptor.get("digest"))
        unnamed_platform = not names and platform_of(descriptor) is not None
        for group in groups:
            if digest in group.ids or set(names) & set(group.names) or (
                    unnamed_platform and not group.names
                    and all(platform_of(d) for d in group.item)):
                group.ids.append(digest)
                group.names += [n for n in names if n not in group.names]
                group.item.append(descriptor)
                break
        else:
            groups.append(Candidate(list(names), [digest], [descriptor]))
    for group in groups:
        full = [short_name(n) for n in group.names if "/" in n or ":" in n]
        group.names = full or group.names
    return groups


def platform_order(descriptors: list[dict], arch: str | None = None) -> list[dict]:
    """Platform entries to try, this machine's architecture (on Linux) first, then the
    others in the index's order; attestations left out.

    Example:
        >>> entries = [{"platform": {"os": "linux", "architecture": a}} for a in ("amd64", "arm64")]
        >>> [platform_of(d) for d in platform_order(entries, "arm64")]
        ['linux/arm64', 'linux/amd64']
    """
    arch = arch or machine_arch()
    usable = [d for d in descriptors if not is_attestation(d)]

    def mine(descriptor: dict) -> bool:
        found = descriptor.get("platform")
        return isinstance(found, dict) and found.get("architecture") == arch \
            and found.get("os", "linux") == "linux"

    return sorted(usable, key=lambda d: not mine(d))
