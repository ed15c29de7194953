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


@pytest.fixture(scope="session")
def fleet():
    """The default fleet (``labkit fleet up``) for the session: name -> base_url.

    Starting five engines is slow, so it runs only with LABKIT_FLEET=1 or
    LABKIT_REQUIRE_FLEET=1 (CI). Use ``labkit.fleet.engine(name)`` for an Engine.
    Teardown: ``down``, then nothing may be left (process, mount or socket).
    """
    from labkit import fleet as fleet_mod
    from labkit.errors import LabkitError

    if not (os.environ.get("LABKIT_FLEET") == "1" or required("fleet")):
        pytest.skip("the fleet is slow to start: set LABKIT_FLEET=1 to run fleet tests")
    try:
        fleet_mod.up(progress=False)
    except LabkitError as err:
        need("fleet", f"the fleet did not come up: {err}")
    yield fleet_mod.endpoints()
    fleet_mod.down()
    assert fleet_mod.leftovers() == []
