"""nbval, notebook by notebook: outputs compared exactly (``--nbval``) where this machine has
the optional programs a notebook's stored outputs assume (``labkit.lessons.missing_here``:
docker-registry, a static busybox, C compilers), and only run without error (as
``--nbval-lax``) where it lacks one -- those steps then show their recordings, so what they
print differs. One line at the end says which notebooks, what was missing, and how to
install it. Nothing changes for a run that is already ``--nbval-lax``.
"""
from __future__ import annotations

from labkit import engine, lessons

LAX: dict[str, dict[str, str]] = {}


def _live() -> bool:
    """True when a Docker engine answers at DOCKER_HOST (as the notebook's kernel will see)."""
    found = engine.try_connect()
    if found is not None:
        found.api.close()
    return found is not None


def pytest_collectstart(collector):
    if type(collector).__name__ != "IPyNbFile" or not getattr(collector, "compare_outputs", False):
        return
    missing = lessons.missing_here(collector.path, live=_live())
    if missing:
        collector.compare_outputs = False      # each cell still runs and must not fail
        LAX[collector.path.stem] = missing


def pytest_terminal_summary(terminalreporter):
    if not LAX:
        return
    programs = {p: pkg for missing in LAX.values() for p, pkg in missing.items()}
    terminalreporter.write_line(
        f"nbval: outputs not compared for {', '.join(sorted(LAX))} (not here: {', '.join(sorted(programs))}; "
        f"apt-get install {' '.join(sorted(set(programs.values())))}): each cell run, its outputs not "
        "compared; every other notebook compared exactly")
