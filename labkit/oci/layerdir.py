"""One layer's own folder, as Docker's overlay2 driver unpacks it: alone and chrooted.

Docker 20.10 (overlay2, native diff) unpacks each layer into an empty folder of its
own, in a chroot (``pkg/chrootarchive``: ``docker-untar`` with the folder as ``/``),
with ``pkg/archive.Unpack``; overlayfs then stacks the folders (``labkit.oci.merge``).
``LayerDir`` replays ``Unpack`` step by step on a model of that folder, so a path
goes where the kernel would send it in the chroot:

* a symbolic link is data: any target (absolute, dangling, climbing, looping) is
  written as the layer holds it (the breakout checks compare against ``/``);
* a name is cleaned (``filepath.Clean``, then joined to ``/``: ``../x`` is ``/x``);
* a path through a link *this layer* made resolves as in a chroot: absolute targets
  start at the layer's root and ``..`` stops there; a lower layer's links are not
  in the folder, so nothing resolves through them;
* a missing parent is made with ``MkdirAll`` (mode 0755, owner root), through links;
* whatever is at the path is removed (``RemoveAll``) unless both are folders;
* ``.wh.NAME`` becomes a whiteout device at ``NAME`` (``mknod``: fails if anything
  is there), ``.wh..wh..opq`` marks its folder opaque (``setxattr``, through links);
* a hard link's target must be in this layer (``link`` never follows its last name);
  owner, mode and date of the link's header go to the shared file, the last two
  only when ``lstat`` of the target as written finds a non-link;
* a folder entry's date is set again at the end of the layer, through links.

What would make Docker fail (``open /ln/f: no such file or directory``) raises
``BadImage`` naming the member and Docker's own words.

Example:
    >>> from labkit.oci.layerscan import TarEntry
    >>> layer = LayerDir()
    >>> _ = layer.apply(TarEntry("ln", "symlink", 0, 0o777, "/real", False))
    >>> _ = layer.apply(TarEntry("real", "dir", 0, 0o755, "", False))
    >>> layer.apply(TarEntry("ln/f", "file", 1, 0o644, "", False)).path
    'real/f'
"""
from __future__ import annotations

import dataclasses
import errno
import os
import posixpath

from labkit.errors import BadImage
from labkit.oci.layerscan import TarEntry
from labkit.oci.tarheader import short
from labkit.oci.tarlayer import OPAQUE, WHITEOUT_PREFIX

ROOT = "."
MAX_LINKS = 40          # Linux: MAXSYMLINKS
PATH_MAX = 4096         # Linux: bytes of a path given to a system call, with its NUL
NAME_MAX = 255          # ext4, xfs, tmpfs: bytes of one name


@dataclasses.dataclass(eq=False)
class Inode:
    """What one path holds. Hard links share the object; ``mtime`` None: not set (a
    folder made by ``MkdirAll`` keeps the time of unpacking)."""

    kind: str            # dir | file | symlink | char | block | fifo | whiteout
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    mtime: float | None = None
    size: int = 0
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    opaque: bool = False


@dataclasses.dataclass
class Change:
    """What one entry did to the layer's folder (paths resolved, as the kernel did).

    ``path`` is where the entry's node is (``None``: nothing on disk, e.g. a whiteout);
    ``new`` whether it was created (a folder entry may keep the folder there);
    ``removed``/``made`` what went before it (``RemoveAll``, ``MkdirAll``, top first);
    ``link_to`` a hard link's target; ``set_mode``/``set_time`` whether the header's
    mode and date reached the file (a hard link to a link, or one ``lstat`` misses,
    keeps them).
    """

    path: str | None = None
    node: Inode | None = None
    new: bool = False
    removed: list[str] = dataclasses.field(default_factory=list)
    made: list[str] = dataclasses.field(default_factory=list)
    link_to: str | None = None
    set_mode: bool = True
    set_time: bool = True


class _Fail(Exception):
    def __init__(self, op: str, path: str, code: int):
        super().__init__(f"{op} {'/' + path if path != ROOT else '/'}: {os.strerror(code).lower()}")
        self.code = code


def parent_of(path: str) -> str:
    """``a/b`` -> ``a``; ``a`` -> ``.``."""
    return path.rpartition("/")[0] or ROOT


def join(folder: str, name: str) -> str:
    """``join(".", "a")`` -> ``a``; ``join("a", "b")`` -> ``a/b``."""
    return name if folder == ROOT else f"{folder}/{name}"


class LayerDir:
    """The folder one layer unpacks into: path -> ``Inode``, replayed entry by entry."""

    def __init__(self, label: str = "layer"):
        self.label = label
        self.nodes: dict[str, Inode] = {ROOT: Inode("dir")}
        self.children: dict[str, set[str]] = {ROOT: set()}
        self._dir_times: list[tuple[str, float, TarEntry]] = []

    # -- the kernel's path walk, with the layer's root as "/" --------------------------------
    def resolve(self, path: str, follow: bool, op: str = "lstat", shown: str | None = None) -> str:
        """The real path of ``path`` in this folder (its last name may be missing).

        Links on the way are followed (the last one too when ``follow``); ``..`` and
        absolute targets stop at the root. Raises ``_Fail`` (ENOENT, ENOTDIR, ELOOP).
        """
        head = parent_of(path)       # a clean name under a real folder: itself (most names)
        if (head == ROOT or getattr(self.nodes.get(head), "kind", "") == "dir") and "/." not in path \
                and path[:1] not in ("", ".", "/") and not path.endswith("/"):
            node = self.nodes.get(path)
            if node is None or node.kind != "symlink" or not follow:
                return path
        shown = path if shown is None else shown
        parts = [p for p in reversed(path.split("/")) if p not in ("", ".")]
        where, links = ROOT, 0
        while parts:
            name = parts.pop()
            if name == "..":
                where = parent_of(where)
                continue
            here = join(where, name)
            node = self.nodes.get(here)
            if node is None:
                if parts:
                    raise _Fail(op, shown, errno.ENOENT)
                return here
            if node.kind == "symlink" and (parts or follow):
                links += 1
                if links > MAX_LINKS:
                    raise _Fail(op, shown, errno.ELOOP)
                if node.linkname.startswith("/"):
                    where = ROOT
                parts += [p for p in reversed(node.linkname.split("/")) if p not in ("", ".")]
                continue
            if parts and node.kind != "dir":
                raise _Fail(op, shown, errno.ENOTDIR)
            where = here
        return where

    def _mkdir_all(self, path: str, change: Change) -> None:
        """Go's ``os.MkdirAll`` through ``idtools.MkdirAllAndChownNew(path, 0755, root)``."""
        where = ROOT
        for name in path.split("/"):
            here = join(where, name)
            node = self.nodes.get(here)
            if node is None:
                self._add(here, Inode("dir"))
                change.made.append(here)
            elif node.kind == "symlink":     # Mkdir on a link that leads nowhere: EEXIST
                try:
                    found = self.resolve(here, True, "mkdir", path)
                except _Fail:
                    found = None
                node = self.nodes.get(found) if found is not None else None
                if node is None:
                    raise _Fail("mkdir", here, errno.EEXIST)
                if node.kind != "dir":
                    raise _Fail("mkdir", path, errno.ENOTDIR)
                here = found
            elif node.kind != "dir":
                raise _Fail("mkdir", path, errno.ENOTDIR)
            where = here

    def _add(self, path: str, node: Inode) -> None:
        self.nodes[path] = node
        self.children[parent_of(path)].add(path)
        if node.kind == "dir":
            self.children.setdefault(path, set())

    def _remove_all(self, path: str) -> None:
        self.children[parent_of(path)].discard(path)
        stack = [path]
        while stack:
            name = stack.pop()
            del self.nodes[name]
            stack.extend(self.children.pop(name, ()))

    def _create(self, path: str, op: str, node: Inode) -> str:
        """``mkdir``/``open(O_CREAT)``/``symlink``/``mknod`` at ``path`` (last name not followed)."""
        where = self.resolve(path, False, op)
        if where in self.nodes:
            raise _Fail(op, path, errno.EEXIST)
        folder = self.nodes.get(parent_of(where))
        if folder is None or folder.kind != "dir":
            raise _Fail(op, path, errno.ENOENT if folder is None else errno.ENOTDIR)
        self._add(where, node)
        return where

    # -- one entry -----------------------------------------------------------------------------
    def apply(self, entry: TarEntry) -> Change:
        """Unpack one member (``pkg/archive.Unpack``); raises ``BadImage`` where Docker fails."""
        try:
            return self._apply(entry)
        except _Fail as err:
            raise self._refuse(entry, str(err)) from None

    def _refuse(self, entry: TarEntry, why: str) -> BadImage:
        return BadImage(f"{self.label}: Docker cannot unpack {short(entry.name or entry.path)!r} either "
                        f"({why})", hint="overlay2 unpacks each layer alone, chrooted in its own "
                        "folder: see docs/extract.md")

    def _apply(self, entry: TarEntry) -> Change:
        path, change = entry.path, Change()
        if entry.type == "other":
            return change    # Docker: "unhandled tar header type"; extract lists it
        if len(path) + len(entry.linkname) > NAME_MAX // 4 and (   # 4 bytes a character at most
                len(os.fsencode(path)) + 2 > PATH_MAX or len(os.fsencode(entry.linkname)) >= PATH_MAX
                or any(len(os.fsencode(n)) > NAME_MAX for n in path.split("/"))):
            raise _Fail("open", path, errno.ENAMETOOLONG)
        if path == ROOT:     # Docker skips "." and sets "/"'s metadata: no name shows it
            if entry.type == "dir" or posixpath.normpath(entry.name or ".") == ".":
                return change
            raise _Fail("open", path, errno.EISDIR)
        parent = parent_of(path)
        if parent != ROOT and self._lstat(parent) == errno.ENOENT:
            self._mkdir_all(parent, change)
        try:
            where = self.resolve(path, False)
            there = self.nodes.get(where)
        except _Fail:
            there = None     # Unpack ignores it here; what comes next fails the same way
        if there is not None and not (there.kind == "dir" and entry.type == "dir"):
            self._remove_all(where)
            if there.kind != "whiteout":        # a whiteout device is the model's alone
                change.removed.append(where)
        if entry.whiteout:
            self._whiteout(entry, change)
            return change
        return self._write(entry, change)

    def _whiteout(self, entry: TarEntry, change: Change) -> None:
        folder, name = posixpath.split(entry.path)
        if name == OPAQUE:
            where = self.resolve(folder or ROOT, True, "setxattr")
            node = self.nodes.get(where)
            if node is None:
                raise _Fail("setxattr", folder or ROOT, errno.ENOENT)
            node.opaque = node.opaque or node.kind == "dir"
            return
        # Go's filepath.Join cleans: ".wh." names the folder, ".wh..." its parent
        target = posixpath.normpath(posixpath.join("/", folder, name[len(WHITEOUT_PREFIX):]))
        target = target.lstrip("/") or ROOT
        self._create(target, "mknod", Inode("whiteout", 0, entry.uid, entry.gid))

    def _write(self, entry: TarEntry, change: Change) -> Change:
        kind, path = entry.type, entry.path
        if kind == "dir":
            where = self.resolve(path, False, "mkdir")
            node = self.nodes.get(where)
            if node is None or node.kind != "dir":
                node = Inode("dir")
                where, change.new = self._create(path, "mkdir", node), True
            self._dir_times.append((path, entry.mtime, entry))
        elif kind == "hardlink":
            shown = f"{entry.link_path or '.'} /{path}"
            target = self.resolve(entry.link_path or ROOT, False, "link", shown)
            node = self.nodes.get(target)
            if node is None:
                raise _Fail("link", shown, errno.ENOENT)
            if node.kind == "dir":
                raise _Fail("link", shown, errno.EPERM)
            where, change.new, change.link_to = self._create(path, "link", node), True, target
            change.set_mode = change.set_time = self._lstat_is_not_a_link(entry.linkname)
        else:
            if kind == "symlink" and not entry.linkname:
                raise _Fail("symlink", path, errno.ENOENT)
            node = Inode(kind, size=entry.size if kind == "file" else 0, linkname=entry.linkname,
                         devmajor=entry.devmajor, devminor=entry.devminor)
            op = {"file": "open", "symlink": "symlink"}.get(kind, "mknod")
            where, change.new = self._create(path, op, node), True
            change.set_mode = kind != "symlink"
        node.uid, node.gid = entry.uid, entry.gid
        if change.set_mode:
            node.mode = entry.mode & 0o7777
        if change.set_time:
            node.mtime = entry.mtime
        change.path, change.node = where, node
        return change

    def _lstat(self, path: str) -> int:
        """``os.Lstat``'s errno (0: something is there)."""
        try:
            return 0 if self.resolve(path, False) in self.nodes else errno.ENOENT
        except _Fail as err:
            return err.code

    def _lstat_is_not_a_link(self, linkname: str) -> bool:
        """``os.Lstat(hdr.Linkname)`` from the chroot's ``/``, the name as written (``..`` walked)."""
        try:
            where = self.resolve(linkname, False)
        except _Fail:
            return False
        node = self.nodes.get(where)
        return node is not None and node.kind != "symlink"

    def finish(self) -> list[str]:
        """The end of the layer: every folder entry's date set again (``Chtimes`` follows
        links). Returns the paths of non-folders whose date this changed."""
        touched = []
        for path, mtime, entry in self._dir_times:
            try:
                where = self.resolve(path, True, "chtimes")
            except _Fail as err:
                raise self._refuse(entry, str(err)) from None
            node = self.nodes.get(where)
            if node is None:
                raise self._refuse(entry, str(_Fail("chtimes", path, errno.ENOENT)))
            node.mtime = mtime
            if node.kind != "dir":
                touched.append(where)
        self._dir_times = []
        return touched
