"""The across-versions lesson and its deep dives with a live fleet: nbval passes while
every engine is up.

Notebook 4 and the deep dives it links show the recorded observations of every catalog
engine -- observed live instead on each fleet engine that is up (the scenarios each one
shows, in the lab's order) -- and run their terminal cells on the engine at DOCKER_HOST;
notebook 0's doctor lists the fleet. All must still match their committed outputs when
the fleet is up, so a live fleet reproduces every recorded number they show -- `make test`
checks them again with the fleet down and with no engine at all.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["notebooks/00-start-here.ipynb", "notebooks/04-layers-across-docker-versions.ipynb",
             "notebooks/deep-dives/docker-1.4-and-1.10.ipynb", "notebooks/deep-dives/every-size-of-an-image.ipynb",
             "notebooks/deep-dives/buildkit-across-versions.ipynb", "notebooks/deep-dives/explore-the-engines.ipynb"]


@pytest.mark.fleet
def test_lessons_pass_nbval_with_a_live_fleet(fleet):
    assert len(fleet) >= 4, f"expected the default fleet, got {sorted(fleet)}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval",
         "--nbval-sanitize-with", "notebooks/sanitize.cfg", *NOTEBOOKS],
        cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
