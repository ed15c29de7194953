"""Binder links: the "open in Binder" address and badge, from one settings file.

The Binder site, the repository slug (``OWNER/NAME`` on GitHub), the ref and the badge
image live in one place, ``labkit/binder.json``. README.md and each notebook's first
cell carry a copy of the badge (Markdown cannot compute it), so :func:`set_repository`
(the command ``labkit binder --repository OWNER/NAME``) rewrites the settings and every
copy at once; ``tests/test_binder.py`` checks that no copy differs.

Example:
    >>> from labkit import binder
    >>> binder.binder_url("00-start-here.ipynb").endswith("?urlpath=lab/tree/notebooks/00-start-here.ipynb")
    True
    >>> binder.set_repository("me/my-fork", root="/path/to/checkout")   # doctest: +SKIP
    [PosixPath('/path/to/checkout/labkit/binder.json'), PosixPath('/path/to/checkout/README.md'), ...]
"""
from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import LabkitError

SETTINGS = Path(__file__).with_name("binder.json")
# A badge link as README.md and the notebooks write it: [![Binder](image)](site/v2/gh/...).
BADGE_LINK = re.compile(r"\[!\[Binder\]\([^)\s]+\)\]\(https?://[^)\s]+/v2/gh/[^)\s]+\)")
# GitHub: an owner is letters, digits and single hyphens; a repository name adds . and _.
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
REF = re.compile(r"[A-Za-z0-9._/-]{1,200}")


def settings(path: str | os.PathLike = SETTINGS) -> dict:
    """``labkit/binder.json``: the Binder site, repository slug, ref and badge image.

    Example:
        >>> sorted(settings())
        ['badge', 'binder', 'ref', 'repository']
    """
    return json.loads(Path(path).read_text())


def _url(config: dict, notebook: str | None) -> str:
    path = "notebooks" + (f"/{Path(notebook).name}" if notebook else "")
    return f"{config['binder']}/v2/gh/{config['repository']}/{config['ref']}?urlpath=lab/tree/{path}"


def binder_url(notebook: str | None = None) -> str:
    """The "open in Binder" address of ``notebook`` (a name in ``notebooks/``), or of the lab.

    Example:
        >>> binder_url("00-start-here.ipynb").endswith("urlpath=lab/tree/notebooks/00-start-here.ipynb")
        True
    """
    return _url(settings(), notebook)


@dataclass(frozen=True)
class BinderBadge:
    """An "open in Binder" badge: a link image in a notebook, Markdown in text.

    Example:
        >>> str(BinderBadge("https://mybinder.org/v2/gh/o/n/HEAD", "https://mybinder.org/badge_logo.svg"))
        '[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/o/n/HEAD)'
    """

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
    return BinderBadge(binder_url(notebook), settings()["badge"])


# --- pointing every badge at another repository -----------------------------------------
def _checkout(root: str | os.PathLike | None) -> Path:
    root = Path(root) if root is not None else SETTINGS.parents[1]
    if not (root / "README.md").is_file() or not (root / "notebooks").is_dir():
        raise LabkitError(f"{root} is not a labkit checkout (no README.md and notebooks/ there)",
                          hint="run it in a clone of the lab's repository, installed with `make`")
    return root


def _badge(config: dict, link: str, notebook: str | None = None) -> str:
    """``link`` pointed at ``config``; it opens ``notebook``, or what it opened before."""
    if notebook is None:
        opened = re.search(r"urlpath=lab/tree/notebooks/([^)\s/]+\.ipynb)", link)
        notebook = opened[1] if opened else None
    return str(BinderBadge(_url(config, notebook), config["badge"]))


def _rewrite_notebook(path: Path, config: dict) -> bool:
    """Point the badges in the first Markdown cell at ``config``; every other byte stays."""
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    cell = next((c for c in notebook.get("cells", []) if c.get("cell_type") == "markdown"), None)
    if cell is None:
        return False
    source = cell["source"]
    lines = [source] if isinstance(source, str) else list(source)
    changed = False
    for i, line in enumerate(lines):
        fixed = BADGE_LINK.sub(lambda m: _badge(config, m[0], path.name), line)
        if fixed == line:
            continue
        for ascii_only in (False, True):  # as nbformat writes it, or all-ASCII JSON
            old_json, new_json = (json.dumps(s, ensure_ascii=ascii_only) for s in (line, fixed))
            if old_json in text:
                break
        else:
            raise LabkitError(f"{path}: cannot find the badge line in the file's text",
                              hint="fix the badge by hand, then run the command again")
        text = text.replace(old_json, new_json, 1)
        lines[i], changed = fixed, True
    if not changed:
        return False
    cell["source"] = lines[0] if isinstance(source, str) else lines
    if json.loads(text) != notebook:  # the edit must have touched that one cell, nothing else
        raise LabkitError(f"{path}: the badge text also appears outside the first cell",
                          hint="fix the badge by hand")
    path.write_text(text, encoding="utf-8")
    return True


def set_repository(repository: str, ref: str | None = None, *,
                   root: str | os.PathLike | None = None) -> list[Path]:
    """Point Binder at ``repository`` (``OWNER/NAME`` on GitHub): settings and every badge.

    Rewrites ``labkit/binder.json``, the badge in README.md and the badge in each
    notebook's first Markdown cell (nothing else in the notebook changes, outputs
    included). Commit the files it returns.

    Args:
        repository: the GitHub slug Binder builds, e.g. ``"my-school/from-scratch"``.
        ref: a branch, tag or commit (default: keep the current one, ``HEAD`` at first).
        root: the checkout (default: the one this labkit is imported from).

    Returns:
        The files it changed (none when they already point there).

    Example:
        >>> set_repository("my-school/from-scratch", ref="main")          # doctest: +SKIP
        [PosixPath('.../labkit/binder.json'), PosixPath('.../README.md'), ...]
    """
    if not REPOSITORY.fullmatch(repository):
        raise LabkitError(f"{repository!r} is not a GitHub repository slug", hint="write it as OWNER/NAME")
    if ref is not None and not REF.fullmatch(ref):
        raise LabkitError(f"{ref!r} is not a branch, tag or commit name",
                          hint="use letters, digits and . _ / - only")
    root = _checkout(root)
    path = root / "labkit" / "binder.json"
    config = {**settings(path), "repository": repository, **({"ref": ref} if ref else {})}
    changed = []
    text = json.dumps(config, indent=2) + "\n"
    if path.read_text() != text:
        path.write_text(text)
        changed.append(path)
    readme = root / "README.md"
    old = readme.read_text(encoding="utf-8")
    new = BADGE_LINK.sub(lambda m: _badge(config, m[0]), old)
    if new != old:
        readme.write_text(new, encoding="utf-8")
        changed.append(readme)
    changed += [nb for nb in sorted((root / "notebooks").glob("*.ipynb")) if _rewrite_notebook(nb, config)]
    return changed
