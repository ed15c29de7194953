"""What a layer does to the tree below it: one rule for ``inspect`` and ``extract``.

The rule is Docker's, as its overlay2 driver applies a layer (and as the OCI
image-spec words it: "Whiteout files MUST only apply to resources in lower/parent
layers. Files that are present in the same layer as a whiteout file can only be
hidden by whiteout files in subsequent layers"):

* a whiteout ``.wh.NAME`` removes ``NAME`` (and all below it) of the lower layers;
* an opaque marker ``.wh..wh..opq`` removes what the lower layers put in its folder;
* neither touches what its own layer wrote, before or after it in the tar (overlay2
  turns them into a character device and an ``opaque`` attribute of the new layer);
* any other entry replaces what is at its path, unless both are folders (then the
  folder keeps its content and takes the new entry's metadata); a folder an entry
  implies is created (mode 0755) where none is;
* a hard link is one more name of its target, which must be there already (Docker:
  ``os.Link``), written as in the tar (``./usr/bin/perl``) or not.

Example:
    >>> from labkit.oci.layerscan import TarEntry
    >>> tree = Tree()
    >>> for layer in ([TarEntry("d/old", "file", 1, 0o644, "", False)],
    ...               [TarEntry("d/new", "file", 2, 0o644, "", False),
    ...                TarEntry("d/.wh..wh..opq", "file", 0, 0o644, "", True)]):
    ...     tree.begin_layer()
    ...     for entry in layer:
    ...         _ = tree.apply(entry)
    >>> tree.files()
    {'d/new': 2}
"""
from __future__ import annotations

import dataclasses
import posixpath

from labkit.oci.layerscan import TarEntry

ROOT = "."


def implied_folder(path: str) -> TarEntry:
    """The entry of a folder that no tar entry named (Docker: ``MkdirAll(parent, 0755)``)."""
    return TarEntry(path, "dir", 0, 0o755, "", False)


def parent_of(path: str) -> str:
    """``a/b`` -> ``a``; ``a`` -> ``.``."""
    return posixpath.dirname(path) or ROOT


@dataclasses.dataclass
class Step:
    """What applying one entry changed: ``removed`` are the tops of subtrees that left
    the tree (in order), ``gone`` every path that left, ``made`` the folders created
    because the entry implies them (top first)."""

    removed: list[str] = dataclasses.field(default_factory=list)
    gone: list[str] = dataclasses.field(default_factory=list)
    made: list[str] = dataclasses.field(default_factory=list)


class Tree:
    """The merged filesystem, path -> the entry that put it there.

    A hard link is stored as its target's entry (type and size) under its own path.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, TarEntry] = {}
        self._children: dict[str, set[str]] = {ROOT: set()}
        self._fresh: set[str] = set()     # written by the layer being applied

    def begin_layer(self) -> None:
        """Start applying a new layer (whiteouts now hide all that is here)."""
        self._fresh = set()

    def kind(self, path: str) -> str | None:
        """The type of what is at ``path`` (``None``: nothing)."""
        node = self.nodes.get(path)
        return node.type if node is not None else ("dir" if path == ROOT else None)

    def link_in_the_way(self, path: str) -> str | None:
        """The first folder of ``path`` that is a symlink, if any (writing there would
        follow it)."""
        parent = ROOT
        for part in path.split("/")[:-1]:
            parent = part if parent == ROOT else f"{parent}/{part}"
            if self.kind(parent) == "symlink":
                return parent
        return None

    def files(self) -> dict[str, int]:
        """Regular files (hard links included): path -> size."""
        return {path: node.size for path, node in self.nodes.items() if node.type == "file"}

    def apply(self, entry: TarEntry) -> Step:
        """Apply one entry of the current layer; returns what changed."""
        step = Step()
        path = entry.path
        if path in (ROOT, ""):
            return step
        self._make_parents(path, step)
        if entry.whiteout:
            if entry.opaque:
                for child in sorted(self._children.get(parent_of(path), ())):
                    self._remove_stale(child, step)
            else:
                self._remove_stale(entry.target, step)
            return step
        existing = self.nodes.get(path)
        if existing is not None and not (existing.type == "dir" and entry.type == "dir"):
            self._remove(path, step)
        if entry.type == "hardlink":
            target = self.nodes.get(entry.link_path)
            if target is not None:
                entry = dataclasses.replace(entry, type=target.type, size=target.size)
        self._add(path, entry)
        return step

    def forget(self, path: str) -> Step:
        """Take ``path`` (and all below it) out of the tree, as if it had not been written."""
        step = Step()
        if path in self.nodes:
            self._remove(path, step)
        return step

    def _add(self, path: str, entry: TarEntry) -> None:
        if path not in self.nodes:
            self._children.setdefault(parent_of(path), set()).add(path)
        self.nodes[path] = entry
        if entry.type == "dir":
            self._children.setdefault(path, set())
        self._fresh.add(path)

    def _make_parents(self, path: str, step: Step) -> None:
        parent = ROOT
        for part in path.split("/")[:-1]:
            parent = part if parent == ROOT else f"{parent}/{part}"
            kind = self.kind(parent)
            if kind != "dir":
                if kind is not None:      # a file or link in the way: replaced by a folder
                    self._remove(parent, step)
                self._add(parent, implied_folder(parent))
                step.made.append(parent)
            self._fresh.add(parent)

    def _remove_stale(self, path: str, step: Step) -> None:
        """Remove ``path`` as far as lower layers put it there."""
        if path not in self.nodes:
            return
        if path not in self._fresh:
            self._remove(path, step)
            return
        for child in sorted(self._children.get(path, ())):
            self._remove_stale(child, step)

    def _remove(self, path: str, step: Step) -> None:
        step.removed.append(path)
        self._children.get(parent_of(path), set()).discard(path)
        stack = [path]
        while stack:
            name = stack.pop()
            self.nodes.pop(name, None)
            self._fresh.discard(name)
            stack.extend(self._children.pop(name, ()))
            step.gone.append(name)
