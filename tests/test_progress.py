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
    assert data["format"] == "labkit-progress/1" and list(data["passed"]) == ["01.2"]


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
    progress_file.write_text(json.dumps({"passed": {"00.1": "2026-03-02 10:00 UTC",
                                                    "01.1": "2026-03-05 10:00 UTC"}}))
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps({"format": "labkit-progress/1",
                                 "passed": {"01.1": "2026-03-01 09:00 UTC", "02.1": "2026-03-01 09:30 UTC"}}))
    checks.import_progress(saved)
    assert record.passed() == {"00.1": "2026-03-02 10:00 UTC", "01.1": "2026-03-01 09:00 UTC",
                               "02.1": "2026-03-01 09:30 UTC"}


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
