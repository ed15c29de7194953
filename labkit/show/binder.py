"""Links that open the lab on Binder; the repository slug lives only in ``labkit/binder.json``.

Example:
    >>> binder_url().endswith("urlpath=lab/tree/notebooks")
    True
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

BINDER_SETTINGS = Path(__file__).resolve().parent.parent / "binder.json"


def _binder_settings() -> dict:
    """``labkit/binder.json``: the Binder site, repository slug, ref and badge image."""
    return json.loads(BINDER_SETTINGS.read_text())


def binder_url(notebook: str | None = None) -> str:
    """The "open in Binder" address of ``notebook`` (a name in ``notebooks/``), or of the lab.

    The repository slug lives in one place, ``labkit/binder.json``.

    Example:
        >>> binder_url("00-start-here.ipynb").endswith("urlpath=lab/tree/notebooks/00-start-here.ipynb")
        True
    """
    settings = _binder_settings()
    path = "notebooks" + (f"/{Path(notebook).name}" if notebook else "")
    return f"{settings['binder']}/v2/gh/{settings['repository']}/{settings['ref']}?urlpath=lab/tree/{path}"


@dataclass(frozen=True)
class BinderBadge:
    """An "open in Binder" badge: a link image in a notebook, Markdown in text."""

    url: str
    badge: str

    def _repr_html_(self) -> str:
        return (f"<a class='labkit-binder-badge' href='{html.escape(self.url)}' target='_blank'>"
                f"<img src='{html.escape(self.badge)}' alt='Open in Binder'></a>")

    def _repr_markdown_(self) -> str:
        return f"[![Binder]({self.badge})]({self.url})"

    __str__ = _repr_markdown_


def binder_badge(notebook: str | None = None) -> BinderBadge:
    """The badge that opens ``notebook`` on Binder (see :func:`binder_url`).

    Example:
        >>> str(binder_badge("01-the-empty-image.ipynb"))[:12]
        '[![Binder](h'
    """
    return BinderBadge(binder_url(notebook), _binder_settings()["badge"])
