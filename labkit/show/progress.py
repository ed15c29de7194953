"""Progress bars: a widget in a notebook, tqdm in a terminal.

Lower layers never import this: they take a ``progress(items, description)`` callable
(see ``labkit.observe.Progress``) and notebooks pass :func:`progress` down.

Example:
    >>> [n for n in progress([1, 2], "counting")]
    [1, 2]
"""
from __future__ import annotations

from typing import Sequence


def progress(items: Sequence, description: str):
    """Iterate ``items`` behind a progress bar: a widget in a notebook, tqdm elsewhere.

    In a notebook the bar is displayed as a widget alone (no text copy), so a cell's
    saved text output is the same whether or not the slow path ran.

    Example:
        >>> [n for n in progress([1, 2], "counting")]
        [1, 2]
    """
    bar = _notebook_bar(len(items), description)
    if bar is None:
        from tqdm import tqdm

        yield from tqdm(items, desc=description, disable=None)  # None: off when not a tty
        return
    for item in items:
        yield item
        bar.value += 1
    bar.bar_style = "success"


def _notebook_bar(total: int, description: str):
    try:
        from IPython import get_ipython
        from IPython.display import display
        import ipywidgets
    except ImportError:
        return None
    if getattr(get_ipython(), "kernel", None) is None:
        return None
    bar = ipywidgets.IntProgress(value=0, max=max(total, 1), description=description,
                                 style={"description_width": "initial"})
    bundle = bar._repr_mimebundle_()
    bundle.pop("text/plain", None)
    display(bundle, raw=True)
    return bar
