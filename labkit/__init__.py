"""labkit: build, read and run the smallest container images, with or without Docker.

Notebooks start with ``import labkit`` and call only its public API
(see ``docs/labkit-api.md``). In IPython, ``import labkit`` also registers the
``%%terminal`` cell magic: the lines a learner types at a terminal, run live or shown as
recorded (:mod:`labkit.terminal`, rendered by ``labkit.show.terminal``).

Example:
    >>> import labkit
    >>> labkit.mode() in ("live", "offline")
    True
"""
from __future__ import annotations

import importlib
import sys

from labkit._version import __version__
from labkit.errors import LabkitError

__all__ = ["LabkitError", "doctor", "mode", "__version__"]

_SUBMODULES = {"oci", "hello", "binder", "engine", "fleet", "registry", "machine", "scenarios", "observe",
               "compare", "explore", "ledger", "show", "checks", "lessons", "errors", "host", "terminal"}


def __getattr__(name: str):
    # Submodules load on first use, so `import labkit` stays fast on Binder.
    if name in _SUBMODULES:
        return importlib.import_module(f"labkit.{name}")
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


def mode() -> str:
    """``"live"`` when a Docker engine answers at DOCKER_HOST, else ``"offline"``."""
    from labkit import machine  # the facade loads submodules on first use: keeps `import labkit` fast

    return machine.mode()


def doctor():
    """What this machine has and the mode the notebooks run in (see ``labkit.machine``)."""
    from labkit import machine

    return machine.report()


def _terminal_magic(line: str, cell: str):
    """``%%terminal``: run the cell's command lines (see :mod:`labkit.terminal`)."""
    return importlib.import_module("labkit.show").terminal(cell)


def _register_magic() -> None:
    """Register ``%%terminal`` when imported inside IPython (a notebook's kernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.register_magic_function(_terminal_magic, magic_kind="cell", magic_name="terminal")


_register_magic()
