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

import datetime
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

from labkit import engine as engine_mod
from labkit import fleet, scenarios
from labkit._version import __version__
from labkit.errors import LabkitError
from labkit.fleet import specs
from labkit.observe.records import (DATA_DIR, REFERENCE, SCHEMA, Observation, Result,
                                        configuration_name, from_dict, load, recorded,
                                        recording, reference, short_version)
from labkit.observe.reproduce import (ALWAYS_ENGINE_ASSIGNED, VARIES, VOLATILE_PROVENANCE,
                                          deterministic, differences, mask_ids)

__all__ = ["ALWAYS_ENGINE_ASSIGNED", "CONTAINERD_STAND_IN", "DATA_DIR", "REFERENCE", "SCENARIOS", "SCHEMA", "VARIES",
           "VOLATILE_PROVENANCE", "Observation", "Progress", "Result", "by_name", "configuration_name",
           "deterministic", "differences", "engines_to_record", "fleet_up", "from_dict", "load",
           "mask_ids", "merged", "moved_on", "observe", "observe_fleet", "provenance", "recorded",
           "recorded_where_not_here", "recording", "reference", "resolve", "scenario", "short_version", "stores", "versions"]

#: A progress wrapper, ``progress(items, description)`` -> the same items, one by one
#: (``labkit.show.progress`` draws a bar); observing passes it down, never imports it.
Progress = Callable[[Sequence, str], Iterable]
#: Scenario name -> one-line description, in the lab's order.
SCENARIOS: dict[str, str] = {name: s.description for name, s in scenarios.SCENARIOS.items()}


def versions(progress: Progress | None = None, only: Sequence[str] | None = None,
             podman: bool = False) -> list[Observation]:
    """Every recorded engine configuration -- observed live instead where its fleet engine
    is up (``labkit fleet up``), recorded otherwise; same order either way.

    Args:
        progress: wraps the scenarios while something is observed live (notebooks pass
            ``labkit.show.progress``, which draws a bar).
        only: observe just these scenarios live (the recordings keep all of theirs).
        podman: the Podman engines too, as rows after Docker's (see ``recorded``).

    Example:
        >>> [o.name for o in versions()][:2]                      # doctest: +SKIP
        ['20.10.5', '20.10.24']
    """
    observations = recorded(podman=podman)
    only = list(only) if only is not None else None
    up = fleet_up()
    if not up.intersection(o.name for o in observations):
        return observations
    return [observe_fleet(o.name, progress, only) if o.name in up else o for o in observations]


#: The recording that stands in for the containerd image store, Docker 29's default for
#: fresh installs: Docker 28.5.2 with that store turned on (no Debian suite packages 29 yet).
CONTAINERD_STAND_IN = "28.5.2-containerd"


def stores(scenario_name: str, engine=None, progress: Progress | None = None,
           podman: bool = False) -> list[Observation]:
    """One scenario on each image store, classic then containerd: live on ``engine`` for
    its own store (and on a running fleet engine of the other store), recorded otherwise
    (the reference, Docker 20.10.24, for classic; :data:`CONTAINERD_STAND_IN` for
    containerd); with ``podman=True``, then the Podman recordings (containers/storage,
    the other engine family's store). A live case this machine cannot make
    (``scenarios.NOT_HERE``) is the recorded one, labelled, as in :func:`scenario`.

    Example:
        >>> [o.name for o in stores("empty-labkit")]             # doctest: +SKIP
        ['20.10.24', '28.5.2-containerd']
    """
    scenarios.get(scenario_name)
    live_store = None if engine is None else engine.facts.containerd_store
    out = []
    for containerd, recorded_name in ((False, REFERENCE), (True, CONTAINERD_STAND_IN)):
        if live_store is containerd:
            out.append(observe(engine, [scenario_name], progress=progress))
        elif recorded_name in fleet_up() and recorded_name != REFERENCE:
            eng = fleet.engine(recorded_name)
            try:
                out.append(observe(eng, [scenario_name], name=recorded_name,
                                   endpoint=f"fleet:{recorded_name}", progress=progress))
            finally:
                eng.cleanup()
        else:
            out.append(load(DATA_DIR / f"{recorded_name}.json"))
            continue
        # a case this machine cannot make (no busybox, no compiler) is shown as recorded
        out[-1].results[scenario_name] = recorded_where_not_here(out[-1].results[scenario_name])
    if podman:
        out += [o for o in recorded(podman=True) if o.provenance.get("engine", "Docker") != "Docker"]
    return out


def by_name(observations: Sequence[Observation]) -> dict[str, Observation]:
    """Observations by their configuration name (``20.10.24``, ``28.5.2-containerd`` ...).

    Example:
        >>> sorted(by_name(recorded()))[:2]
        ['20.10.24', '20.10.5']
    """
    return {obs.name: obs for obs in observations}


def fleet_up() -> set[str]:
    """Names of the fleet engines that answer now (none where there is no fleet)."""
    try:
        return set(fleet.endpoints())
    except (LabkitError, OSError):
        return set()


def observe_fleet(name: str, progress: Progress | None = None,
                  only: Sequence[str] | None = None) -> Observation:
    """The scenarios (default: all) on the running fleet engine ``name``, live; cleans up
    after itself."""
    eng = fleet.engine(name)
    try:
        return observe(eng, only, name=name, endpoint=f"fleet:{name}", progress=progress)
    finally:
        eng.cleanup()


def provenance(engine, endpoint: str = "local") -> dict:
    """Who measured: engine facts, builders, runtime, kernel, date, labkit version; for a
    fleet engine also the Debian suite and the package versions it runs."""
    facts = engine.facts
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    podman = facts.family == "podman"
    found = {
        "engine": facts.product,
        "engine_version": facts.version, "api_version": facts.api_version,
        "storage_driver": facts.storage_driver,
        "image_store": ("containers-storage" if podman else
                        "containerd" if facts.containerd_store else "classic"),
        "builders": (["podman build (Buildah)"] if podman else
                     ["legacy", "buildkit"] if facts.buildkit else ["legacy"]),
        "runtime": facts.runtime,
        "kernel": facts.kernel, "os": facts.os, "date": now.date().isoformat(),
        "recorded_at": now.isoformat().replace("+00:00", "Z"),
        "labkit_version": __version__, "endpoint": endpoint,
    }
    if endpoint.startswith("fleet:"):
        found.update(fleet.provenance(endpoint.split(":", 1)[1]))
    return found


def observe(engine, names: Iterable[str] | None = None, *, name: str | None = None,
            endpoint: str = "local", progress: Progress | None = None) -> Observation:
    """Run scenarios (default: all) on ``engine``; one live :class:`Observation`.

    Args:
        engine: a ``labkit.engine.Engine``.
        names: scenario names, in any order (default: every scenario).
        name: the configuration name (default: version, ``-containerd`` for that store).
        endpoint: ``local`` or ``fleet:<engine name>`` (provenance only).
        progress: wraps the scenario names while they run (``labkit.show.progress``
            draws a bar); None runs them quietly.

    Example:
        >>> obs = observe(engine.connect(), ["empty-labkit"])     # doctest: +SKIP
        >>> obs["empty-labkit"].layers                             # doctest: +SKIP
        0
    """
    names = [scenarios.get(n).name for n in names or scenarios.SCENARIOS]   # unknown: one error
    obs = Observation(name or configuration_name(engine.facts), provenance(engine, endpoint), {}, True)
    steps = progress(names, f"observing {obs.name}") if progress else names
    for scenario_name in steps:
        with tempfile.TemporaryDirectory(prefix="labkit-observe-") as workdir:
            cases = scenarios.run(scenario_name, engine, workdir)
        obs.results[scenario_name] = Result(scenario_name, SCENARIOS[scenario_name], cases, obs.source)
    buildah = sorted({c.extra["buildah_version"] for r in obs.results.values() for c in r.cases.values()
                      if c.extra.get("buildah_version")})
    if buildah:                   # the version a Podman build wrote into the image's label
        obs.provenance["builders"] = [f"podman build (Buildah {v})" for v in buildah]
    return obs


def scenario(name: str, engine=None) -> Result:
    """One scenario: live on ``engine`` when given, else the reference recording.

    A live case that cannot be made on this machine (``scenarios.NOT_HERE``: no Linux
    compiler or busybox for the engine's architecture here, e.g. on a Mac) is replaced
    by the reference's recorded case, labelled: ``extra["recorded"]`` names the
    recording, and ``source`` says which cases are recorded and why.

    Example:
        >>> scenario("era-1.4").source
        'recorded on Docker 20.10.24 (2026-11-27)'
    """
    scenarios.get(name)                                    # unknown: one clear error
    if engine is not None:
        return recorded_where_not_here(observe(engine, [name])[name])
    return reference()[name]


def recorded_where_not_here(result: Result) -> Result:
    """``result`` with every case marked ``NOT_HERE`` replaced by its recording.

    Example:
        >>> from labkit.scenarios import Case
        >>> live = Result("busybox-whiteout", "", {"base": Case("labkit", ok=False,
        ...               extra={"not_here": "no busybox"})}, "live Docker 29.1.3")
        >>> fixed = recorded_where_not_here(live)
        >>> fixed["base"].ok, fixed.source.split(";")[1]
        (True, ' base: recorded on Docker 20.10.24 (2026-11-27), no busybox')
    """
    missing = {case: c.extra[scenarios.NOT_HERE] for case, c in result.cases.items()
               if c.extra.get(scenarios.NOT_HERE)}
    ref = reference()
    recorded_cases = ref.results.get(result.scenario)
    if not missing or recorded_cases is None:
        return result
    cases, notes = dict(result.cases), []
    for case, reason in missing.items():
        if case not in recorded_cases.cases:
            continue
        copy = scenarios.Case.from_dict(recorded_cases.cases[case].to_dict())
        copy.extra = {**copy.extra, "recorded": ref.source, scenarios.NOT_HERE: reason}
        cases[case] = copy
        notes.append((case, reason))
    reasons = sorted({reason for _, reason in notes})
    if not notes:
        return result
    names = ", ".join(case for case, _ in notes)
    source = f"{result.source}; {names}: {ref.source}, {'; '.join(reasons)}"
    return Result(result.scenario, result.description, cases, source)


def engines_to_record(names: Sequence[str]) -> list[tuple[str | None, object, str]]:
    """``(configuration name or None, Engine, endpoint)`` for each engine to record: the
    engine at ``DOCKER_HOST`` when ``names`` is empty, else those fleet engines."""
    if not names:
        return [(None, engine_mod.connect(), "local")]
    return [(name, fleet.engine(name), f"fleet:{name}") for name in names]


def merged(fresh: Observation, directory: str | Path | None = None) -> Observation:
    """``fresh`` (some scenarios, just observed) merged into the recording of the same
    engine in ``directory`` (default ``data/observations/``): its scenarios replace the
    recorded ones, the others stay, in the lab's order; provenance is the fresh one.

    Raises:
        LabkitError: there is no recording of that engine to merge into.
    """
    path = Path(directory or DATA_DIR) / f"{fresh.name}.json"
    if not path.is_file():
        raise LabkitError(f"no recording of {fresh.name} at {path} to merge into",
                          hint="record every scenario once: `labkit record` without --scenario")
    old = load(path)
    results = {name: fresh.results.get(name, old.results.get(name)) for name in SCENARIOS
               if name in fresh.results or name in old.results}
    return Observation(fresh.name, fresh.provenance, results, live=True)


def moved_on(name: str | None, obs: Observation) -> str | None:
    """Why fleet engine ``name``'s recording is not of the Docker version its catalog
    entry promises (its Debian suite moved on), or ``None`` when it is.

    Example:
        >>> moved_on("20.10.24", reference()) is None
        True
    """
    spec = specs.resolve(name) if name else None
    real = short_version(obs.provenance.get("engine_version", "?"))
    if spec is None or not spec.version or real == spec.version:
        return None
    why = f" (Debian {spec.suite} moved on)" if spec.kind == "debian" else ""
    return (f"fleet engine {name} answers as Docker {real}, not {spec.version}{why}: the "
            f"recording says {real}; update the catalog pin for {name}")


def resolve(source: str, progress: Progress | None = None) -> Observation:
    """A comparison source: an observation file, a fleet engine (live, when it is up),
    or the recording of that name."""
    path = Path(source)
    if path.suffix == ".json" or path.is_file():
        return load(path)
    if source in fleet_up() or not (DATA_DIR / f"{source}.json").is_file():
        return observe_fleet(source, progress)
    return load(DATA_DIR / f"{source}.json")
