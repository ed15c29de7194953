"""The recordings of ``%%terminal`` cells: ``data/terminal/<lesson>.json``, one entry per
command line, with the engine that ran it and the digests of the ``work/`` files it named.

Example:
    >>> recording("no-such-lesson")["commands"]
    {}
"""
from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from labkit.engine.commands import CommandRun, engine_ids, masked
from labkit.terminal.session import Line, Session, eng_cli, short_version
from labkit.terminal.shell import digest_path, lines, work_files

#: Where the recordings live: one JSON file per lesson (``01.json``), keyed by command.
RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "terminal"
SCHEMA = 1


def recording(lesson: str | None) -> dict:
    """The recording of ``lesson`` (``{"engine": {...}, "commands": {...}}``), or an empty one."""
    path = RECORDINGS / f"{lesson}.json"
    if lesson and path.is_file():
        return json.loads(path.read_text())
    return {"schema": SCHEMA, "engine": {}, "commands": {}}


def find(line: str, lesson: str | None) -> tuple[dict, dict] | None:
    """The recorded entry for ``line`` and its recording's engine: the lesson's first, then any."""
    names = [lesson] if lesson else []
    names += sorted(p.stem for p in RECORDINGS.glob("*.json") if p.stem != lesson)
    for name in names:
        data = recording(name)
        if line in data["commands"]:
            return data["commands"][line], data["engine"]
    return None


def replay(todo: list[str], folder: Path, lesson: str | None, why: str) -> Session:
    """The recorded output of each line, with a note where it is not the learner's."""
    out, engine, varying, stable = [], {}, set(), set()
    for line in todo:
        found = find(line, lesson)
        if found is None:
            out.append(Line(CommandRun(line, None, ""), "not recorded: the lab never ran this line on a "
                                                        "real engine; run it at a terminal where Docker runs"))
            continue
        entry, engine = found
        varying.update(entry.get("varying", ()))
        stable.update(entry.get("stable", ()))
        notes = [f"your {path} is not the file this was recorded with, so yours may print something else"
                 for path, digest in entry.get("inputs", {}).items()
                 if (folder / path).exists() and digest_path(folder / path) != digest]
        out.append(Line(CommandRun(line, entry.get("exit_code"), entry.get("output", "")), "; ".join(notes),
                        bool(entry.get("built_now"))))
    source = (f"recorded on Docker {engine.get('version', '?')}"
              + (" with the containerd image store" if engine.get("containerd_store") else "")
              + f" ({engine.get('date', '?')})") if engine else "recorded on no engine (nothing recorded)"
    return Session(source, tuple(out), frozenset(varying), why, frozenset(stable))


def record(session: Session, eng, folder: Path, lesson: str, todo: list[str],
           before: dict[str, dict[str, str]] | None = None) -> Path:
    """Write the live ``session`` into ``data/terminal/<lesson>.json``; the recording's
    date moves only when something changed beyond what varies from run to run.

    ``before``: each line's ``work_files`` taken before the cell ran. A line's inputs are
    the files it names that were there before and that the cell left as they were: a file
    the cell writes (``docker save -o``, ``umoci unpack``, ``> note.txt``) is its output,
    never an input a replay would ask for.
    """
    path = RECORDINGS / f"{lesson}.json"
    data = recording(lesson)
    facts = {"version": short_version(eng.facts.version), "package_version": eng.facts.version,
             "containerd_store": eng.facts.containerd_store, "storage_driver": eng.facts.storage_driver,
             "cli": eng_cli(eng) and Path(eng_cli(eng)).name}
    if {k: v for k, v in data["engine"].items() if k != "date"} != facts:
        data = {"schema": SCHEMA, "engine": {}, "commands": {}}
    changed = not data["engine"]
    for line, item in zip(todo, session.lines):
        entry = {"exit_code": item.run.exit_code, "output": item.run.output,
                 "inputs": inputs(line, folder, (before or {}).get(line, {})),
                 "varying": sorted(i for i in session.varying if i in item.run.output),
                 "stable": sorted(i for i in session.stable if i in item.run.output),
                 "built_now": item.built_now}
        changed = changed or not _same(line, data["commands"].get(line), entry)
        data["commands"][line] = entry        # one run's values throughout: they agree line to line
    data["engine"] = {**facts, "date": datetime.date.today().isoformat() if changed else data["engine"]["date"]}
    RECORDINGS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def inputs(line: str, folder: Path, before: dict[str, str]) -> dict[str, str]:
    """The ``work/`` files ``line`` names that were there before its cell (``before``) and
    are unchanged after it: what it read, not what it wrote.

    Example:
        >>> inputs("docker save -o work/x.tar x", Path("/nonexistent"), {})
        {}
    """
    after = work_files(line, folder)
    return {path: digest for path, digest in before.items() if after.get(path) == digest}


def _same(line: str, old: dict | None, new: dict) -> bool:
    """The same recording but for what varies from run to run (IDs, dates, durations)."""
    if old is None or (old.get("exit_code"), old.get("inputs")) != (new["exit_code"], new["inputs"]):
        return False

    def text(entry: dict) -> str:
        return masked(CommandRun(line, entry["exit_code"], entry["output"]),
                      set(old.get("varying", ())) | set(new["varying"]),
                      built_now=bool(entry.get("built_now")))
    return text(old) == text(new)


def stable_ids(todo: list[str], lesson: str | None) -> set[str]:
    """The IDs the recording of these lines printed: one a live run prints again is the
    same on every build (``FROM scratch`` alone with BuildKit: no date in the config), so it
    is not shaded as varying.

    Example:
        >>> stable_ids(["docker images"], "no-such-lesson")
        set()
    """
    found = [find(line, lesson) for line in todo]
    return engine_ids([CommandRun(line, 0, entry[0].get("output", ""))
                       for line, entry in zip(todo, found) if entry is not None])


def prune(notebooks: Path) -> list[str]:
    """Drop recorded lines no ``%%terminal`` cell of the notebooks under ``notebooks`` types
    any more (``make execute`` calls it after running them); returns what was dropped.

    A notebook's lesson is the name its ``labkit.lessons.workdir("NN")`` call gives.
    """
    typed: dict[str, set[str]] = {}
    for path in sorted(notebooks.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        named = [m for c in cells for m in re.findall(r"""workdir\(\s*["']([^"']+)["']""", c)]
        if named:
            typed.setdefault(named[0], set()).update(
                line for c in cells if c.lstrip().startswith("%%terminal")
                for line in lines(c.split("\n", 1)[1] if "\n" in c else ""))
    dropped = []
    for path in sorted(RECORDINGS.glob("*.json")):
        data = json.loads(path.read_text())
        stale = [line for line in data["commands"] if line not in typed.get(path.stem, set())]
        if stale:
            for line in stale:
                del data["commands"][line]
            dropped += [f"{path.stem}: {line}" for line in stale]
            path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return dropped
