"""labkit.checks.record: the progress file, and carrying it across Binder sessions (export/import)."""
from __future__ import annotations

import doctest
import json
import tempfile

import pytest

from labkit import checks
from labkit.checks import exercises, record
from labkit.errors import LabkitError


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "home" / "progress.json"
    monkeypatch.setenv("LABKIT_PROGRESS", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def test_checks_exports_the_progress_functions():
    assert checks.EXERCISES is exercises.EXERCISES
    for name in ("progress", "progress_file", "export_progress", "import_progress"):
        assert getattr(checks, name) is getattr(record, name)


def test_export_writes_a_small_file_next_to_the_notebooks(tmp_path):
    record.remember("01.2")
    path = checks.export_progress()
    assert path == tmp_path / "labkit-progress.json"
    data = json.loads(path.read_text())
    assert data["format"] == "labkit-progress/2" and list(data["passed"]) == ["01.2"]


def test_a_new_session_gets_its_progress_back(tmp_path, progress_file):
    record.remember("00.2")
    record.remember("01.2")
    saved = checks.export_progress(tmp_path / "download" / "mine.json")
    progress_file.unlink()                      # the session ended: its files are gone
    assert "0 of" in str(checks.progress())
    table = checks.import_progress(saved)
    assert f"2 of {len(checks.EXERCISES)} exercises passed" in str(table)
    assert set(record.passed()) == {"00.2", "01.2"}


def test_import_merges_and_keeps_the_earlier_date(tmp_path, progress_file):
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text(json.dumps({"ids": 2, "passed": {"00.1": "2026-03-02 10:00 UTC",
                                                              "01.1": "2026-03-05 10:00 UTC"}}))
    saved = tmp_path / "new.json"
    saved.write_text(json.dumps({"format": "labkit-progress/2", "ids": 2,
                                 "passed": {"01.1": "2026-03-01 09:00 UTC", "02.1": "2026-03-01 09:30 UTC"}}))
    checks.import_progress(saved)
    assert record.passed() == {"00.1": "2026-03-02 10:00 UTC", "01.1": "2026-03-01 09:00 UTC",
                               "02.1": "2026-03-01 09:30 UTC"}


# --- progress saved before the renumbering (issue 17) still counts ---------------------------------
OLD = {"00.2": "2026-01-05 09:00 UTC", "01.1": "2026-01-05 09:10 UTC", "01.3": "2026-01-05 09:20 UTC",
       "02.4": "2026-01-05 10:00 UTC", "02.5": "2026-01-05 10:30 UTC", "03.1": "2026-01-06 09:00 UTC",
       "04.3": "2026-01-07 09:00 UTC", "05.4": "2026-01-08 09:00 UTC"}
MAPPED = {"00.2": OLD["00.2"], "01.3": OLD["01.1"], "01.1": OLD["01.3"], "02.3": OLD["02.4"],
          "03.2": OLD["02.5"], "dd.1": OLD["03.1"], "05.3": OLD["04.3"], "06.4": OLD["05.4"]}


def test_old_ids_map_to_new_ones():
    assert set(exercises.OLD_IDS.values()) == set(checks.EXERCISES) - {"03.3", "05.4"}   # the two new exercises
    assert len(set(exercises.OLD_IDS.values())) == len(exercises.OLD_IDS)              # one to one


def test_a_progress_file_from_before_the_renumbering_still_counts(progress_file):
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text(json.dumps({"passed": OLD}))              # no "ids": written by the old lab
    assert record.passed() == MAPPED
    assert f"{len(MAPPED)} of {len(checks.EXERCISES)} exercises passed" in str(checks.progress())
    record.remember("03.3")                                            # the next pass rewrites it with new ids
    data = json.loads(progress_file.read_text())
    assert data["ids"] == 2 and data["passed"] == {**MAPPED, "03.3": data["passed"]["03.3"]}


def test_an_export_from_before_the_renumbering_imports(tmp_path):
    saved = tmp_path / "old-export.json"
    saved.write_text(json.dumps({"format": "labkit-progress/1", "exported": "2026-01-09", "passed": OLD}))
    checks.import_progress(saved)
    assert record.passed() == MAPPED
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "labkit-progress/1", "passed": {"dd.1": "2026-01-01"}}))
    with pytest.raises(LabkitError, match="'dd.1' is not an exercise"):
        checks.import_progress(bad)


def test_unverified_is_kept_apart_and_travels(tmp_path, progress_file):
    record.remember("02.3", verified=False)
    assert record.unverified().keys() == {"02.3"} and record.passed() == {}
    text = str(checks.progress())
    assert "0 of" in text and "(1 more unverified)" in text and "unverified" in text
    saved = checks.export_progress(tmp_path / "mine.json")
    progress_file.unlink()
    checks.import_progress(saved)
    assert record.unverified().keys() == {"02.3"}
    record.remember("02.3")                                            # built, at last: passed, no longer unverified
    assert record.passed().keys() == {"02.3"} and record.unverified() == {}
    record.remember("02.3", verified=False)                            # a later unverified run changes nothing
    assert record.unverified() == {}


@pytest.mark.parametrize("content, words", [
    (None, "cannot read"),
    ("{not json", "not JSON"),
    ("[1, 2]", "no \"passed\" exercises"),
    ('{"passed": {"99.9": "2026-01-01 00:00 UTC"}}', "'99.9' is not an exercise"),
    ('{"passed": {"01.1": 3}}', "'01.1' is not an exercise"),
])
def test_a_bad_file_is_one_clear_error_and_changes_nothing(tmp_path, progress_file, content, words):
    record.remember("00.2")
    before = progress_file.read_text()
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    with pytest.raises(LabkitError) as err:
        checks.import_progress(bad)
    message = str(err.value)
    assert words in message and "\n" not in message and str(bad) in message
    assert progress_file.read_text() == before


def test_export_to_a_folder_that_cannot_be_written_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("a file where a folder should be")
    with pytest.raises(LabkitError, match="cannot write .*file/mine.json"):
        checks.export_progress(tmp_path / "file" / "mine.json")


def test_the_docstring_examples_run(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # their temporary folders land here
    result = doctest.testmod(record, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
