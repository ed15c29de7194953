"""``labkit build``: a FROM scratch image from files on disk, without any engine.

Example:
    $ labkit build --add hello:/hello --cmd /hello --tag hello -o hello.tar
"""
from __future__ import annotations

import os
import posixpath
from pathlib import Path

from labkit.errors import LabkitError
from labkit.oci.image import Image
from labkit.oci.tarlayer import Entry


def parse_add(spec: str) -> Entry:
    """``SRC:DEST`` → a file entry with SRC's permission bits and mtime 0.

    Example:
        >>> parse_add("/etc/hostname:/etc/hostname").path
        'etc/hostname'
    """
    src, sep, dest = spec.rpartition(":")
    if not sep or not src or not dest:
        raise LabkitError(f"--add {spec!r} is not SRC:DEST", hint="for example --add hello:/hello")
    try:
        stat = os.stat(src)
    except OSError as err:
        raise LabkitError(f"cannot read {src}: {err.strerror}") from None
    if not Path(src).is_file():
        raise LabkitError(f"{src} is not a regular file", hint="--add takes files")
    try:
        return Entry.file(dest, source=src, mode=stat.st_mode & 0o7777)
    except ValueError:
        raise LabkitError(f"--add {spec!r}: {dest!r} names no file in the image",
                          hint="for example --add hello:/hello") from None


def _check_paths(entries: list[Entry]) -> None:
    """Refuse two files at one path, or a file where another needs a folder."""
    paths = [e.path for e in entries]
    for path in paths:
        if paths.count(path) > 1:
            raise LabkitError(f"--add gives /{path} twice", hint="add each destination once")
        parent = posixpath.dirname(path)
        while parent:
            if parent in paths:
                raise LabkitError(f"--add puts /{path} inside the file /{parent}",
                                  hint="a file can't also be a folder")
            parent = posixpath.dirname(parent)


def build_cli(adds: list[str], cmd: list[str] | None, entrypoint: list[str] | None,
              tag: str | None, fmt: str, era: str, output: str | Path) -> Path:
    """Build the image the CLI describes (one layer when there are ``--add``s) and write it.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "empty.tar"
        >>> build_cli([], None, None, None, "docker-archive", "modern", out) == out
        True
    """
    entries = [parse_add(spec) for spec in adds]
    _check_paths(entries)
    image = Image([entries] if entries else [], cmd=cmd, entrypoint=entrypoint, era=era)
    return image.write(output, format=fmt, tag=tag)
