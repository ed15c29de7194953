"""Run the lab's scenarios on an engine, or read what a real engine recorded.

An :class:`Observation` is one engine configuration's results for every scenario
(``labkit.scenarios``), with provenance; ``data/observations/<name>.json`` holds the
recorded ones. Notebooks call :func:`scenario`: live when they pass an engine, else
the recording of the reference engine, and the result says which (``.source``). The
schema is in ``docs/observations.md``.

Example:
    >>> from labkit import observe
    >>> r = observe.scenario("empty-import")
    >>> r.source.startswith("recorded on Docker 20.10.24")
    True
    >>> r["empty-1024"].diff_ids
    ['sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef']
"""
from __future__ import annotations

import copy
import dataclasses
import datetime
import html
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Iterable

import labkit
from labkit import scenarios, show
from labkit.errors import LabkitError
from labkit.scenarios import Case

SCHEMA = 1
#: The engine version CI runs and whose recording notebooks show offline.
REFERENCE = "20.10.24"
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "observations"
#: Scenario name -> one-line description, in the lab's order.
SCENARIOS: dict[str, str] = {name: s.description for name, s in scenarios.SCENARIOS.items()}
#: Provenance that differs between two recordings of the same configuration.
VOLATILE_PROVENANCE = ("date", "recorded_at", "kernel", "endpoint")
#: Case fields whose IDs are always the engine's own (a failed run names its container).
ALWAYS_ENGINE_ASSIGNED = ("run",)
#: What an engine-assigned number becomes in :func:`deterministic`.
VARIES = "<varies>"
_HEX_ID = re.compile(r"[0-9a-f]{64}|\b[0-9a-f]{12}\b")


def short_version(version: str) -> str:
    """``20.10.24+dfsg1`` -> ``20.10.24`` (Debian's packaging suffix dropped).

    Example:
        >>> short_version("28.5.2+dfsg3")
        '28.5.2'
    """
    return re.split(r"[+~-]", version, maxsplit=1)[0]


def configuration_name(facts) -> str:
    """The file name stem for an engine: its version, ``-containerd`` for that store.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> configuration_name(NS(version="28.5.2+dfsg3", containerd_store=True))
        '28.5.2-containerd'
    """
    return short_version(facts.version) + ("-containerd" if facts.containerd_store else "")


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

    def rows(self) -> list[dict]:
        """One summary row per case (what the HTML and text tables show)."""
        return [summary_row(name, case) for name, case in self.cases.items()]

    def __str__(self) -> str:
        return f"{self.scenario} — {self.source}\n{show.table(self.rows())}"

    def _repr_html_(self) -> str:
        title = f"{self.scenario}: {self.description}"
        return (f"<p><em>{html.escape(self.source)}</em></p>"
                + show.table(self.rows(), title=title)._repr_html_())


#: The columns of :func:`summary_row` (besides ``case`` and ``history rows``).
SUMMARY_COLUMNS = ("builder", "image", "id_kind", "layers", "size (inspect)",
                   "size (docker images)", "save format", "run")


def summary_row(case_name: str, case: Case) -> dict:
    """The key facts of one case as a flat row, formatted as the lesson tables show them.

    Example:
        >>> summary_row("a", Case("labkit", layers=0, size_inspect=0))["layers"]
        0
    """
    return {"case": case_name, **{c: show.case_value(case, c) for c in SUMMARY_COLUMNS},
            "history rows": len(case.history) if case.ok else None}


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
        """``live Docker 20.10.24`` or ``recorded on Docker 20.10.24 (2026-11-27)``."""
        version = short_version(self.provenance.get("engine_version", "?"))
        store = " with the containerd image store" if self.provenance.get("image_store") == "containerd" else ""
        if self.live:
            return f"live Docker {version}{store}"
        return f"recorded on Docker {version}{store} ({self.provenance.get('date', '?')})"

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

    def _repr_html_(self) -> str:
        rows = [{"scenario": name, **row} for name, r in self.results.items() for row in r.rows()]
        return (f"<p><em>{html.escape(self.source)}</em></p>"
                + show.table(rows, title=f"Observation {self.name}")._repr_html_())

    def __str__(self) -> str:
        rows = [{"scenario": name, **row} for name, r in self.results.items() for row in r.rows()]
        return f"{self.name} — {self.source}\n{show.table(rows)}"


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


def recorded(directory: str | Path | None = None) -> list[Observation]:
    """Every observation in ``directory`` (default ``data/observations/``), by version.

    Example:
        >>> REFERENCE in [o.name for o in recorded()]
        True
    """
    paths = sorted(Path(directory or DATA_DIR).glob("*.json"))
    observations = [load(p) for p in paths]
    return sorted(observations, key=lambda o: _version_key(o.name))


def versions(progress: bool = True) -> list[Observation]:
    """Every recorded engine configuration -- observed live instead where its fleet engine
    is up (``labkit fleet up``), recorded otherwise; same order either way.

    A progress bar shows while something is observed live (a widget in a notebook,
    see :func:`labkit.show.progress`).

    Example:
        >>> [o.name for o in versions()][:2]                      # doctest: +SKIP
        ['20.10.5', '20.10.24']
    """
    observations = recorded()
    up = _fleet_up()
    if not up.intersection(o.name for o in observations):
        return observations
    return [_observe_fleet(o.name, progress) if o.name in up else o for o in observations]


def _fleet_up() -> set[str]:
    """Names of the fleet engines that answer now (none where there is no fleet)."""
    try:
        from labkit import fleet

        return set(fleet.endpoints())
    except (LabkitError, OSError):
        return set()


def _observe_fleet(name: str, progress: bool = False) -> Observation:
    from labkit import fleet

    eng = fleet.engine(name)
    try:
        return observe(eng, name=name, endpoint=f"fleet:{name}", progress=progress)
    finally:
        eng.cleanup()


def _version_key(name: str) -> tuple:
    # Numbers in numeric order, before words ("28.5.2" < "28.5.2-containerd" < "static:27.3.1").
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.:-]", name))


def reference() -> Observation:
    """The recording of the reference engine (Docker 20.10.24, CI's engine)."""
    return load(DATA_DIR / f"{REFERENCE}.json")


def provenance(engine, endpoint: str = "local") -> dict:
    """Who measured: engine facts, builders, kernel, date, labkit version."""
    facts = engine.facts
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {
        "engine_version": facts.version, "api_version": facts.api_version,
        "storage_driver": facts.storage_driver,
        "image_store": "containerd" if facts.containerd_store else "classic",
        "builders": ["legacy", "buildkit"] if facts.buildkit else ["legacy"],
        "kernel": facts.kernel, "os": facts.os, "date": now.date().isoformat(),
        "recorded_at": now.isoformat().replace("+00:00", "Z"),
        "labkit_version": labkit.__version__, "endpoint": endpoint,
    }


def observe(engine, names: Iterable[str] | None = None, *, name: str | None = None,
            endpoint: str = "local", progress: bool = False) -> Observation:
    """Run scenarios (default: all) on ``engine``; one live :class:`Observation`.

    Args:
        engine: a ``labkit.engine.Engine``.
        names: scenario names, in any order (default: every scenario).
        name: the configuration name (default: version, ``-containerd`` for that store).
        endpoint: ``local`` or ``fleet:<engine name>`` (provenance only).
        progress: show a progress bar.

    Example:
        >>> obs = observe(engine.connect(), ["empty-labkit"])     # doctest: +SKIP
        >>> obs["empty-labkit"].layers                             # doctest: +SKIP
        0
    """
    names = [scenarios.get(n).name for n in names or scenarios.SCENARIOS]   # unknown: one error
    obs = Observation(name or configuration_name(engine.facts), provenance(engine, endpoint), {}, True)
    steps = show.progress(names, f"observing {obs.name}") if progress else names
    for scenario_name in steps:
        with tempfile.TemporaryDirectory(prefix="labkit-observe-") as workdir:
            cases = scenarios.run(scenario_name, engine, workdir)
        obs.results[scenario_name] = Result(scenario_name, SCENARIOS[scenario_name], cases, obs.source)
    return obs


def scenario(name: str, engine=None) -> Result:
    """One scenario: live on ``engine`` when given, else the reference recording.

    Example:
        >>> scenario("era-1.4").source
        'recorded on Docker 20.10.24 (2026-11-27)'
    """
    scenarios.get(name)                                    # unknown: one clear error
    if engine is not None:
        return observe(engine, [name])[name]
    return reference()[name]


def deterministic(observation: Observation | dict) -> dict:
    """The fields a fresh recording of the same configuration must reproduce.

    Drops volatile provenance (date, kernel, endpoint) and masks every hex ID in the
    fields a case lists as ``engine_assigned`` (they hold build timestamps) and in
    ``run`` (a failed run names its container); engine-assigned numbers become
    ``"<varies>"``.

    Example:
        >>> d = deterministic(reference())
        >>> "date" in d["provenance"]
        False
    """
    data = copy.deepcopy(observation.to_dict() if isinstance(observation, Observation) else observation)
    for key in VOLATILE_PROVENANCE:
        data["provenance"].pop(key, None)
    for result in data["results"].values():
        for case in result["cases"].values():
            for field in {*case.get("engine_assigned", []), *ALWAYS_ENGINE_ASSIGNED}:
                value = case.get(field)
                case[field] = VARIES if isinstance(value, (int, float)) else mask_ids(value)
            if "save" in case.get("engine_assigned", []) and case.get("save"):
                case["save"]["files"].sort()  # masked names sort differently
    return data


def differences(a, b, path: str = "") -> list[str]:
    """Where two JSON values differ: ``["results/x/cases/y/layers: 1 != 2", ...]``.

    Example:
        >>> differences({"a": [1, 2], "b": 0}, {"a": [1, 3], "b": 0})
        ['a[1]: 2 != 3']
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in [*a, *(k for k in b if k not in a)]:
            out += differences(a.get(key), b.get(key), f"{path}/{key}" if path else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r:.120} != {b!r:.120}"]


def mask_ids(value):
    """Every 64- or 12-digit hex ID in ``value`` (any JSON value) -> ``<id>``.

    Example:
        >>> mask_ids({"files": ["0123456789abcdef" * 4 + "/layer.tar"]})
        {'files': ['<id>/layer.tar']}
    """
    if isinstance(value, str):
        return _HEX_ID.sub("<id>", value)
    if isinstance(value, list):
        return [mask_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_ids(v) for k, v in value.items()}
    return value


# --- command line --------------------------------------------------------------------
def _engines(names: list[str]):
    """``(configuration name or None, Engine, endpoint)`` for each engine to record."""
    from labkit import engine as engine_mod

    if not names:
        return [(None, engine_mod.connect(), "local")]
    from labkit import fleet

    return [(name, fleet.engine(name), f"fleet:{name}") for name in names]


def moved_on(name: str | None, obs: Observation) -> str | None:
    """Why fleet engine ``name``'s recording is not of the Docker version its catalog
    entry promises (its Debian suite moved on), or ``None`` when it is.

    Example:
        >>> moved_on("20.10.24", reference()) is None
        True
    """
    from labkit.fleet import specs

    spec = specs.resolve(name) if name else None
    real = short_version(obs.provenance.get("engine_version", "?"))
    if spec is None or not spec.version or real == spec.version:
        return None
    why = f" (Debian {spec.suite} moved on)" if spec.kind == "debian" else ""
    return (f"fleet engine {name} answers as Docker {real}, not {spec.version}{why}: the "
            f"recording says {real}; update the catalog pin for {name}")


def cli_record(args) -> int:
    """``labkit record [ENGINE...] [--out DIR]``: one JSON file per engine; warns when a
    fleet engine is not the version its catalog entry names."""
    for name, eng, endpoint in _engines(list(args.engines)):
        try:
            obs = observe(eng, name=name, endpoint=endpoint, progress=sys.stderr.isatty())
        finally:
            eng.cleanup()
        print(obs.write(args.out))
        note = moved_on(name, obs)
        if note:
            print(f"warning: {note}", file=sys.stderr)
    return 0


def _resolve(source: str) -> Observation:
    """A compare source: an observation file, a fleet engine (live, when it is up), or
    the recording of that name."""
    path = Path(source)
    if path.suffix == ".json" or path.is_file():
        return load(path)
    if source in _fleet_up() or not (DATA_DIR / f"{source}.json").is_file():
        return _observe_fleet(source, progress=sys.stderr.isatty())
    return load(DATA_DIR / f"{source}.json")


def cli_compare(args) -> int:
    """``labkit compare [ENGINE_OR_FILE...] [--json]``: key fields side by side."""
    from labkit import compare

    observations = [_resolve(s) for s in args.sources] if args.sources else recorded()
    if not observations:
        raise LabkitError("no observations to compare", hint="run `labkit record` first")
    if args.json:
        json.dump(compare.rows(observations), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(compare.table(observations))
    return 0
