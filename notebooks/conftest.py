"""nbval, notebook by notebook: outputs compared exactly (``--nbval``) where this machine has
the optional programs a notebook's stored outputs assume (``labkit.lessons.missing_here``:
docker-registry, a static busybox, C compilers), and only run without error (as
``--nbval-lax``) where it lacks one -- those steps then show their recordings, so what they
print differs. One line at the end says which notebooks, what was missing, and how to
install it. Nothing changes for a run that is already ``--nbval-lax``.

With an engine, every notebook tidies what it made: an image tag that was not on the
engine before the run and is there after it fails the run (it is named, then removed).
"""
from __future__ import annotations

import contextlib

from labkit import engine, lessons
from labkit.errors import LabkitError

LAX: dict[str, dict[str, str]] = {}
TAGS_BEFORE: set[str] | None = None
LEFT_BEHIND: list[str] = []


def _live() -> bool:
    """True when a Docker engine answers at DOCKER_HOST (as the notebook's kernel will see)."""
    found = engine.try_connect()
    if found is not None:
        found.api.close()
    return found is not None


def _tags() -> set[str] | None:
    """The image tags on the engine at DOCKER_HOST, or None without one."""
    found = engine.try_connect()
    if found is None:
        return None
    try:
        return found.tags()
    finally:
        found.api.close()


def pytest_sessionstart(session):
    global TAGS_BEFORE
    TAGS_BEFORE = _tags()


def pytest_sessionfinish(session, exitstatus):
    after = _tags()
    if TAGS_BEFORE is None or after is None:
        return
    LEFT_BEHIND[:] = sorted(after - TAGS_BEFORE)
    if LEFT_BEHIND:
        eng = engine.connect()
        for tag in LEFT_BEHIND:
            with contextlib.suppress(LabkitError):     # a container still uses it: named all the same
                eng.remove(tag)
        session.exitstatus = 1


def pytest_collectstart(collector):
    if type(collector).__name__ != "IPyNbFile" or not getattr(collector, "compare_outputs", False):
        return
    missing = lessons.missing_here(collector.path, live=_live())
    if missing:
        collector.compare_outputs = False      # each cell still runs and must not fail
        LAX[collector.path.stem] = missing


def pytest_terminal_summary(terminalreporter):
    if LEFT_BEHIND:
        terminalreporter.write_line(f"nbval: the notebooks left {len(LEFT_BEHIND)} image tag(s) on the engine "
                                    f"(now removed; a notebook's tidy-up should): {', '.join(LEFT_BEHIND)}", red=True)
    if not LAX:
        return
    programs = {p: pkg for missing in LAX.values() for p, pkg in missing.items()}
    terminalreporter.write_line(
        f"nbval: outputs not compared for {', '.join(sorted(LAX))} (not here: {', '.join(sorted(programs))}; "
        f"apt-get install {' '.join(sorted(set(programs.values())))}): each cell run, its outputs not "
        "compared; every other notebook compared exactly")
