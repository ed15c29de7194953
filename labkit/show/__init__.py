"""Rendering only: tables, plots, widgets, progress bars and the lesson views.

Everything here displays what the layers below compute (``labkit.observe``,
``labkit.compare``, ``labkit.explore``, ``labkit.oci``); nothing below imports it.
The "open in Binder" links (``binder_url``, ``binder_badge``, ``BinderBadge``,
``BINDER_SETTINGS``) are re-exported from :mod:`labkit.binder`. One file per job:

* :mod:`~labkit.show.style` — the palette and byte counts;
* :mod:`~labkit.show.tables` — ``Table``, ``table``, ``Note``;
* :mod:`~labkit.show.documents` — JSON documents, byte-exact and indented;
* :mod:`~labkit.show.plots` — ``figure`` and every plot;
* :mod:`~labkit.show.progress` — ``progress`` bars;
* :mod:`~labkit.show.widgets` — the layer explorer and the engine picker;
* :mod:`~labkit.show.lessons` — the views the notebooks display;
* :mod:`~labkit.show.transcripts` — the docker commands behind a step, and their output;
* :mod:`~labkit.show.sizes` — the size ledger: every size of one image, per engine;
* :mod:`~labkit.show.classroom` — the instructor's view: who has passed which exercise.

Example:
    >>> from labkit import show
    >>> t = show.table([{"engine": "20.10.24", "layers": 1}], title="Layers")
    >>> "20.10.24" in t._repr_html_()
    True
"""
from __future__ import annotations

from labkit.binder import SETTINGS as BINDER_SETTINGS
from labkit.binder import BinderBadge, binder_badge, binder_url
from labkit.show.classroom import class_plot, class_table
from labkit.show.documents import Document, document
from labkit.show.lessons import (BUILD_TIME_MARK, DIFFERS, ScenarioView, across, case_value, comparison,
                                     engines, header_diff, image, link_chain, mode_banner, predicted_ids, scenario,
                                     tar_header_diff)
from labkit.show.plots import figure, hello_sizes, plot_layers, plot_sizes
from labkit.show.progress import progress
from labkit.show.sizes import gzip_comparison, listed_size_sum, plot_size_ledger, size_ledger
from labkit.show.style import PALETTE, human_bytes
from labkit.show.tables import Note, Table, table
from labkit.show.transcripts import Transcript, command, commands, terminal
from labkit.show.widgets import (engine_picker, layer_explorer, layer_label,
                                     observation_label, size_bar)

__all__ = [
    "BINDER_SETTINGS", "BUILD_TIME_MARK", "DIFFERS", "PALETTE", "BinderBadge", "Note", "ScenarioView", "Table",
    "Transcript", "class_plot", "class_table", "command", "commands", "Document", "document", "gzip_comparison", "listed_size_sum",
    "plot_size_ledger", "size_ledger",
    "across", "binder_badge", "binder_url", "case_value", "comparison", "engine_picker",
    "engines", "figure", "header_diff", "hello_sizes", "human_bytes", "image", "layer_explorer",
    "layer_label", "link_chain", "mode_banner", "observation_label", "plot_layers", "plot_sizes", "predicted_ids",
    "progress",
    "scenario", "size_bar", "table", "tar_header_diff", "terminal",
]
