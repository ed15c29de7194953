"""The merged root filesystem: each layer's own folder laid over the ones below, as overlayfs does.

One rule for ``inspect`` and ``extract``. A layer is first unpacked alone
(``labkit.oci.layerdir``: links, whiteouts and hard links resolve only inside it),
then overlaid, as Docker's overlay2 driver mounts the folders (measured on Docker
20.10.24, see docs/extract.md):

* a whiteout device at ``NAME`` hides whatever the lower layers have there;
* a folder over a lower folder merges with it (its mode, owner and date win),
  unless it is opaque: then only its own content shows;
* anything else hides what is below at its path, whatever that is: a folder a
  later layer makes at ``x/`` hides a lower symbolic link ``x`` (nothing resolves
  through a lower layer's link), and a whiteout or opaque marker under it too;
* the root is never opaque (overlayfs ignores the marker there).

Because the layer is overlaid when it is complete, the order of its members only
matters as it mattered to the unpacking: ``.wh.d`` then ``d/`` leaves the lower
``d``'s content showing (the folder replaced the whiteout device).

Example:
    >>> from labkit.oci.layerscan import TarEntry
    >>> tree = Tree()
    >>> for entries in ([TarEntry("d/old", "file", 1, 0o644, "", False)],
    ...                 [TarEntry("d/.wh..wh..opq", "file", 0, 0o644, "", True),
    ...                  TarEntry("d/new", "file", 2, 0o644, "", False)]):
    ...     _ = tree.overlay(unpacked(entries))
    >>> tree.files()
    {'d/new': 2}
"""
from __future__ import annotations

from typing import Iterable

from labkit.oci.layerdir import ROOT, Inode, LayerDir, parent_of
from labkit.oci.layerscan import TarEntry

REMOVE, MOVE, KEEP = "remove", "move", "keep"


def unpacked(entries: Iterable[TarEntry], label: str = "layer") -> LayerDir:
    """One layer's folder after all of ``entries`` (raises ``BadImage`` where Docker fails)."""
    layer = LayerDir(label)
    for entry in entries:
        layer.apply(entry)
    layer.finish()
    return layer


class Tree:
    """The merged filesystem: path -> ``Inode`` (hard links share one)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Inode] = {ROOT: Inode("dir")}
        self.children: dict[str, set[str]] = {ROOT: set()}

    def kind(self, path: str) -> str | None:
        """The type of what is at ``path`` (``None``: nothing)."""
        node = self.nodes.get(path)
        return node.kind if node is not None else None

    def files(self) -> dict[str, int]:
        """Regular files (every name of a hard-linked one): path -> size."""
        return {path: node.size for path, node in self.nodes.items() if node.kind == "file"}

    def overlay(self, layer: LayerDir) -> list[tuple[str, str]]:
        """Lay ``layer``'s folder over the tree. Returns what the disk must do, in order:
        ``(REMOVE, path)`` what was below, ``(MOVE, path)`` the layer's node (and all under
        it) into the tree, ``(KEEP, path)`` a folder that merges with the one below."""
        ops: list[tuple[str, str]] = []
        stack = sorted(layer.children[ROOT], reverse=True)
        while stack:
            path = stack.pop()
            node, below = layer.nodes[path], self.nodes.get(path)
            if node.kind == "dir" and below is not None and below.kind == "dir" and not node.opaque:
                self.nodes[path] = node
                ops.append((KEEP, path))
                stack += sorted(layer.children[path], reverse=True)
                continue
            if below is not None:
                self._remove(path)
                ops.append((REMOVE, path))
            if node.kind != "whiteout":
                self._graft(layer, path)
                ops.append((MOVE, path))
        return ops

    def _graft(self, layer: LayerDir, top: str) -> None:
        """Add ``top`` and all under it from ``layer`` (its whiteouts hide nothing here)."""
        self.children[parent_of(top)].add(top)
        stack = [top]
        while stack:
            path = stack.pop()
            node = layer.nodes[path]
            self.nodes[path] = node
            if node.kind == "dir":
                kids = [p for p in layer.children[path] if layer.nodes[p].kind != "whiteout"]
                self.children[path] = set(kids)
                stack += kids

    def _remove(self, top: str) -> None:
        self.children[parent_of(top)].discard(top)
        stack = [top]
        while stack:
            path = stack.pop()
            del self.nodes[path]
            stack.extend(self.children.pop(path, ()))
