"""Exercise checkers: each says what is right, or what is wrong and a hint.

One checker per exercise, named ``check_<notebook>_<n>`` (``check_dd_<n>`` for the deep
dives); the ids are those of :data:`EXERCISES`, and a progress file with the ids of
before the renumbering still counts (:data:`OLD_IDS`). A checker never raises on
a wrong answer: it returns a :class:`Verdict` that shows in the notebook. A passed
exercise is remembered in a small JSON file (``progress()`` shows them all), kept in
``$LABKIT_PROGRESS`` or ``~/.local/share/labkit/progress.json``; ``export_progress()`` /
``import_progress(path)`` carry it from one Binder session to the next
(:mod:`labkit.checks.record`). On a class server, ``class_summary(folder)`` and
``class_plot(folder)`` show the instructor who has passed which exercise, from the
learners' progress files alone (:mod:`labkit.checks.classroom`).

Example:
    >>> from labkit import checks
    >>> checks.check_03_3(None).passed is None
    True
    >>> print(checks.check_01_2("sha256:e3b0"))  # doctest: +ELLIPSIS
    ✘ 01.2 ...
"""
from __future__ import annotations

from typing import Any, Callable

from labkit.checks.base_image import check_05_1
from labkit.checks.classroom import ClassProgress, class_plot, class_progress, class_summary
from labkit.checks.docker_versions import check_04_1, check_04_2, check_dd_1
from labkit.checks.empty_image import check_01_1, check_01_2, check_01_3
from labkit.checks.entrypoint import check_03_3
from labkit.checks.exercises import EXERCISES, OLD_IDS
from labkit.checks.record import export_progress, import_progress, progress, progress_file
from labkit.checks.multi_stage import check_02_3
from labkit.checks.real_program import check_03_1, check_03_2
from labkit.checks.registry import check_06_1, check_06_2, check_06_3, check_06_4
from labkit.checks.start_here import check_00_1, check_00_2
from labkit.checks.static_hello import check_02_1, check_02_2
from labkit.checks.verdict import Verdict
from labkit.checks.whiteouts import check_05_2, check_05_3, check_05_4

__all__ = ["EXERCISES", "OLD_IDS", "ClassProgress", "Verdict", "checkers", "class_plot", "class_progress",
           "class_summary", "export_progress", "import_progress", "progress", "progress_file",
           "check_00_1", "check_00_2", "check_01_1", "check_01_2", "check_01_3", "check_02_1", "check_02_2",
           "check_02_3", "check_03_1", "check_03_2", "check_03_3", "check_04_1", "check_04_2", "check_05_1",
           "check_05_2", "check_05_3", "check_05_4", "check_06_1", "check_06_2", "check_06_3", "check_06_4",
           "check_dd_1"]


def checkers() -> dict[str, Callable[[Any], Verdict]]:
    """Exercise id -> its checker, for tests and the instructors' notes."""
    return {k: globals()[f"check_{k.replace('.', '_')}"] for k in EXERCISES}
