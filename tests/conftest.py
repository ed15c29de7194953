"""Shared fixtures and the "required in CI" rule for tests that need real parts.

A test marked ``engine``, ``fleet``, ``browser`` or ``tools`` is skipped with a reason
when that part is missing -- unless ``LABKIT_REQUIRE_<PART>=1`` is set (CI sets all of
them), in which case the missing part is a failure, never a silent skip.
"""
from __future__ import annotations

import os
import shutil

import pytest

PARTS = ("engine", "fleet", "browser", "tools")


def required(part: str) -> bool:
    """True when CI demands ``part`` (``LABKIT_REQUIRE_ENGINE=1`` and so on)."""
    return os.environ.get(f"LABKIT_REQUIRE_{part.upper()}") == "1"


def need(part: str, reason: str):
    """Skip for ``reason`` -- or fail, when ``part`` is required."""
    if required(part):
        pytest.fail(f"{reason} (LABKIT_REQUIRE_{part.upper()}=1)", pytrace=False)
    pytest.skip(reason)


def need_tool(name: str) -> str:
    """Path of the program ``name``, or skip/fail as ``tools`` requires."""
    path = shutil.which(name)
    if path is None:
        need("tools", f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def engine():
    """The Docker engine at DOCKER_HOST (or the default socket), or skip/fail."""
    from labkit import engine as engine_mod
    from labkit.errors import LabkitError

    try:
        eng = engine_mod.connect()
    except LabkitError as err:
        need("engine", f"no Docker engine: {err}")
    yield eng
    eng.cleanup()
