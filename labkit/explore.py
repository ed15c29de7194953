"""The layer explorer's model: what each layer adds, changes and deletes.

Like ``dive``, but computed from the image as data (``labkit.oci.inspect``), so it is
right for FROM scratch images (no base layer to subtract), zero-layer images and OCI
layouts. Whiteouts follow the OCI image spec's layer changeset rules:

* ``.wh.<name>`` deletes ``<name>`` (and everything under it) of the lower layers;
* ``<dir>/.wh..wh..opq`` hides everything the lower layers put in ``<dir>``;
* a whiteout never hides what its own layer adds, whatever the member order.

The widget in ``labkit.show.layer_explorer`` only draws what this module computes
(and names each layer with ``labkit.show.layer_label``).

Example:
    >>> from labkit import oci
    >>> img = oci.Image([[oci.Entry.file("a", b"12345")], [oci.Entry.whiteout("a")]])
    >>> import tempfile, pathlib
    >>> path = img.write(pathlib.Path(tempfile.mkdtemp()) / "img.tar")
    >>> x = explore(path)
    >>> [(c.change, c.path, c.size_before) for c in x.layers[1].changes]
    [('deleted', 'a', 5)]
    >>> x.content_bytes, x.hidden_bytes
    (0, 5)
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Iterable

from labkit import oci

ADDED, CHANGED, DELETED = "added", "changed", "deleted"
CHANGES = (ADDED, CHANGED, DELETED)


@dataclasses.dataclass(frozen=True)
class FileChange:
    """One path a layer adds, changes or deletes.

    Attributes:
        path: relative to the image root (``bin/sh``).
        change: ``added``, ``changed`` (the path existed below) or ``deleted``.
        type: ``file``, ``dir``, ``symlink``, ``hardlink``, ... (for a deletion: what
            the lower layers had there).
        size: bytes of content this layer stores for the path (0 for a deletion).
        size_before: bytes the path had in the lower layers, ``None`` if it was new.
        linkname: target of a link.
        marker: for a deletion, the whiteout member that caused it (``.wh.a``).
    """

    path: str
    change: str
    type: str
    size: int = 0
    size_before: int | None = None
    linkname: str = ""
    marker: str = ""

    @property
    def bar_bytes(self) -> int:
        """The bytes a size bar shows: stored ones, or for a deletion the hidden ones."""
        return (self.size_before or 0) if self.change == DELETED else self.size


@dataclasses.dataclass(frozen=True)
class LayerChanges:
    """One layer: its identity and its changes, sorted by path.

    Example:
        >>> LayerChanges(0, "sha256:5f70bf18a086", 1024, "", ()).summary()
        '0 added, 0 changed, 0 deleted'
    """

    index: int
    diff_id: str
    size: int
    created_by: str
    changes: tuple[FileChange, ...]

    def of(self, change: str) -> list[FileChange]:
        """The changes of one kind (``added``, ``changed`` or ``deleted``)."""
        return [c for c in self.changes if c.change == change]

    @property
    def stored_bytes(self) -> int:
        """Bytes of file content the layer tar carries (the rest is headers and padding)."""
        return sum(c.size for c in self.changes if c.change != DELETED)

    @property
    def deleted_bytes(self) -> int:
        """Bytes of lower-layer files this layer hides; they still sit in those layers."""
        return sum(c.size_before or 0 for c in self.of(DELETED))

    @property
    def hidden_bytes(self) -> int:
        """Bytes of lower-layer files this layer hides, deleted or overwritten."""
        return sum(c.size_before or 0 for c in self.changes if c.change != ADDED)

    def summary(self) -> str:
        """``"3 added, 0 changed, 1 deleted"``."""
        return ", ".join(f"{len(self.of(kind))} {kind}" for kind in CHANGES)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        return {**{k: v for k, v in dataclasses.asdict(self).items() if k != "changes"},
                "changes": [dataclasses.asdict(c) for c in self.changes]}


@dataclasses.dataclass(frozen=True)
class Exploration:
    """An image's layers with their changes, and the totals the explorer shows.

    Attributes:
        source: what was explored (file name or repo tag).
        format: ``docker-v1``, ``docker-archive`` or ``oci-layout``.
        layers: one :class:`LayerChanges` per layer, bottom first; empty for a
            zero-layer image.
        files: the merged filesystem's regular files, path -> size.
    """

    source: str
    format: str
    layers: tuple[LayerChanges, ...]
    files: dict[str, int]

    @property
    def layer_bytes(self) -> int:
        """Bytes of all layer tars (what the image costs to store and ship, uncompressed)."""
        return sum(layer.size for layer in self.layers)

    @property
    def content_bytes(self) -> int:
        """Bytes of the files a container sees."""
        return sum(self.files.values())

    @property
    def hidden_bytes(self) -> int:
        """File bytes stored in layers but invisible at the top (overwritten or deleted)."""
        return sum(layer.stored_bytes for layer in self.layers) - self.content_bytes

    @property
    def tar_overhead_bytes(self) -> int:
        """Bytes of tar headers, padding and end-of-archive blocks."""
        return self.layer_bytes - sum(layer.stored_bytes for layer in self.layers)

    def totals(self) -> dict[str, int]:
        """The four totals, by name.

        Example:
            >>> Exploration("empty.tar", "docker-archive", (), {}).totals()["layers"]
            0
        """
        return {"layers": len(self.layers), "layer_bytes": self.layer_bytes,
                "content_bytes": self.content_bytes, "hidden_bytes": self.hidden_bytes,
                "tar_overhead_bytes": self.tar_overhead_bytes}

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        return {"source": self.source, "format": self.format, "totals": self.totals(),
                "layers": [layer.to_dict() for layer in self.layers], "files": dict(self.files)}


def explore(image) -> Exploration:
    """Read an image and compute every layer's changes.

    Args:
        image: a docker-archive, oci-archive, OCI layout directory or pre-1.10 tarball
            (anything ``labkit.oci.inspect`` reads), its ``ImageInfo``, or a
            ``labkit.oci.Image`` (written to a temporary folder, then read back).

    Returns:
        An :class:`Exploration`; never writes to disk.

    Example:
        >>> from labkit import oci
        >>> import tempfile, pathlib
        >>> explore(oci.Image().write(pathlib.Path(tempfile.mkdtemp()) / "e.tar")).layers
        ()
    """
    if isinstance(image, oci.Image):
        with tempfile.TemporaryDirectory(prefix="labkit-explore-") as tmp:
            return dataclasses.replace(explore(image.write(Path(tmp) / "image.tar")), source="labkit image")
    info = image if isinstance(image, oci.ImageInfo) else oci.inspect(image)
    source = Path(image).name if isinstance(image, (str, Path)) else ", ".join(info.repo_tags or [])
    commands = _layer_commands(info.history, len(info.layers))
    state: dict[str, tuple[str, int]] = {}
    layers = []
    for index, layer in enumerate(info.layers):
        changes = apply_layer(state, layer.entries)
        layers.append(LayerChanges(index, layer.diff_id, layer.size, commands[index], changes))
    files = {path: size for path, (kind, size) in sorted(state.items()) if kind == "file"}
    return Exploration(source or info.image_id or "image", info.format, tuple(layers), files)


def apply_layer(state: dict[str, tuple[str, int]], entries: Iterable) -> tuple[FileChange, ...]:
    """Apply one layer's tar entries to ``state`` (path -> (type, size)); return the changes.

    Whiteouts act on the lower layers only, so they are applied before the layer's
    own entries, whatever their order in the tar.

    Example:
        >>> from labkit.oci import TarEntry
        >>> state = {"a": ("file", 5)}
        >>> changes = apply_layer(state, [TarEntry("a", "file", 7, 0o644, "", False)])
        >>> changes[0].change, changes[0].size_before, state
        ('changed', 5, {'a': ('file', 7)})
    """
    entries = [e for e in entries if e.path not in (".", "")]
    lower = dict(state)
    hidden: dict[str, tuple[str, int, str]] = {}
    for entry in entries:
        if not entry.whiteout:
            continue
        doomed = [p for p in state if entry.hides(p)]
        if not doomed and not entry.opaque:  # nothing below: still a deletion to show
            hidden[entry.target] = ("missing", 0, entry.path)
        for path in doomed:
            kind, size = state.pop(path)
            hidden[path] = (kind, size, entry.path)
    changes = []
    for entry in entries:
        if entry.whiteout:
            continue
        before = lower.get(entry.path)
        hidden.pop(entry.path, None)
        state[entry.path] = (entry.type, entry.size)
        changes.append(FileChange(
            entry.path, CHANGED if before else ADDED, entry.type, entry.size,
            before[1] if before else None, entry.linkname))
    changes += [FileChange(path, DELETED, kind, 0, size if kind != "missing" else None, marker=marker)
                for path, (kind, size, marker) in hidden.items()]
    return tuple(sorted(changes, key=lambda c: c.path.split("/")))


def _layer_commands(history: list[dict] | None, count: int) -> list[str]:
    """The ``created_by`` of each layer: history rows that are not empty layers."""
    rows = [h for h in (history or []) if not h.get("empty_layer")]
    if len(rows) != count:
        return [""] * count
    return [str(h.get("created_by", "")) for h in rows]
