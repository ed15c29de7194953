"""A real distribution: Debian bookworm minbase (made with mmdebstrap from this machine's
own apt sources, cached) with two labkit layers on top that white out, replace a folder
by a file and back, and hard-link. ``labkit.oci.extract`` must give what ``docker export``
of a container of it shows: type, mode, size, content, link target, hard-link groups,
date and owner of every path (as root).
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import need, need_tool
from fstree import differences, from_export, from_folder, implied_folders, undated, without_runtime
from imagewrap import wrap
from labkit import oci

pytestmark = [pytest.mark.tools, pytest.mark.engine]

SUITE = "bookworm"
MTIME = 1_700_000_000
FIELDS = ("type", "mode", "size", "sha", "link", "group", "mtime", "uid", "gid")


def apt_mirror() -> str:
    """The Debian archive this machine's apt reads (its first ``deb`` source that is not
    the security archive), from ``/etc/apt/sources.list.d/*.sources`` or ``sources.list``."""
    lists = Path("/etc/apt/sources.list.d")
    for path in sorted(lists.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if line.strip() and not line.startswith(("#", " ", "\t")) and ":" in line:
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split() and fields.get("uris") and not any(
                    s.endswith("-security") for s in fields.get("suites", "").split()):
                return fields["uris"].split()[0]
    for path in [Path("/etc/apt/sources.list"), *sorted(lists.glob("*.list"))]:
        for line in path.read_text().splitlines() if path.exists() else []:
            words = [w for w in line.partition("#")[0].split() if not w.startswith("[")]
            if len(words) >= 3 and words[0] == "deb" and not words[2].endswith("-security"):
                return words[1]
    need("tools", "no Debian archive in this machine's apt sources")


def debian_rootfs() -> Path:
    """``mmdebstrap --variant=minbase bookworm`` as a tarball, made once and cached."""
    cache = Path(os.environ.get("LABKIT_CACHE", Path.home() / ".cache" / "labkit")) / "rootfs"
    out = cache / f"debian-{SUITE}-minbase.tar"
    if out.exists():
        return out
    mmdebstrap = need_tool("mmdebstrap")
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f".{os.getpid()}.{out.name}"
    done = subprocess.run([mmdebstrap, "--variant=minbase", "--format=tar", "--quiet", SUITE, str(partial),
                           f"deb {apt_mirror()} {SUITE} main"],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        pytest.fail(f"mmdebstrap failed: {done.stderr[-2000:]}")
    partial.rename(out)
    return out


def _folders(*paths: str) -> list[oci.Entry]:
    return [oci.Entry.dir(p, mtime=MTIME) for p in paths]


def labkit_layers() -> list[list[oci.Entry]]:
    """Layer 2 whites out a file, a folder and (opaquely, after adding to it) a folder's
    content, replaces a folder by a file and a file by a folder, and hard-links; layer 3
    turns the file back into a folder and whites out one name of a hard-link group."""
    second = _folders("etc", "etc/apt", "etc/apt/apt.conf.d", "usr", "usr/share",
                      "usr/share/doc", "opt", "opt/labkit") + [
        oci.Entry.whiteout("etc/motd"),
        oci.Entry.whiteout("usr/share/doc/apt"),
        oci.Entry.file("etc/apt/apt.conf.d/+labkit.conf", b"# sorts before .wh..wh..opq\n",
                       mode=0o644, mtime=MTIME),
        oci.Entry.opaque("etc/apt/apt.conf.d"),
        oci.Entry.file("usr/share/doc/bash", b"a file where a folder was\n", mode=0o644, mtime=MTIME),
        oci.Entry.dir("etc/issue", mode=0o750, mtime=MTIME),
        oci.Entry.file("etc/issue/inside", b"a folder where a file was\n", mode=0o640, mtime=MTIME),
        oci.Entry.file("opt/labkit/data", b"one inode, three names\n", mode=0o4755, mtime=MTIME),
        oci.Entry.hardlink("opt/labkit/data-2", "opt/labkit/data", mode=0o4755, mtime=MTIME),
        oci.Entry.hardlink("opt/labkit/data-3", "opt/labkit/data", mode=0o4755, mtime=MTIME),
        oci.Entry.symlink("opt/labkit/sh", "/usr/bin/dash", mtime=MTIME),
        oci.Entry.dir("opt/labkit/ro", mode=0o555, mtime=MTIME),
        oci.Entry.file("opt/labkit/ro/kept", b"in a 0555 folder\n", mode=0o444, mtime=MTIME),
    ]
    third = _folders("usr", "usr/share", "usr/share/doc", "opt", "opt/labkit") + [
        oci.Entry.dir("usr/share/doc/bash", mode=0o755, mtime=MTIME + 1),
        oci.Entry.file("usr/share/doc/bash/back", b"a folder again\n", mode=0o644, mtime=MTIME + 1),
        oci.Entry.whiteout("opt/labkit/data-3"),
    ]
    return [second, third]


@pytest.fixture(scope="module")
def distro_image(tmp_path_factory) -> Path:
    started = time.monotonic()
    rootfs = debian_rootfs()
    print(f"\nrootfs {rootfs.stat().st_size:,} B ready in {time.monotonic() - started:.1f} s")
    layers = [rootfs] + [oci.layer_tar(layer) for layer in labkit_layers()]
    return wrap(layers, tmp_path_factory.mktemp("distro") / "debian.tar",
                tag="labkit-test/debian-minbase:1")


def test_extract_equals_docker_export(engine, distro_image, tmp_path):
    if os.geteuid() != 0:
        need("tools", "comparing owners, setuid bits and device nodes needs root")
    started = time.monotonic()
    engine.load(distro_image)
    try:
        export = engine.export("labkit-test/debian-minbase:1", tmp_path / "export.tar")
    finally:
        engine.remove("labkit-test/debian-minbase:1")
    engine_seconds = time.monotonic() - started
    started = time.monotonic()
    written = oci.extract(distro_image, tmp_path / "root")
    extract_seconds = time.monotonic() - started
    assert written.summary() == ""
    ours = from_folder(tmp_path / "root")
    implied = implied_folders(oci.inspect(distro_image))
    theirs = undated(without_runtime(from_export(export), set(ours)), implied)
    ours = undated(without_runtime(ours, set(ours)), implied)
    print(f"compared {len(ours):,} paths; engine load+export {engine_seconds:.1f} s, "
          f"labkit extract {extract_seconds:.1f} s")
    assert differences(ours, theirs, FIELDS) == []
    root = tmp_path / "root"
    assert os.readlink(root / "opt/labkit/sh") == "/usr/bin/dash"           # kept as written
    assert os.readlink(root / "usr/bin/awk").startswith("/")                 # as Debian wrote it
    assert (root / "usr/bin/su").stat().st_mode & 0o4000
    assert (root / "dev/null").is_char_device()
    assert (root / "opt/labkit/ro").stat().st_mode & 0o777 == 0o555
    assert (root / "usr/bin/perl5.36.0").samefile(root / "usr/bin/perl")
    assert sorted(os.listdir(root / "etc/apt/apt.conf.d")) == ["+labkit.conf"]


def test_not_root_lists_what_it_cannot_keep_in_one_line(distro_image, tmp_path):
    written = oci.extract(distro_image, tmp_path / "root", as_root=False)
    summary = written.summary()
    assert "\n" not in summary
    assert "device nodes (not root): 8 (/dev/console" in summary
    assert "setuid/setgid bits (not root)" in summary and "/usr/bin/chage" in summary
    assert not (tmp_path / "root" / "dev" / "console").exists()
    assert not (tmp_path / "root" / "usr/bin/su").stat().st_mode & 0o6000


def test_inspect_lists_what_extract_writes(distro_image, tmp_path):
    info = oci.inspect(distro_image)
    oci.extract(distro_image, tmp_path / "root")
    on_disk = {p: r.size for p, r in from_folder(tmp_path / "root").items() if r.type == "file"}
    assert info.files == on_disk
    assert "usr/bin/perl5.36.0" in info.files          # a ./-written hard link target
