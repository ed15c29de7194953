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

from labkit.errors import LabkitError

__version__ = "0.1.0"
__all__ = ["LabkitError", "doctor", "mode", "__version__"]

_SUBMODULES = {"oci", "hello", "engine", "fleet", "observe", "show", "checks", "errors", "machine", "lessons", "compare", "explore"}


def __getattr__(name: str):
    # Submodules load on first use, so `import labkit` stays fast on Binder.
    if name in _SUBMODULES:
        return importlib.import_module(f"labkit.{name}")
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


def mode() -> str:
    """``"live"`` when a Docker engine answers at DOCKER_HOST, else ``"offline"``."""
    from labkit import engine

    eng = engine.try_connect()
    if eng is None:
        return "offline"
    eng.api.close()  # only asked whether it answers: don't keep its connection open
    return "live"


def doctor():
    """What this machine has and the mode the notebooks run in (see ``labkit.machine``)."""
    from labkit import machine

    return machine.report()
