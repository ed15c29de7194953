"""The instructor's class summary (labkit.checks.classroom, drawn by labkit.show.classroom):
who has passed which exercise, from the learners' progress files -- and nothing else."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from labkit import checks, show
from labkit.checks import EXERCISES, classroom, record
from labkit.errors import LabkitError


def _learner(root: Path, name: str, passed: dict | None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    if passed is not None:
        (folder / "progress.json").write_text(json.dumps({"passed": passed}))
    return folder


@pytest.fixture
def class_root(tmp_path) -> Path:
    """A classroom's layout: run/, progress/<learner>/progress.json, homes with notebooks."""
    (tmp_path / "run").mkdir()
    progress = tmp_path / "progress"
    _learner(progress, "labkit-learner-01", {"00.1": "2026-11-27 09:10 UTC", "01.2": "2026-11-27 09:40 UTC"})
    _learner(progress, "labkit-learner-02", {"00.1": "2026-11-27 09:12 UTC"})
    _learner(progress, "labkit-learner-03", None)                       # nothing passed yet
    broken = _learner(progress, "labkit-learner-04", None)
    (broken / "progress.json").write_text("{not json")
    home = tmp_path / "home" / "labkit-learner-01" / "notebooks"
    home.mkdir(parents=True)
    (home / "01-the-empty-image.ipynb").write_text('{"cells": []}')
    return tmp_path


def test_who_passed_what_from_a_classroom_root(class_root):
    found = checks.class_progress(class_root)
    assert sorted(found.passed) == ["labkit-learner-01", "labkit-learner-02", "labkit-learner-03"]
    assert found.passed["labkit-learner-03"] == {}
    assert found.count("00.1") == 2 and found.count("01.2") == 1 and found.count("04.3") == 0
    assert found.learners_who_passed("00.1") == ["labkit-learner-01", "labkit-learner-02"]
    assert "not a progress file" in found.unreadable["labkit-learner-04"]
    assert checks.class_progress(class_root / "progress").passed == found.passed


def test_the_table_has_a_row_per_learner_and_a_count_per_exercise(class_root):
    text = str(checks.class_summary(class_root))
    lines = text.splitlines()
    assert lines[0] == f"Class progress: 4 learners, 2 of {len(EXERCISES)} exercises passed by at least one"
    row = next(line for line in lines if line.startswith("labkit-learner-01")).split()
    assert row[1:4] == ["2", "of", str(len(EXERCISES))] and row[4:9] == ["✔", "·", "·", "✔", "·"]
    assert any(line.startswith("labkit-learner-04") and "unreadable" in line for line in lines)
    counts = next(line for line in lines if line.startswith("passed by")).split()
    assert counts[3:6] == ["2", "0", "0"] and len(counts) == 3 + len(EXERCISES)
    assert "<table" in checks.class_summary(class_root)._repr_html_()


def test_the_plot_counts_learners_per_exercise(class_root):
    fig, ax = checks.class_plot(class_root)
    widths = {bar.get_y(): bar.get_width() for bar in ax.patches}
    assert sorted(widths.values(), reverse=True)[:2] == [2, 1]
    assert ax.get_xlim() == (0, 3)                                    # of 3 readable learners
    assert "Who has passed which exercise" in ax.get_title(loc="left")
    assert len(ax.get_yticklabels()) == len(EXERCISES)


def test_exported_files_and_a_mapping_work_too(tmp_path):
    # What learners hand in with export_progress(): <learner>.json in one folder.
    with mock.patch.dict(os.environ, LABKIT_PROGRESS=str(tmp_path / "own.json")):
        record.remember("02.3")
        record.export_progress(tmp_path / "handed-in" / "ada.json")
    found = checks.class_progress(tmp_path / "handed-in")
    assert list(found.passed) == ["ada"] and "02.3" in found.passed["ada"]
    assert checks.class_progress({"bob": tmp_path / "own.json"}).passed["bob"].keys() == {"02.3"}


def test_never_opens_a_notebook(class_root):
    opened = []

    def audit(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(audit)          # hooks cannot be removed: it only records into `opened`
    before = len(opened)
    checks.class_summary(class_root)
    mine = [p for p in opened[before:] if str(class_root) in p]
    assert mine and all(p.endswith("progress.json") for p in mine), mine
    opened.clear()


def test_no_progress_anywhere_is_one_clear_error(tmp_path):
    with pytest.raises(LabkitError, match="no learners' progress"):
        checks.class_progress(tmp_path)
    with pytest.raises(LabkitError, match="not a folder"):
        checks.class_progress(tmp_path / "missing")


def test_show_renders_plain_data_without_checks():
    table = show.class_table({"ada": {"01.1": "x"}}, {"01.1": "One", "01.2": "Two"})
    assert "1 of 2" in str(table)
    assert classroom.class_view is show.classroom


def test_command_line_summary_json_and_plot(class_root, tmp_path):
    plot = tmp_path / "class.png"
    done = subprocess.run([sys.executable, "-m", "labkit", "classroom", "summary", "--root", str(class_root),
                           "--plot", str(plot)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "labkit-learner-02" in done.stdout and plot.stat().st_size > 1000
    done = subprocess.run([sys.executable, "-m", "labkit", "classroom", "summary", str(class_root / "progress"),
                           "--json"], capture_output=True, text=True, timeout=120)
    data = json.loads(done.stdout)
    assert data["counts"]["00.1"] == 2 and data["passed"]["labkit-learner-03"] == {}
    done = subprocess.run([sys.executable, "-m", "labkit", "classroom", "summary", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error:") and len(done.stderr.splitlines()) == 1


def test_old_ids_and_unverified_are_read_apart(tmp_path):
    # ada's file is from before the renumbering (02.5 is today's 03.2); bob's has an unverified 02.3.
    _learner(tmp_path, "ada", {"02.5": "2026-01-05 10:00 UTC"})
    bob = _learner(tmp_path, "bob", None)
    (bob / "progress.json").write_text(json.dumps({"ids": 2, "passed": {"00.1": "x"},
                                                   "unverified": {"02.3": "2026-01-06 10:00 UTC"}}))
    found = checks.class_progress(tmp_path)
    assert found.passed == {"ada": {"03.2": "2026-01-05 10:00 UTC"}, "bob": {"00.1": "x"}}
    assert found.unverified == {"bob": {"02.3": "2026-01-06 10:00 UTC"}} and found.count("02.3") == 0
    assert found.to_dict()["unverified_counts"]["02.3"] == 1
    row = next(line for line in str(checks.class_summary(found)).splitlines() if line.startswith("bob"))
    assert "1 of 22 (+1 ○)" in row and "○" in row.split(")")[-1]
