"""Write an ``Image`` as a docker-archive, an oci-archive, an OCI layout directory, or
(era 1.4) the pre-1.10 ``docker save`` layout. Same image → byte-identical output.

Outer tars are USTAR, owner 0:0, mtime 0, files 0644, folders 0755, members sorted.
Every function takes a ``labkit.oci.image.Image`` (not imported: ``Image.write`` calls
:func:`write_image`, so the image module imports this one, never the other way).

Example:
    >>> import tempfile, pathlib
    >>> from labkit.oci.image import Image
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "oci"
    >>> sorted(p.name for p in write_image(Image(), out, "oci-dir").iterdir())
    ['blobs', 'index.json', 'oci-layout']
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Callable

from labkit.errors import LabkitError
from labkit.oci.digest import OCI_LAYOUT, go_json, hex_of, sha256_digest
from labkit.oci.refs import split_tag
from labkit.oci.tarlayer import Entry, header
from labkit.oci.v1 import v1_chain, v1_empty_layer

FORMATS = ("docker-archive", "oci-archive", "oci-dir")


def config_blob_name(image) -> str:
    """Member name of the config in a docker-archive (``<hex>.json``)."""
    return hex_of(image.config_digest) + ".json"


def docker_manifest(image, tag: str | None) -> bytes:
    """``manifest.json`` of a docker-archive."""
    layers = [hex_of(d) + "/layer.tar" for d in image.diff_ids]
    tags = [":".join(split_tag(tag))] if tag else None
    return go_json([{"Config": config_blob_name(image), "RepoTags": tags, "Layers": layers}])


def repositories(tag: str | None, top_id: str) -> bytes:
    """The ``repositories`` file: ``{"name": {"tag": top layer id}}``."""
    if not tag:
        return b"{}"
    name, ref = split_tag(tag)
    return go_json({name: {ref: top_id}})

# A member: (name, bytes) or (name, (size, writer streaming the content)).
Content = bytes | tuple[int, Callable[[BinaryIO], int]]


def _members(image, format: str, tag: str | None) -> list[tuple[str, Content]]:
    layers = [(hex_of(d), (size, lambda out, i=i: image.write_layer(i, out)))
              for i, (d, size) in enumerate(zip(image.diff_ids, image.layer_sizes))]
    if image.era == "1.4":
        return _v1_members(image, tag)
    if format == "docker-archive":
        members = [(config_blob_name(image), image.config_bytes()),
                   ("manifest.json", docker_manifest(image, tag)),
                   ("repositories", repositories(tag, hex_of(image.diff_ids[-1]))
                    if tag and image.layers else b"{}")]
        members += [(f"{hex_}/layer.tar", content) for hex_, content in layers]
        return members
    manifest = image.manifest_bytes()
    blobs = [(hex_of(image.config_digest), image.config_bytes()),
             (hex_of(sha256_digest(manifest)), manifest)] + layers
    members = [("oci-layout", OCI_LAYOUT), ("index.json", image.index_bytes(tag))]
    members += [(f"blobs/sha256/{hex_}", content) for hex_, content in blobs]
    return members


def _v1_members(image, tag: str | None) -> list[tuple[str, Content]]:
    members: list[tuple[str, Content]] = []
    for layer_id, body, index in v1_chain(image):
        if index is None:
            layer: Content = v1_empty_layer()
        else:
            layer = (image.layer_sizes[index], lambda out, i=index: image.write_layer(i, out))
        members += [(f"{layer_id}/VERSION", b"1.0"), (f"{layer_id}/json", body),
                    (f"{layer_id}/layer.tar", layer)]
    members.append(("repositories", repositories(tag, v1_chain(image)[-1][0])))
    return members


def _folders(names: list[str]) -> list[str]:
    folders = set()
    for name in names:
        parts = name.split("/")[:-1]
        folders.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(folders)


def _write_tar(members: list[tuple[str, Content]], out: BinaryIO) -> None:
    entries = [(name, None) for name in _folders([n for n, _ in members])] + members
    for name, content in sorted(entries, key=lambda m: m[0].split("/")):
        if content is None:
            out.write(header(Entry.dir(name)))
            continue
        size = len(content) if isinstance(content, bytes) else content[0]
        out.write(header(Entry.file(name, b"", mode=0o644), size=size))
        if isinstance(content, bytes):
            out.write(content)
        else:
            content[1](out)
        out.write(bytes(-size % 512))
    out.write(bytes(1024))


def write_image(image, out: str | Path, format: str = "docker-archive",
                tag: str | None = None) -> Path:
    """Write ``image`` to ``out`` as ``format`` (see module doc); returns ``out``."""
    if format not in FORMATS:
        raise LabkitError(f"unknown format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
    if image.era == "1.4" and format != "docker-archive":
        raise LabkitError("era 1.4 has only the docker save layout",
                          hint="use --format docker-archive with --era 1.4")
    out = Path(out)
    members = _members(image, format, tag)
    if format == "oci-dir":
        _write_dir(members, out)
    else:
        _replace_atomically(out, lambda f: _write_tar(members, f))
    return out


def _replace_atomically(out: Path, write: Callable[[BinaryIO], None]) -> None:
    import tempfile     # only to write: `labkit inspect` starts without it (bench/bench_inspect.py)

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


#: What an OCI image layout folder holds (image-layout.md): writing over one is allowed.
LAYOUT_NAMES = {"oci-layout", "index.json", "blobs"}


def _write_dir(members: list[tuple[str, Content]], out: Path) -> None:
    """Write an OCI layout folder at ``out``: a new or empty folder, or an OCI layout
    written before (replaced whole, so running the same cell twice works); any other
    folder or file is left alone and refused."""
    if out.exists() and (not out.is_dir() or not set(p.name for p in out.iterdir()) <= LAYOUT_NAMES):
        raise LabkitError(f"{out} exists and is not an empty folder or an OCI layout",
                          hint="choose a new output path")
    import shutil       # only to write: `labkit inspect` starts without them
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for name, content in members:
            path = new / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                _replace_atomically(path, lambda f, c=content: f.write(c))
            else:
                _replace_atomically(path, content[1])
        os.chmod(new, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            os.replace(out, old / "layout")
            os.replace(new, out)
            shutil.rmtree(old)
        else:
            os.replace(new, out)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
