"""Observations side by side: tables and plots over live and recorded engines alike.

Every function takes a list of ``labkit.observe.Observation`` (from
``observe.observe(engine)``, ``observe.recorded()`` or both) and only displays what
they hold.

Example:
    >>> from labkit import compare, observe
    >>> t = compare.table([observe.reference()], scenario="hello-legacy")
    >>> t.rows[0]["engine"]
    '20.10.24'
"""
from __future__ import annotations

from typing import Sequence

from labkit import show
from labkit.errors import LabkitError
from labkit.hello import OFFICIAL_HELLO_WORLD
from labkit.observe import Observation, summary_row


def _pairs(observations: Sequence[Observation], scenario: str | None):
    for obs in observations:
        for name, result in obs.results.items():
            if scenario is None or name == scenario:
                for case_name, case in result.cases.items():
                    yield obs, name, case_name, case


def rows(observations: Sequence[Observation], scenario: str | None = None) -> list[dict]:
    """The key fields, unformatted: one dict per engine x scenario x case (for JSON).

    Example:
        >>> rows(observe.recorded(), "empty-import")[0]["diff_ids"]          # doctest: +SKIP
        ['sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef']
    """
    return [{
        "engine": obs.name, "source": obs.source, "scenario": name, "case": case_name,
        "builder": case.builder, "ok": case.ok, "error": case.error,
        "image_id": case.image_id, "id_kind": case.id_kind, "layers": case.layers,
        "diff_ids": case.diff_ids, "size_inspect": case.size_inspect,
        "size_listed": case.size_listed, "history_rows": len(case.history),
        "save_format": (case.save or {}).get("format"), "run": case.run,
    } for obs, name, case_name, case in _pairs(observations, scenario)]


def table(observations: Sequence[Observation], scenario: str | None = None) -> show.Table:
    """One row per engine x scenario x case: layers, ID, sizes, history, save, run.

    Args:
        observations: live and/or recorded observations.
        scenario: only this scenario (default: all).

    Example:
        >>> print(table(observe.recorded(), "empty-labkit"))       # doctest: +SKIP
    """
    rows = []
    for obs, name, case_name, case in _pairs(observations, scenario):
        rows.append({"engine": obs.name, "scenario": name, **summary_row(case_name, case),
                     "diff_ids": show.case_value(case, "diff_ids")})
    if scenario is not None:
        rows = [{k: v for k, v in r.items() if k != "scenario"} for r in rows]
    sources = "; ".join(f"{o.name}: {o.source}" for o in observations)
    return show.table(rows, title=f"{scenario or 'All scenarios'} ({sources})")


def _grouped_bars(ax, observations, groups, height, label) -> None:
    """One group of bars per item of ``groups``, one bar (and colour) per observation;
    ``height(obs, group)`` (``None`` draws nothing), ``label(obs)`` for the legend."""
    width = 0.8 / max(1, len(observations))
    for i, obs in enumerate(observations):
        xs = [j + (i - (len(observations) - 1) / 2) * width for j in range(len(groups))]
        ax.bar(xs, [height(obs, g) or 0 for g in groups], width, label=label(obs),
               color=show.PALETTE[i % len(show.PALETTE)])


def plot_sizes(observations: Sequence[Observation], scenario: str = "hello-variants",
               field: str = "size_inspect"):
    """Image sizes per case and engine, bytes on a log scale; ``(fig, ax)``.

    Args:
        observations: live and/or recorded observations.
        scenario: whose cases to plot.
        field: ``size_inspect`` (``docker image inspect``) or ``size_listed``
            (``docker images``).

    Example:
        >>> fig, ax = plot_sizes(observe.recorded())                # doctest: +SKIP
    """
    if field not in ("size_inspect", "size_listed"):
        raise LabkitError(f"cannot plot {field!r}", hint="use size_inspect or size_listed")
    label = "docker image inspect .Size" if field == "size_inspect" else "docker images SIZE"
    fig, ax = show.figure(f"{scenario}: image size ({label})", ylabel="bytes (log scale)")
    cases: list[str] = []
    for _, _, case_name, _ in _pairs(observations, scenario):
        cases += [case_name] if case_name not in cases else []

    def size(obs, case_name):
        case = obs.results[scenario].cases.get(case_name) if scenario in obs.results else None
        return getattr(case, field) if case is not None and case.ok else None

    _grouped_bars(ax, observations, cases, size,
                  lambda obs: f"{obs.name} ({'live' if obs.live else 'recorded'})")
    ax.set_xticks(range(len(cases)), cases)
    ax.set_yscale("log")
    if scenario == "hello-variants":
        official = OFFICIAL_HELLO_WORLD["size"]
        ax.axhline(official, color="#555555", linestyle="--", linewidth=1,
                   label=f"official hello-world binary ({official:,} B)")
    ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_layers(observations: Sequence[Observation], scenarios: Sequence[str] | None = None):
    """Layer count of every scenario's main image, per engine; ``(fig, ax)``.

    Example:
        >>> fig, ax = plot_layers(observe.recorded(), ["empty-labkit", "era-1.4"])  # doctest: +SKIP
    """
    names: list[str] = []
    for obs in observations:
        names += [n for n in obs.results if n not in names and (not scenarios or n in scenarios)]
    fig, ax = show.figure("Layers per image", ylabel="layers (RootFS.Layers)")
    _grouped_bars(ax, observations, names,
                  lambda obs, n: obs.results[n].main.layers if n in obs.results else None,
                  lambda obs: obs.name)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize="small")
    return fig, ax


def layer_headers(observation: Observation, scenario: str = "hello-legacy") -> dict:
    """The tar header of the hello file in the layer the engine saved (first member)."""
    headers = observation[scenario].main.extra.get("layer_tar_headers") or []
    if not headers:
        raise LabkitError(f"{observation.name} recorded no layer headers for {scenario}",
                          hint="its build or docker save failed; see its error")
    return headers[0]


def tar_header_diff(a: Observation, b: Observation, scenario: str = "hello-legacy",
                    all_fields: bool = False) -> show.Table:
    """The header fields of the same file that differ between two engines' layers.

    The file's bytes, name and mtime are equal; the header is not, so the layer tar
    and its diff_id differ.

    Args:
        a, b: two observations (e.g. 20.10.24 and 28.5.2).
        scenario: ``hello-legacy`` or ``hello-buildkit``.
        all_fields: show equal fields too.

    Example:
        >>> print(tar_header_diff(old, new))                          # doctest: +SKIP
        field  20.10.24  28.5.2
        mode   0100755   0000755
        ...
    """
    ha, hb = layer_headers(a, scenario), layer_headers(b, scenario)
    rows = [{"field": k, a.name: repr(ha.get(k)), b.name: repr(hb.get(k))}
            for k in ha if k != "offset" and (all_fields or ha.get(k) != hb.get(k))]
    rows.append({"field": "layer diff_id", a.name: a[scenario].main.diff_ids[-1][:19] + "…",
                 b.name: b[scenario].main.diff_ids[-1][:19] + "…"})
    return show.table(rows, columns=["field", a.name, b.name],
                      title=f"The hello file's tar header in {scenario}: {a.name} vs {b.name}")
