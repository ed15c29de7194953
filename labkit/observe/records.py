"""Recorded observations: the data model of what an engine did, and its JSON files.

An :class:`Observation` is one engine configuration's results for every scenario, with
provenance; a :class:`Result` is one scenario's cases. ``data/observations/<name>.json``
holds the recorded ones (schema: ``docs/observations.md``).

Example:
    >>> reference().name
    '20.10.24'
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from labkit.errors import LabkitError
from labkit.scenarios import Case

SCHEMA = 1
#: The engine version CI runs and whose recording notebooks show offline.
REFERENCE = "20.10.24"
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "observations"


def short_version(version: str) -> str:
    """``20.10.24+dfsg1`` -> ``20.10.24`` (Debian's packaging suffix dropped).

    Example:
        >>> short_version("28.5.2+dfsg3")
        '28.5.2'
    """
    return re.split(r"[+~-]", version, maxsplit=1)[0]


def configuration_name(facts) -> str:
    """The file name stem for an engine: its version, ``-containerd`` for that store;
    ``podman-`` before a Podman engine's.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> configuration_name(NS(version="28.5.2+dfsg3", containerd_store=True))
        '28.5.2-containerd'
        >>> configuration_name(NS(version="4.3.1", containerd_store=False, family="podman"))
        'podman-4.3.1'
    """
    podman = "podman-" if getattr(facts, "family", "docker") == "podman" else ""
    return podman + short_version(facts.version) + ("-containerd" if facts.containerd_store else "")


@dataclasses.dataclass
class Result:
    """One scenario's cases on one engine, and where they come from.

    Attribute access falls through to the main (first) case, so
    ``scenario("hello-legacy").layers`` is the layer count of its only image.

    Example:
        >>> r = Result("x", "demo", {"a": Case("labkit", layers=0)}, "live Docker 28.5.2")
        >>> r.layers, r["a"].builder
        (0, 'labkit')
    """

    scenario: str
    description: str
    cases: dict[str, Case]
    source: str = ""

    @property
    def main(self) -> Case:
        """The scenario's first case."""
        return next(iter(self.cases.values()))

    def __getitem__(self, case: str) -> Case:
        try:
            return self.cases[case]
        except KeyError:
            raise LabkitError(f"scenario {self.scenario} has no case {case!r}",
                              hint="choose one of " + ", ".join(self.cases)) from None

    def __getattr__(self, name: str):
        if name.startswith("_") or name in ("cases", "scenario", "description", "source"):
            raise AttributeError(name)
        return getattr(self.main, name)

    def to_dict(self) -> dict:
        """JSON-ready dict (without ``source``, which the Observation knows)."""
        return {"scenario": self.scenario, "description": self.description,
                "cases": {name: case.to_dict() for name, case in self.cases.items()}}

    def __repr__(self) -> str:
        return f"<Result {self.scenario}: {len(self.cases)} case(s), {self.source}>"


@dataclasses.dataclass
class Observation:
    """Every scenario's result on one engine configuration, with provenance.

    Example:
        >>> obs = reference()
        >>> obs.name, obs.provenance["image_store"]
        ('20.10.24', 'classic')
    """

    name: str
    provenance: dict
    results: dict[str, Result]
    live: bool = False

    @property
    def source(self) -> str:
        """``live Docker 20.10.24`` or ``recorded on Docker 20.10.24 (2026-11-27)``
        (``Podman 4.3.1`` where provenance ``engine`` says Podman)."""
        version = short_version(self.provenance.get("engine_version", "?"))
        product = self.provenance.get("engine", "Docker")
        store = " with the containerd image store" if self.provenance.get("image_store") == "containerd" else ""
        if self.live:
            return f"live {product} {version}{store}"
        return f"recorded on {product} {version}{store} ({self.provenance.get('date', '?')})"

    def __getitem__(self, scenario: str) -> Result:
        try:
            return self.results[scenario]
        except KeyError:
            raise LabkitError(f"{self.name} has no result for scenario {scenario!r}",
                              hint="record it with `labkit record`") from None

    def to_dict(self) -> dict:
        """The JSON document written to ``data/observations/<name>.json``."""
        return {"schema": SCHEMA, "name": self.name, "provenance": dict(self.provenance),
                "results": {name: r.to_dict() for name, r in self.results.items()}}

    def write(self, directory: str | Path | None = None) -> Path:
        """Write ``<directory>/<name>.json`` (stable key order, ``indent=1``); characters
        other than letters, digits, ``.``, ``_`` and ``-`` in the name become ``-``
        (``static:27.3.1`` -> ``static-27.3.1.json``)."""
        directory = Path(directory) if directory else DATA_DIR
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (re.sub(r"[^A-Za-z0-9._-]+", "-", self.name).strip("-") + ".json")
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    def __repr__(self) -> str:
        return f"<Observation {self.name}: {len(self.results)} scenario(s), {self.source}>"


def from_dict(data: dict, live: bool = False) -> Observation:
    """An :class:`Observation` from its JSON document.

    Raises:
        LabkitError: not an observation of a schema this labkit reads.
    """
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise LabkitError(f"not a labkit observation (schema {SCHEMA})",
                          hint="record it again with `labkit record`")
    try:
        obs = Observation(str(data["name"]), dict(data["provenance"]), {}, live)
        for name, result in data["results"].items():
            cases = {case: Case.from_dict(c) for case, c in result["cases"].items()}
            obs.results[name] = Result(name, result.get("description", ""), cases, obs.source)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise LabkitError(f"a malformed labkit observation ({type(err).__name__}: {err})",
                          hint="record it again with `labkit record`") from None
    return obs


def load(path: str | Path) -> Observation:
    """Read one recorded observation file.

    Example:
        >>> load(DATA_DIR / "20.10.24.json").name
        '20.10.24'
    """
    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        raise LabkitError(f"cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise LabkitError(f"{path} is not JSON: {err}") from None
    try:
        return from_dict(data)
    except LabkitError as err:
        raise LabkitError(f"{path}: {err.message}", hint=err.hint) from None


def recorded(directory: str | Path | None = None, podman: bool = False) -> list[Observation]:
    """Every Docker observation in ``directory`` (default ``data/observations/``), by
    version; with ``podman=True`` the Podman ones too, after them (provenance ``engine``).

    Example:
        >>> REFERENCE in [o.name for o in recorded()]
        True
        >>> [o.name for o in recorded(podman=True) if o.name.startswith("podman")]
        ['podman-4.3.1', 'podman-5.4.2']
    """
    paths = sorted(Path(directory or DATA_DIR).glob("*.json"))
    observations = [o for o in map(load, paths) if podman or o.provenance.get("engine", "Docker") == "Docker"]
    return sorted(observations, key=lambda o: _version_key(o.name))


def _version_key(name: str) -> tuple:
    # Numbers in numeric order, before words ("28.5.2" < "28.5.2-containerd" < "static:27.3.1").
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.:-]", name))


def recording(name: str) -> Observation:
    """The recorded observation of engine configuration ``name`` (``28.5.2-containerd`` ...).

    Raises:
        LabkitError: there is no such recording (the message lists the ones there are).

    Example:
        >>> recording("28.5.2-containerd").provenance["image_store"]
        'containerd'
    """
    path = DATA_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in DATA_DIR.glob("*.json")))
        raise LabkitError(f"there is no recording of {name!r}", hint=f"choose one of {known}")
    return load(path)


def reference() -> Observation:
    """The recording of the reference engine (Docker 20.10.24, CI's engine)."""
    return load(DATA_DIR / f"{REFERENCE}.json")
