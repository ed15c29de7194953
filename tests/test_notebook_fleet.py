"""The across-versions lesson with a live fleet: nbval passes while every engine is up.

Notebook 3 shows the recorded observations of every catalog engine (the fleet tests
check that a live fleet reproduces their deterministic fields) and runs its live cells
on the engine at DOCKER_HOST; notebook 0's doctor lists the fleet. Both must still match
their committed outputs when the fleet is up -- `make test` checks them again with the
fleet down and with no engine at all.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["notebooks/00-start-here.ipynb", "notebooks/03-layers-across-docker-versions.ipynb"]


@pytest.mark.fleet
def test_lessons_pass_nbval_with_a_live_fleet(fleet):
    assert len(fleet) >= 4, f"expected the default fleet, got {sorted(fleet)}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval",
         "--nbval-sanitize-with", "notebooks/sanitize.cfg", *NOTEBOOKS],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
