"""Drop the saved widget state from executed notebooks (``make execute`` runs this).

With a notebook's ``metadata.widgets`` gone, a viewer without a kernel (nbconvert's HTML,
GitHub) shows each widget's static HTML fallback instead of an empty widget area; in
JupyterLab the widgets come back when the cell runs.

Usage: python .ci/strip_widget_state.py notebooks/*.ipynb
"""
from __future__ import annotations

import sys

import nbformat


def main(paths: list[str]) -> int:
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if notebook.metadata.pop("widgets", None) is not None:
            nbformat.write(notebook, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
