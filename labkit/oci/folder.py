"""A folder held by a descriptor, written below without ever following a symbolic link.

Every path is reached from the folder's descriptor one name at a time, each name
opened with ``O_DIRECTORY | O_NOFOLLOW`` (``openat``), and every change is made
with the ``*at`` call of the last name (``mkdirat``, ``symlinkat``, ``linkat``,
``mknodat``, ``unlinkat``, ``renameat``, ``fchownat``/``utimensat`` with
``AT_SYMLINK_NOFOLLOW``). A symbolic link the image made is never a way out: met
on the way, it stops the walk (``ELOOP``/``ENOTDIR``) instead of being followed. So
nothing outside the folder is created, changed or read, whatever links are in it.

Example:
    >>> import tempfile
    >>> top = Folder.open(tempfile.mkdtemp())
    >>> top.mkdir("d")
    >>> top.symlink("d/out", "/etc")
    >>> top.write("d/f", [(0, b"hi")], 2)
    >>> sorted(top.names("d"))
    ['f', 'out']
    >>> top.mkdir("d/out/x")                  # through the link: refused, not followed
    Traceback (most recent call last):
    ...
    NotADirectoryError: [Errno 20] Not a directory: 'out'
    >>> top.close()
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NODES = {"char": stat.S_IFCHR, "block": stat.S_IFBLK, "fifo": stat.S_IFIFO}


class Folder:
    """The descriptor of a folder and the last folder opened below it (a cache of one)."""

    def __init__(self, fd: int):
        self.fd = fd
        self._last: tuple[str, int] | None = None

    @classmethod
    def open(cls, path: str | Path) -> "Folder":
        """Open ``path`` (a real folder, not a link to one)."""
        return cls(os.open(path, _DIR_FLAGS))

    def close(self) -> None:
        self._forget()
        os.close(self.fd)

    def _forget(self) -> None:
        if self._last is not None:
            os.close(self._last[1])
            self._last = None

    def _dir(self, path: str) -> int:
        """The descriptor of folder ``path`` ("" or "." is this folder), walked name by name."""
        if path in ("", "."):
            return self.fd
        if self._last is not None and self._last[0] == path:
            return self._last[1]
        fd = self.fd
        try:
            for name in path.split("/"):
                fd_next = os.open(name, _DIR_FLAGS, dir_fd=fd)
                if fd != self.fd:
                    os.close(fd)
                fd = fd_next
        except OSError:
            if fd != self.fd:
                os.close(fd)
            raise
        self._forget()
        self._last = (path, fd)
        return fd

    def _split(self, path: str) -> tuple[int, str]:
        head, _, name = path.rpartition("/")
        return self._dir(head), name

    def exists(self, path: str) -> bool:
        """True when something (a link too) is at ``path``."""
        fd, name = self._split(path)
        try:
            os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def names(self, path: str = ".") -> list[str]:
        """The names in folder ``path``."""
        with os.scandir(self._dir(path)) as found:
            return [entry.name for entry in found]

    def mkdir(self, path: str, mode: int = 0o700) -> None:
        fd, name = self._split(path)
        os.mkdir(name, mode, dir_fd=fd)

    def symlink(self, path: str, target: str) -> None:
        fd, name = self._split(path)
        os.symlink(target, name, dir_fd=fd)

    def link(self, target: str, path: str) -> None:
        """A hard link ``path`` to ``target`` (itself, when it is a symbolic link)."""
        target_fd, target_name = self._split(target)
        target_fd = os.dup(target_fd)     # the cache of one may close it
        try:
            fd, name = self._split(path)
            os.link(target_name, name, src_dir_fd=target_fd, dst_dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(target_fd)

    def mknod(self, path: str, kind: str, major: int = 0, minor: int = 0) -> None:
        fd, name = self._split(path)
        os.mknod(name, _NODES[kind] | 0o600, os.makedev(major, minor), dir_fd=fd)

    def write(self, path: str, pieces: Iterable[tuple[int, bytes]], size: int) -> None:
        """A new file of ``size`` bytes from ``(offset, bytes)`` pieces; holes stay holes."""
        fd, name = self._split(path)
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                      0o600, dir_fd=fd)
        try:
            for offset, piece in pieces:
                view = memoryview(piece)
                while view:
                    done = os.pwrite(out, view, offset)
                    view, offset = view[done:], offset + done
            os.ftruncate(out, size)
        finally:
            os.close(out)

    def owner(self, path: str, uid: int, gid: int) -> None:
        fd, name = self._split(path)
        os.chown(name, uid, gid, dir_fd=fd, follow_symlinks=False)

    def chmod(self, path: str, mode: int) -> None:
        """Mode of ``path``, never of a link's target (a link's own mode is left alone)."""
        fd, name = self._split(path)
        if os.chmod in os.supports_follow_symlinks:      # lchmod (BSD, macOS)
            os.chmod(name, mode, dir_fd=fd, follow_symlinks=False)
        elif not stat.S_ISLNK(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
            os.chmod(name, mode, dir_fd=fd)              # fchmodat: not a link, checked

    def utime(self, path: str, mtime: float) -> None:
        fd, name = self._split(path)
        when = int(mtime * 1_000_000_000)
        os.utime(name, ns=(when, when), dir_fd=fd, follow_symlinks=False)

    def move(self, path: str, into: "Folder", to: str | None = None) -> None:
        """Rename ``path`` to ``to`` (default: the same path) below ``into``, replacing nothing."""
        fd, name = self._split(path)
        fd = os.dup(fd)
        try:
            into_fd, into_name = into._split(path if to is None else to)
            os.rename(name, into_name, src_dir_fd=fd, dst_dir_fd=into_fd)
        finally:
            os.close(fd)
        self._forget()
        into._forget()

    def remove(self, path: str) -> None:
        """Remove ``path`` and everything under it (links removed, never followed)."""
        self._forget()
        fd, name = self._split(path)
        fd = os.dup(fd)
        try:
            remove_below(fd, name)
        finally:
            os.close(fd)


def remove_below(fd: int, name: str) -> None:
    """Remove ``name`` of folder ``fd`` and all under it, depth first, without recursion."""
    if not stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
        os.unlink(name, dir_fd=fd)
        return
    stack = [(fd, name, os.open(name, _DIR_FLAGS, dir_fd=fd), False)]
    try:
        while stack:
            parent, here, here_fd, listed = stack[-1]
            if listed:
                stack.pop()
                os.close(here_fd)
                os.rmdir(here, dir_fd=parent)
                continue
            stack[-1] = (parent, here, here_fd, True)
            with os.scandir(here_fd) as found:
                entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in found]
            for child, is_dir in entries:
                if is_dir:
                    stack.append((here_fd, child, os.open(child, _DIR_FLAGS, dir_fd=here_fd), False))
                else:
                    os.unlink(child, dir_fd=here_fd)
    finally:
        for _, _, open_fd, _ in stack:
            os.close(open_fd)
