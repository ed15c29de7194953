"""The lessons stay a class period long: issue 17's budgets, measured from the notebooks.

The reading model: prose words outside ``<details>`` deep dives / 200 a minute, plus
0.75 minute a code cell, plus 4 minutes an exercise. Budgets: at most 1,400 words and 40
minutes a notebook (start-here: 15), 8,000 words and 210 minutes in all; the start-here
table states each notebook's model time within 25%, and docs/instructors.md states the
model's numbers exactly. Run ``python tests/test_lesson_shape.py`` for the table.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
DEEP_DIVES = sorted((ROOT / "notebooks" / "deep-dives").glob("*.ipynb"))
DETAILS = re.compile(r"<details.*?</details>", re.S | re.I)
EXERCISE = re.compile(r"\*\*Exercise (\d+\.\d+)")
STEP = re.compile(r"^##+ Step\b", re.M)
SECTION = re.compile(r"^## ", re.M)
#: The engine's CLI on a learner's own file (the same pattern the project's hook counts).
OWN_FILE_CLI = re.compile(r"(docker|podman) (image )?(load|save|run|inspect|history|build|push)[^\n]*\bwork/")


@dataclass(frozen=True)
class Shape:
    """What the reading model counts in one notebook."""

    name: str
    words: int
    code_cells: int
    exercises: tuple[str, ...]

    @property
    def minutes(self) -> float:
        return self.words / 200 + 0.75 * self.code_cells + 4 * len(self.exercises)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"])


def shape(path: Path) -> Shape:
    """The model's counts for the notebook at ``path``."""
    all_cells = cells(path)
    prose = [DETAILS.sub("", text(c)) for c in all_cells if c["cell_type"] == "markdown"]
    return Shape(path.stem, sum(len(p.split()) for p in prose),
                 sum(c["cell_type"] == "code" for c in all_cells),
                 tuple(m for p in prose for m in EXERCISE.findall(p)))


def output_rows(output: dict) -> int:
    """Rows an output shows: table rows of its HTML, else lines of its text."""
    data = output.get("data", {})
    page = "".join(data.get("text/html", ""))
    if page:
        return len(re.findall(r"<tr\b", page))
    return len("".join(output.get("text", "") or data.get("text/plain", "")).splitlines())


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_a_notebook_fits_a_class_period(path):
    found = shape(path)
    limit = 15 if path.stem.startswith("00") else 40
    assert found.words <= 1400, f"{path.stem}: {found.words} words of main-path prose (at most 1,400)"
    assert found.minutes <= limit, f"{path.stem}: {found.minutes:.1f} model minutes (at most {limit})"


def test_the_whole_main_path_fits():
    shapes = [shape(p) for p in LESSONS]
    assert len(shapes) == 7
    assert sum(s.words for s in shapes) <= 8000
    assert sum(s.minutes for s in shapes) <= 210


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_each_exercise_sits_in_the_step_it_tests(path):
    """An exercise comes inside a step's section (after its heading, before the next
    section), and exercises do not all wait for the end."""
    section, where = None, []
    for cell in cells(path):
        if cell["cell_type"] != "markdown":
            continue
        body = DETAILS.sub("", text(cell))
        for line in body.splitlines():
            if SECTION.match(line):
                section = line
            for number in EXERCISE.findall(line):
                where.append((number, section))
    for number, heading in where:
        assert heading is not None and not heading.startswith(("## Key points", "## Exercises")), \
            f"exercise {number} of {path.stem} is not inside a step (under {heading!r})"
    assert len({heading for _, heading in where}) >= min(2, len(where)) or path.stem.startswith("00"), \
        f"{path.stem}: every exercise sits under one heading"


@pytest.mark.parametrize("path", LESSONS + DEEP_DIVES, ids=lambda p: p.stem)
def test_no_output_is_a_wall(path):
    for n, cell in enumerate(cells(path)):
        for output in cell.get("outputs", []):
            assert output_rows(output) <= 41, f"{path.stem} cell {n}: {output_rows(output)} rows (at most 40)"


def test_learners_run_the_engine_on_their_own_files():
    own = [p.stem for p in LESSONS
           if OWN_FILE_CLI.search("\n".join(text(c) for c in cells(p) if c["cell_type"] == "code"))]
    assert len(own) >= 4, own


def start_here_times() -> dict[str, int]:
    """Notebook stem -> the minutes the start-here table states."""
    found = {}
    for line in text(cells(LESSONS[0])[0]).splitlines():
        match = re.match(r"\| (?:\[)?(\d) · [^|]*\|[^|]*\| (\d+) min \|", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


def test_start_here_states_the_model_times():
    stated = start_here_times()
    for path in LESSONS:
        model = shape(path).minutes
        assert path.stem[1] in stated, f"start-here gives no time for {path.stem}"
        assert abs(stated[path.stem[1]] - model) <= 0.25 * model, \
            f"{path.stem}: start-here says {stated[path.stem[1]]} min, the model {model:.0f}"


def model_table() -> str:
    """The table docs/instructors.md carries (``python tests/test_lesson_shape.py``)."""
    rows = ["| notebook | words | code cells | exercises | minutes |", "| --- | ---: | ---: | ---: | ---: |"]
    shapes = [shape(p) for p in LESSONS]
    for s in shapes:
        rows.append(f"| `{s.name}` | {s.words:,} | {s.code_cells} | {len(s.exercises)} | {round(s.minutes)} |")
    rows.append(f"| all | {sum(s.words for s in shapes):,} | {sum(s.code_cells for s in shapes)} | "
                f"{sum(len(s.exercises) for s in shapes)} | {round(sum(s.minutes for s in shapes))} |")
    return "\n".join(rows)


def test_the_instructors_notes_carry_the_models_numbers():
    assert model_table() in (ROOT / "docs" / "instructors.md").read_text(), \
        "docs/instructors.md's reading-model table is stale: run python tests/test_lesson_shape.py"


if __name__ == "__main__":
    sys.stdout.write(model_table() + "\n")
