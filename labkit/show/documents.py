"""An image's JSON documents (config, manifest, index), byte-exact and readable side by side.

The exact bytes are what the digest is taken over — one space more and the digest
changes — so the lesson shows them as stored; the indented form beside them is only for
reading.

Example:
    >>> print(document(b'{"b":1,"a":[]}', "config"))
    config: 14 bytes, sha256:ffe4d5ca177f…
    exact bytes (what the digest is taken over):
    {"b":1,"a":[]}
    the same, indented for reading:
    {
      "b": 1,
      "a": []
    }
"""
from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass

from labkit.show.style import PALETTE


@dataclass(frozen=True)
class Document:
    """A JSON document as stored, and indented for reading."""

    title: str
    data: bytes

    @property
    def digest(self) -> str:
        """``sha256:`` of the exact bytes."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def pretty(self) -> str:
        """The same JSON, indented two spaces, keys in their stored order."""
        return json.dumps(json.loads(self.data), indent=2, ensure_ascii=False)

    def heading(self) -> str:
        """``config: 140 bytes, sha256:5c3acd0d2cb3…``."""
        return f"{self.title}: {len(self.data):,} bytes, {self.digest[:19]}…"

    def __str__(self) -> str:
        return (f"{self.heading()}\nexact bytes (what the digest is taken over):\n"
                f"{self.data.decode('utf-8', 'replace')}\nthe same, indented for reading:\n"
                f"{self.pretty()}")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        box = ("margin:2px 0;padding:6px 8px;background:#f7f7f7;white-space:pre-wrap;"
               "font-family:var(--jp-code-font-family,monospace);"
               "word-break:break-all;font-size:90%")
        return (f"<div class='labkit-document'><b>{esc(self.heading())}</b>"
                f"<div style='display:flex;gap:12px;flex-wrap:wrap'>"
                f"<div style='flex:1;min-width:18em'><small>exact bytes (what the digest is "
                f"taken over)</small><pre style='{box};border-left:3px solid {PALETTE[0]}'>"
                f"{esc(self.data.decode('utf-8', 'replace'))}</pre></div>"
                f"<div style='flex:1;min-width:18em'><small>the same, indented for reading"
                f"</small><pre style='{box}'>{esc(self.pretty())}</pre></div></div></div>")


def document(data: bytes, title: str = "document") -> Document:
    """A JSON document to show exactly and readably (``labkit.oci.Image.config_bytes()``,
    ``.manifest_bytes()``, ``.index_bytes()``)."""
    return Document(title, bytes(data))
