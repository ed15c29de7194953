"""Unpack an image's merged root filesystem as ``docker export`` shows it, touching nothing outside.

Each layer is unpacked alone into a folder of its own inside ``dest`` (the stage),
exactly as Docker's overlay2 driver unpacks it (``labkit.oci.layerdir``: links are
data, a path through a link this layer made resolves as in a chroot), then laid
over what is below (``labkit.oci.merge``, the rule ``inspect`` uses too): moved in
by renames, whiteouts and opaque folders removing what was below. The rules, and
the Docker version and storage driver they were measured on: docs/extract.md.

What Docker keeps is kept: file and folder modes (a folder's mode and date are set
after it is filled, so ``0555`` folders work), modification times, symbolic links
exactly as written (absolute, dangling, climbing, looping), hard-link groups, and
as root also owners, setuid/setgid bits and device nodes. A folder a layer makes
without an entry of its own is mode 0755, owned by root, dated when unpacked (as
overlay2 shows it, over a lower folder too). Safety does not depend on the rules
being right: every write goes through folder descriptors (``labkit.oci.folder``)
that never follow a link, so even a layer's own ``ln -> /`` cannot lead out.

Refused, with one line naming the member: what Docker cannot unpack either (a hard
link to a lower layer's file, a write through a link that leads nowhere, ``mknod``
over a name the layer wrote, ...), and more than ``max_bytes`` in all (headers, and
files at their logical size: a gzip bomb or a 60 GB sparse file).

Not kept, and listed in ``Extracted.summary()`` (one line): device nodes, setuid and
setgid bits and owners other than root when not running as root; members of a type
labkit does not unpack (GNU volume headers and the like). Not written: extended
attributes (file capabilities).

Example:
    >>> import tempfile, pathlib
    >>> from labkit.oci.image import Image
    >>> from labkit.oci.tarlayer import Entry
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> tar = Image([[Entry.file("hello", b"hi")]]).write(tmp / "img.tar")
    >>> [p.name for p in extract(tar, tmp / "root")]
    ['hello']
"""
from __future__ import annotations

import os
from pathlib import Path

from labkit.errors import LabkitError, UnsafeArchive
from labkit.oci.folder import Folder
from labkit.oci.layerdir import ROOT, Change, LayerDir
from labkit.oci.layerscan import TarEntry
from labkit.oci.merge import MOVE, REMOVE, Tree
from labkit.oci.plan import plan
from labkit.oci.reader import read_layer
from labkit.oci.source import open_image
from labkit.oci.tarheader import short

MAX_EXTRACT_BYTES = 8 << 30       # default bound on what the layers unpack to, all layers


class Extracted(list):
    """The paths written (a list of ``Path``), and ``skipped``: reason -> paths not kept."""

    def __init__(self, paths: list[Path], skipped: dict[str, list[str]]):
        super().__init__(paths)
        self.skipped = skipped

    def summary(self) -> str:
        """One line naming what was not kept ("" when everything was).

        Example:
            >>> Extracted([], {"device nodes (not root)": ["dev/null"]}).summary()
            'not kept: device nodes (not root): 1 (/dev/null)'
        """
        parts = []
        for reason, paths in self.skipped.items():
            shown = ", ".join("/" + short(p, 60) for p in paths[:3])
            more = f" and {len(paths) - 3:,} more" if len(paths) > 3 else ""
            parts.append(f"{reason}: {len(paths):,} ({shown}{more})")
        return "not kept: " + "; ".join(parts) if parts else ""


def _below(paths: set[str], top: str) -> set[str]:
    return {p for p in paths if p == top or p.startswith(top + "/")}


class _Writer:
    """``dest`` being filled: the merged tree, the stage of the layer being unpacked, and
    the paths the model has but the disk has not (device nodes not made)."""

    def __init__(self, root: Folder, max_bytes: int, as_root: bool):
        self.root, self.max_bytes, self.as_root = root, max_bytes, as_root
        self.tree = Tree()
        self.layer = LayerDir()
        self.stage: Folder | None = None
        self.stage_name = ""
        self.unpacked = 0
        self.absent: set[str] = set()          # merged paths
        self.absent_stage: set[str] = set()    # paths of the stage
        self.skipped: dict[str, list[str]] = {}

    def note(self, reason: str, path: str) -> None:
        self.skipped.setdefault(reason, []).append(path)

    def count(self, entry: TarEntry) -> None:
        """Add a member to ``unpacked``, refusing it before it takes us over ``max_bytes``."""
        self.unpacked += 512 + (entry.size if entry.type == "file" else 0)
        if self.unpacked > self.max_bytes:
            raise UnsafeArchive(f"refusing {short(entry.name or entry.path)!r}: the layers unpack "
                                f"to more than {self.max_bytes:,} bytes", hint="a decompression "
                                "bomb? if you trust the image, pass a larger max_bytes to extract()")

    def _free_name(self, taken: set[str]) -> str:
        while True:
            name = ".labkit-layer-" + os.urandom(8).hex()
            if name not in taken:
                return name

    def begin(self, label: str) -> None:
        """A new layer: an empty stage folder next to the tree's top-level names."""
        self.layer = LayerDir(label)
        self.stage_name = self._free_name(self.tree.children[ROOT])
        self.root.mkdir(self.stage_name, 0o700)
        self.stage = Folder(os.open(self.stage_name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                    dir_fd=self.root.fd))
        self.absent_stage = set()

    def _remove(self, folder: Folder, path: str, absent: set[str]) -> None:
        gone = _below(absent, path)
        absent -= gone
        if path not in gone:
            folder.remove(path)

    def visit(self, entry: TarEntry, content) -> None:
        """Unpack one member into the stage, as the model says Docker does."""
        self.count(entry)
        if entry.type == "other":
            self.note("entries of a type labkit does not unpack", entry.path)
            return
        change = self.layer.apply(entry)
        for path in change.removed:
            self._remove(self.stage, path, self.absent_stage)
        for path in change.made:
            self.stage.mkdir(path)
        node, path = change.node, change.path
        if node is None or node.kind == "whiteout" or path is None:
            return
        if node.kind == "dir":
            if change.new:
                self.stage.mkdir(path)
            return                      # owner, mode and date when everything is in place
        if change.link_to is not None:
            if change.link_to in self.absent_stage:
                self.absent_stage.add(path)
                return
            self.stage.link(change.link_to, path)
        elif node.kind == "file":
            self.stage.write(path, content(), node.size)
        elif node.kind == "symlink":
            self.stage.symlink(path, node.linkname)
        elif not self._node(entry, path, node.kind):
            return
        self._metadata(path, change)

    def _node(self, entry: TarEntry, path: str, kind: str) -> bool:
        """A device node or fifo; False (and listed) where it cannot be made."""
        if kind in ("char", "block") and not self.as_root:
            self.note("device nodes (not root)", entry.path)
        else:
            try:
                self.stage.mknod(path, kind, entry.devmajor, entry.devminor)
                return True
            except PermissionError:
                self.note("device nodes (not permitted here)", entry.path)
        self.absent_stage.add(path)
        return False

    def _metadata(self, path: str, change: Change) -> None:
        """Docker's order: owner, then mode (chown clears setuid), then date."""
        node = change.node
        if self.as_root:
            self.stage.owner(path, node.uid, node.gid)
        if change.set_mode and node.kind != "symlink":
            self.stage.chmod(path, node.mode if self.as_root else node.mode & ~0o6000)
        if change.set_time and node.mtime is not None:
            self.stage.utime(path, node.mtime)

    def end(self) -> None:
        """The layer is complete: dates set through links, then laid over the tree."""
        for path in self.layer.finish():
            if path not in self.absent_stage and self.layer.nodes[path].kind != "whiteout":
                self.stage.utime(path, self.layer.nodes[path].mtime)
        ops = self.tree.overlay(self.layer)
        if self.stage_name in self.layer.children[ROOT]:      # the layer uses the stage's name
            name = self._free_name(self.tree.children[ROOT] | self.layer.children[ROOT])
            os.rename(self.stage_name, name, src_dir_fd=self.root.fd, dst_dir_fd=self.root.fd)
            self.stage_name = name
        for op, path in ops:
            if op == REMOVE:
                self._remove(self.root, path, self.absent)
            elif op == MOVE:
                moved = _below(self.absent_stage, path)
                self.absent |= moved
                if path not in moved:
                    self.stage.move(path, self.root)
        self.close_stage()

    def close_stage(self) -> None:
        if self.stage is not None:
            self.stage.close()
            self.stage = None
            self.root.remove(self.stage_name)

    def finish(self) -> Extracted:
        """Folder owners, modes and dates (deepest first), once nothing more is written."""
        nodes = self.tree.nodes
        for path in sorted((p for p in nodes if p != ROOT and p not in self.absent),
                           key=lambda p: (-p.count("/"), p)):
            node = nodes[path]
            if not self.as_root:
                if (node.uid, node.gid) != (0, 0):
                    self.note("owners other than root (not root)", path)
                if node.mode & 0o6000 and node.kind in ("dir", "file"):
                    self.note("setuid/setgid bits (not root)", path)
            if node.kind != "dir":
                continue
            if self.as_root:
                self.root.owner(path, node.uid, node.gid)
            self.root.chmod(path, node.mode if self.as_root else node.mode & ~0o6000)
            if node.mtime is not None:
                self.root.utime(path, node.mtime)
        return Extracted([], self.skipped)


def _visit(w: _Writer, entry: TarEntry, content) -> None:
    try:
        w.visit(entry, content)
    except OSError as err:   # e.g. a name longer than the file system allows
        raise UnsafeArchive(f"cannot write /{short(entry.path)}: {err.strerror or err}",
                            hint="the image holds what this file system cannot") from None


def _open_dest(dest: Path) -> tuple[Folder, bool]:
    """``dest`` opened (made when missing); True when this call made it."""
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise LabkitError(f"{dest} exists and is not an empty folder",
                          hint="extract into a new folder")
    made = not dest.exists()
    if made:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(dest, 0o700)
    return Folder.open(dest), made


def extract(path: str | Path, dest: str | Path, *, ref: str | None = None,
            max_bytes: int = MAX_EXTRACT_BYTES, as_root: bool | None = None) -> Extracted:
    """Unpack the merged root filesystem of the image at ``path`` into ``dest``.

    ``dest`` must not exist or be an empty folder; nothing outside it is created,
    changed or read, and on failure nothing is left in it. ``ref`` picks one image of
    several (as ``inspect``). ``max_bytes`` bounds what the layers unpack to (headers
    and file sizes, all layers together). ``as_root`` (default: running as root)
    keeps owners, setuid/setgid bits and device nodes; without it they are listed
    in ``.summary()`` instead.

    Returns:
        The paths written (an ``Extracted`` list, with ``.skipped`` and ``.summary()``).

    Raises:
        BadImage: Docker could not unpack a layer either (one line: the member and why).
        UnsafeArchive: over ``max_bytes``, or what this file system cannot hold.
        DigestMismatch: as ``inspect``.
    """
    dest = Path(dest).absolute()
    as_root = os.geteuid() == 0 if as_root is None else as_root
    with open_image(path, ref) as (source, ref):
        found = plan(source, ref)
        root, made = _open_dest(dest)
        w = _Writer(root, max_bytes, as_root)
        try:
            for number, layer in enumerate(found.layers, 1):
                w.begin(f"layer {number}")
                read_layer(source, layer, number, lambda entry, content: _visit(w, entry, content))
                w.end()
            done = w.finish()
        except BaseException:
            w.close_stage()
            for name in root.names():
                root.remove(name)
            root.close()
            if made:
                os.rmdir(dest)
            raise
        root.close()
    if made:
        os.chmod(dest, 0o755)
    nodes = w.tree.nodes
    done.extend(dest / p for p in sorted(nodes) if p != ROOT and p not in w.absent)
    return done
