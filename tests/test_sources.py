"""Every claim about a Docker version in the lessons is sourced: a link in the sentence, or
a row for that notebook cell in docs/sources.md that names the version (measured live,
recorded, or a source)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")) + sorted((ROOT / "notebooks").glob("deep-dives/*.ipynb"))
#: A cell id a row may name: ``nb04-save`` in a lesson, ``dd14-step1`` in a deep dive
#: (which a row may write after the deep dive's name: ``deep-dives/registry-across-engines ddreg-08``).
CELL_ID = r"(?:deep-dives/[\w.-]+ )?(?:nb\d\d|dd\w*)-[\w-]+"
#: A version of Docker (or of a part of it): "Docker 29", "BuildKit 0.13", "20.10.24", "1.10.0".
VERSION = re.compile(r"\b(?:Docker|BuildKit|buildx|runc|containerd|Engine)\s+v?(\d+(?:\.\d+)*)"
                     r"|(?<![\w.:/-])((?:1|2\d)\.\d+(?:\.\d+)?)(?![\w.]*\d)")
SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+(?=[A-Z*`(\[])|\n\s*\n|\n\s*[-*|] ")


def rows() -> list[tuple[str, str]]:
    """``(cell id, the whole row)`` of docs/sources.md's table."""
    found = []
    for line in (ROOT / "docs" / "sources.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and re.fullmatch(rf"{CELL_ID}(, {CELL_ID})*", cells[0]):
            for cell in cells[0].split(", "):
                found.append((cell.split(" ")[-1], line))
    return found


def sentences(text: str) -> list[str]:
    """A markdown cell's sentences, list items and table rows, roughly."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)          # code blocks state no facts
    text = re.sub(r"\bExercise \d+\.\d+", "Exercise", text)     # exercise numbers are no versions
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


def unsourced(path: Path) -> list[str]:
    table = rows()
    missing = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        cid = cell.get("id", "")
        for sentence in sentences("".join(cell["source"])):
            if "](" in sentence:
                continue
            versions = {a or b for a, b in VERSION.findall(sentence)}
            for version in sorted(versions):
                if not any(c == cid and version in row for c, row in table):
                    missing.append(f"{cid}: {version!r} in: {sentence[:120]}")
    return missing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_docker_version_named_in_a_lesson_is_sourced(path):
    missing = unsourced(path)
    assert not missing, ("link the source in the sentence, or add a row to docs/sources.md:\n"
                         + "\n".join(missing))


def test_the_check_sees_an_unsourced_claim(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "id": "nb99-01",
                     "source": ["Docker 23.0 made BuildKit the default. See [notes](https://x)."]}]}
    path = tmp_path / "99-x.ipynb"
    path.write_text(json.dumps(nb))
    assert unsourced(path) == ["nb99-01: '23.0' in: Docker 23.0 made BuildKit the default."]


def test_every_row_names_a_cell_that_exists():
    deep_dives = sorted((ROOT / "notebooks" / "deep-dives").glob("*.ipynb"))   # rows may name their cells too
    ids = {c.get("id") for p in [*NOTEBOOKS, *deep_dives] for c in json.loads(p.read_text())["cells"]}
    stale = sorted({cid for cid, _ in rows()} - ids)
    assert not stale, f"docs/sources.md names cells that are gone: {stale}"
