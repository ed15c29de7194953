"""Rendering only: tables, plots, widgets, progress bars and the lesson views.

Everything here displays what the layers below compute (``labkit.observe``,
``labkit.compare``, ``labkit.explore``, ``labkit.oci``); nothing below imports it.
One file per job:

* :mod:`~labkit.show.style` — the palette and byte counts;
* :mod:`~labkit.show.tables` — ``Table``, ``table``, ``Note``;
* :mod:`~labkit.show.plots` — ``figure`` and every plot;
* :mod:`~labkit.show.progress` — ``progress`` bars;
* :mod:`~labkit.show.widgets` — the layer explorer and the engine picker;
* :mod:`~labkit.show.binder` — "open in Binder" links;
* :mod:`~labkit.show.commands` — the ``docker`` command of a step and its raw output;
* :mod:`~labkit.show.lessons` — the views the notebooks display.

Example:
    >>> from labkit import show
    >>> t = show.table([{"engine": "20.10.24", "layers": 1}], title="Layers")
    >>> "20.10.24" in t._repr_html_()
    True
"""
from __future__ import annotations

from labkit.show.binder import BINDER_SETTINGS, BinderBadge, binder_badge, binder_url
from labkit.show.commands import Command, command
from labkit.show.lessons import (BUILD_TIME_MARK, ScenarioView, across, case_value, comparison,
                                     engines, header_diff, image, mode_banner, scenario,
                                     tar_header_diff)
from labkit.show.plots import figure, hello_sizes, plot_layers, plot_sizes
from labkit.show.progress import progress
from labkit.show.style import PALETTE, human_bytes
from labkit.show.tables import Note, Table, table
from labkit.show.widgets import (engine_picker, layer_explorer, layer_label,
                                     observation_label, size_bar)

__all__ = [
    "BINDER_SETTINGS", "BUILD_TIME_MARK", "PALETTE", "BinderBadge", "Command", "Note", "ScenarioView", "Table",
    "across", "binder_badge", "binder_url", "case_value", "command", "comparison", "engine_picker",
    "engines", "figure", "header_diff", "hello_sizes", "human_bytes", "image", "layer_explorer",
    "layer_label", "mode_banner", "observation_label", "plot_layers", "plot_sizes", "progress",
    "scenario", "size_bar", "table", "tar_header_diff",
]
