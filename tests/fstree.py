"""Test helper: a root filesystem as comparable rows, from a ``docker export`` tar or a folder.

``from_export(tar)`` reads the tar with Python's ``tarfile`` (not labkit's reader: an
independent reading of what Docker wrote); ``from_folder(root)`` walks what
``labkit.oci.extract`` wrote, never following a link. Both give path -> ``Row``; hard
links become the same row as their target, with ``group`` naming the group.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import tarfile
from pathlib import Path

#: What the runtime adds to every container (docker export shows it, the image has none).
RUNTIME = {".dockerenv", "etc/hosts", "etc/hostname", "etc/resolv.conf"}
RUNTIME_TREES = ("dev", "proc", "sys")
#: Folders whose date the runtime changes by adding the above.
RUNTIME_FOLDERS = {"", "etc"}


@dataclasses.dataclass(frozen=True)
class Row:
    type: str
    mode: int
    size: int
    link: str
    mtime: int
    uid: int
    gid: int
    sha: str
    group: str = ""


_TAR_TYPES = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
              tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block",
              tarfile.FIFOTYPE: "fifo"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def from_export(tar: Path) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    links: list[tuple[str, str]] = []
    with tarfile.open(tar) as tf:
        for m in tf:
            path = os.path.normpath(m.name).lstrip("/")
            path = "" if path == "." else path
            if m.islnk():
                links.append((path, os.path.normpath(m.linkname).lstrip("/")))
                continue
            data = tf.extractfile(m).read() if m.isreg() else b""
            dev = f"{m.devmajor},{m.devminor}" if m.ischr() or m.isblk() else ""
            rows[path] = Row(_TAR_TYPES.get(m.type, "other"), m.mode & 0o7777,
                             m.size if m.isreg() else 0, m.linkname if m.issym() else dev,
                             int(m.mtime // 1), m.uid, m.gid, _sha(data) if m.isreg() else "")
    groups: dict[str, set[str]] = {}
    for path, target in links:
        groups.setdefault(target, {target}).add(path)
    for target, members in groups.items():
        name = min(members)
        for path in members:
            rows[path] = dataclasses.replace(rows[target], group=name)
    return rows


def from_folder(root: Path) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    inodes: dict[tuple[int, int], list[str]] = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            host = os.path.join(top, name)
            path = os.path.relpath(host, root)
            st = os.lstat(host)
            kind = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink",
                    stat.S_IFCHR: "char", stat.S_IFBLK: "block", stat.S_IFIFO: "fifo"}.get(
                stat.S_IFMT(st.st_mode), "other")
            link = os.readlink(host) if kind == "symlink" else (
                f"{os.major(st.st_rdev)},{os.minor(st.st_rdev)}" if kind in ("char", "block") else "")
            sha = ""
            if kind == "file":
                with open(host, "rb") as f:
                    sha = _sha(f.read())
            rows[path] = Row(kind, st.st_mode & 0o7777, st.st_size if kind == "file" else 0,
                             link, int(st.st_mtime // 1), st.st_uid, st.st_gid, sha)
            if kind != "dir" and st.st_nlink > 1:
                inodes.setdefault((st.st_dev, st.st_ino), []).append(path)
    for members in inodes.values():
        for path in members:
            rows[path] = dataclasses.replace(rows[path], group=min(members))
    return rows


def regular_files(root: Path) -> dict[str, int]:
    """path -> size of every regular file below ``root`` (hard links each by their own
    path), links never followed: what ``labkit.oci.inspect(...).files`` should say."""
    found = {}
    for top, _, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(top, name))
            if stat.S_ISREG(st.st_mode):
                found[os.path.relpath(os.path.join(top, name), root)] = st.st_size
    return found


def without_runtime(rows: dict[str, Row], image_has: set[str] = frozenset()) -> dict[str, Row]:
    """``rows`` less what the runtime adds (and ``/etc``, ``etc/mtab`` where the image has none),
    with the dates of the folders holding them set to 0."""
    added = RUNTIME | ({"etc", "etc/mtab"} - set(image_has))
    kept = {p: r for p, r in rows.items()
            if p not in added and p.split("/")[0] not in RUNTIME_TREES and p != ""}
    for path in RUNTIME_FOLDERS & set(kept):
        kept[path] = dataclasses.replace(kept[path], mtime=0)
    return kept


def differences(ours: dict[str, Row], theirs: dict[str, Row], fields: tuple[str, ...]) -> list[str]:
    """Lines naming every path where ``fields`` differ (empty: the same)."""
    lines = []
    for path in sorted(set(ours) | set(theirs)):
        a, b = ours.get(path), theirs.get(path)
        if a is None or b is None:
            lines.append(f"/{path}: {'only docker' if a is None else 'only labkit'}")
            continue
        diff = [f"{f} {getattr(a, f)!r} != {getattr(b, f)!r}" for f in fields
                if getattr(a, f) != getattr(b, f)]
        if diff:
            lines.append(f"/{path}: " + ", ".join(diff))
    return lines


def implied_folders(info) -> set[str]:
    """Folders of an ``ImageInfo`` that no layer names: their date is the time of unpacking."""
    named = {e.path for layer in info.layers for e in layer.entries if e.type == "dir"}
    return {p for layer in info.layers for e in layer.entries
            for p in _parents(e.path) if p not in named}


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def undated(rows: dict[str, Row], paths: set[str]) -> dict[str, Row]:
    """``rows`` with the date of ``paths`` set to 0 (dates nobody chose)."""
    return {p: dataclasses.replace(r, mtime=0) if p in paths else r for p, r in rows.items()}
