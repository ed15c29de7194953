"""labkit: build, read and run the smallest container images, with or without Docker.

Notebooks start with ``import labkit`` and call only its public API
(see ``docs/labkit-api.md``).

Example:
    >>> import labkit
    >>> labkit.mode() in ("live", "offline")
    True
"""
from __future__ import annotations

import importlib

from labkit._version import __version__
from labkit.errors import LabkitError

__all__ = ["LabkitError", "doctor", "mode", "__version__"]

_SUBMODULES = {"oci", "hello", "binder", "engine", "fleet", "registry", "machine", "scenarios", "observe",
               "compare", "explore", "ledger", "show", "checks", "lessons", "errors", "host"}


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
