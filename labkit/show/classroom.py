"""The instructor's view of a class: who has passed which exercise, as a table and a plot.

Rendering only: the data (learner -> exercise -> when first passed) comes from
``labkit.checks.class_progress``, which reads the learners' progress files.

Example:
    >>> exercises = {"01.1": "Write the empty image", "01.2": "The empty layer's digest"}
    >>> passed = {"ada": {"01.1": "2026-11-27 10:00 UTC"}, "bob": {}}
    >>> print(class_table(passed, exercises))
    Class progress: 2 learners, 1 of 2 exercises passed by at least one
    learner    passed  01.1  01.2
    ---------  ------  ----  ----
    ada        1 of 2  ✔     ·
    bob        0 of 2  ·     ·
    passed by  -       1     0
"""
from __future__ import annotations

from typing import Mapping

from labkit.show.plots import _close, figure
from labkit.show.style import PALETTE
from labkit.show.tables import Table, table

PASSED, OPEN, UNVERIFIED = "✔", "·", "○"


def class_table(passed: Mapping[str, Mapping[str, str]], exercises: Mapping[str, str],
                unreadable: Mapping[str, str] | None = None,
                unverified: Mapping[str, Mapping[str, str]] | None = None) -> Table:
    """One row per learner (``✔`` passed, ``○`` unverified: judged where it could not be
    built or run, ``·`` open), then how many passed each exercise.

    Args:
        passed: learner -> {exercise id: when first passed}.
        exercises: exercise id -> title, in the lab's order (the columns).
        unreadable: learner -> why their progress file could not be read (listed, not hidden).
        unverified: learner -> {exercise id: when}: not passed, not failed.
    """
    rows = []
    for learner in sorted(passed):
        done, maybe = passed[learner], (unverified or {}).get(learner, {})
        more = f" (+{len(maybe)} ○)" if maybe else ""
        row = {"learner": learner, "passed": f"{len(done)} of {len(exercises)}{more}"}
        row.update({k: PASSED if k in done else UNVERIFIED if k in maybe else OPEN for k in exercises})
        rows.append(row)
    for learner, why in sorted((unreadable or {}).items()):
        rows.append({"learner": learner, "passed": f"unreadable: {why}", **dict.fromkeys(exercises, "?")})
    counts = {k: sum(k in done for done in passed.values()) for k in exercises}
    rows.append({"learner": "passed by", "passed": "-", **counts})
    reached = sum(1 for n in counts.values() if n)
    learners = len(passed) + len(unreadable or {})
    title = (f"Class progress: {learners} learner{'' if learners == 1 else 's'}, {reached} of "
             f"{len(exercises)} exercises passed by at least one")
    return table(rows, ["learner", "passed", *exercises], title=title)


def class_plot(passed: Mapping[str, Mapping[str, str]], exercises: Mapping[str, str]):
    """Horizontal bars: for each exercise, how many learners have passed it (of all).

    Returns:
        ``(fig, ax)``.

    Example:
        >>> fig, ax = class_plot({"ada": {"01.1": "x"}, "bob": {}}, {"01.1": "Empty", "01.2": "Digest"})
        >>> [int(bar.get_width()) for bar in ax.patches]
        [0, 1]
    """
    learners = len(passed)
    labels = [f"{k} {title}" for k, title in exercises.items()][::-1]
    counts = [sum(k in done for done in passed.values()) for k in exercises][::-1]
    fig, ax = figure(f"Who has passed which exercise ({learners} learners)", xlabel="learners",
                     size=(7.5, 0.3 * len(labels) + 1.2))
    ax.barh(labels, counts, color=PALETTE[0])
    ax.set_xlim(0, max(learners, 1))
    ax.grid(axis="x", alpha=0.3)
    for y, n in enumerate(counts):
        ax.annotate(f"{n}", (n, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    return _close(fig), ax
