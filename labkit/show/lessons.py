"""The lesson views: what the notebooks display, the same text live and offline.

Every view renders the same text live and offline, except the parts
``notebooks/sanitize.cfg`` normalises: the mode line, the "live … / recorded on …
(date)" source, and IDs the engine sets at build time (marked ``BUILD_TIME_MARK``).

Example:
    >>> from labkit import observe
    >>> print(scenario(observe.scenario("empty-labkit"), ["layers"]))  # doctest: +ELLIPSIS
    recorded on Docker 20.10.24 (...)
    ...
"""
from __future__ import annotations

import html
import os
import shlex
from dataclasses import dataclass
from typing import Sequence

from labkit import compare, engine as engine_mod, machine, observe, oci
from labkit.compare import BUILD_TIME_MARK, case_value
from labkit.show.tables import Note, Short, Table, short, table

__all__ = ["BUILD_TIME_MARK", "DIFFERS", "ScenarioView", "across", "by_engine", "case_value", "comparison", "engines",
           "header_diff", "image", "mode_banner", "predicted_ids", "scenario", "tar_header_diff"]


#: How each line about a difference from the recordings begins (notebooks/sanitize.cfg
#: drops these lines: they describe the machine, not the lesson).
DIFFERS = "Differs from the recordings: "


def mode_banner(engine=None) -> Note:
    """The line saying whether engine cells run live or show the reference recording,
    then one line per way this setup differs from the recordings (none on a Linux
    amd64 host with a classic-store engine the fleet ran: the usual case is one line).

    The first line's wording is fixed (``notebooks/sanitize.cfg`` masks
    ``Mode: (live|offline) — ...``); the others begin ``Differs from the recordings:``
    (``labkit.machine.differences``: the engine's architecture, Docker Desktop, the
    image store, a Docker version the fleet never ran, a host that is not Linux).

    Args:
        engine: a ``labkit.engine.Engine``; default: whatever answers at DOCKER_HOST.

    Example:
        >>> str(mode_banner()).startswith("Mode: ")
        True
    """
    eng = engine or engine_mod.try_connect()
    if eng is not None:
        first = (f"Mode: live — {eng.facts.label} answers at {eng.base_url}; "
                 "engine cells build and run on it now.")
    else:
        ref = observe.reference().provenance
        first = (f"Mode: offline — no Docker engine answered; engine cells show what Docker "
                 f"{observe.short_version(ref['engine_version'])} did, recorded on {ref['date']}; "
                 "labkit's own builder runs here.")
    lines = [DIFFERS + line for line in machine.differences(eng.facts if eng else None)]
    return Note("\n".join([first, *lines]))



def predicted_ids(engine=None) -> Table:
    """What labkit predicts for the lesson's images on the architecture it builds for
    (the engine's; with no engine, this host's), beside the amd64 values the recordings
    and the text show (``labkit.machine.predicted_ids``), IDs cut to 12 digits.

    Example:
        >>> t = predicted_ids()                          # doctest: +SKIP
        >>> t.rows[0]["image"]                           # doctest: +SKIP
        'empty image (labkit)'
    """
    goal = machine.target(engine)
    rows = [{key: value[:19] if value.startswith("sha256:") else value for key, value in row.items()}
            for row in machine.predicted_ids(goal.oci_arch)]
    return table(rows, title=f"What labkit predicts for {goal.oci_arch} images, beside the "
                             "recorded amd64 values")


@dataclass(frozen=True)
class ScenarioView:
    """A scenario result as the lessons show it: its source line, then one row per case."""

    source: str
    table: Table

    def __str__(self) -> str:
        return f"{self.source}\n{self.table}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self.source)}</em></p>{self.table._repr_html_()}"


def scenario(result, columns: Sequence[str] = ("builder", "image", "layers", "size (inspect)",
                                                 "size (docker images)", "run"),
             title: str | None = None) -> ScenarioView:
    """One ``labkit.observe`` result: a row per case, the columns a lesson needs.

    Columns: ``builder``, ``image`` (short ID, marked when the engine sets it at build
    time), ``layers``, ``diff_ids``, ``size (inspect)``, ``size (docker images)``,
    ``history``, ``run``, ``save format``, ``id_kind``, or any key of the case's ``extra``.

    Example:
        >>> from labkit import observe
        >>> print(scenario(observe.scenario("empty-labkit"), ["layers"]))  # doctest: +ELLIPSIS
        recorded on Docker 20.10.24 (...)
        ...
    """
    rows = [{"case": f"{name} (recorded)" if case.extra.get("recorded") else name,
             **{c: case_value(case, c) for c in columns}}
            for name, case in result.cases.items()]
    return ScenarioView(result.source, table(rows, ["case", *columns],
                                             title or f"{result.scenario}: {result.description}"))



def image(path) -> ScenarioView:
    """What an image file holds: its layers (diff_id, tar size, entries) and the merged files.

    Example:
        >>> import tempfile, pathlib
        >>> from labkit import oci
        >>> print(image(oci.Image().write(pathlib.Path(tempfile.mkdtemp()) / "e.tar")))  # doctest: +ELLIPSIS
        docker-archive, image id sha256:...
    """
    info = path if isinstance(path, oci.ImageInfo) else oci.inspect(path)
    rows = [{"layer": n, "diff_id": layer.diff_id, "tar size": f"{layer.size:,} B",
             "entries": ", ".join(_entry_text(e) for e in layer.entries) or "(none)"}
            for n, layer in enumerate(info.layers, 1)]
    title = f"{len(info.layers)} layer(s); merged files: " + (
        ", ".join(f"/{p} ({s:,} B)" for p, s in sorted(info.files.items())) or "none")
    source = f"{info.format}, image id {info.image_id}"
    if isinstance(path, (str, os.PathLike)):         # the listing a terminal gives of the same file
        where = shlex.quote(os.fspath(path))
        source += f" · in a terminal: {'tar -tvf ' + where if os.path.isfile(path) else 'find ' + where + ' -type f'}"
    return ScenarioView(source, table(rows, ["layer", "diff_id", "tar size", "entries"], title))


def _entry_text(entry) -> str:
    if entry.whiteout:
        return f"{entry.path} (whiteout)"
    if entry.linkname:
        return f"{entry.path} -> {entry.linkname}"
    return f"{entry.path}/" if entry.type == "dir" else f"{entry.path} ({entry.size:,} B)"


def engines(observations) -> Table:
    """Who measured: one row per observation (Docker or Podman, version, API, storage, image
    store, builders, source).

    Example:
        >>> from labkit import observe
        >>> "20.10.24" in str(engines(observe.recorded()))
        True
    """
    rows = [{"engine": obs.name, "product": obs.provenance.get("engine", "Docker"),
             "version": obs.provenance.get("engine_version"),
             "API": obs.provenance.get("api_version"),
             "storage driver": obs.provenance.get("storage_driver"),
             "image store": obs.provenance.get("image_store"),
             "builders": ", ".join(obs.provenance.get("builders", [])),
             "source": obs.source}
            for obs in observations]
    return table(rows, title="Engines in this comparison")


def header_diff(entry, eras: Sequence[str] = ("20.10", "modern")) -> Table:
    """The tar header labkit writes for ``entry`` in each era, field by field, and the
    resulting layer diff_id: where the eras differ, the digest differs.

    Example:
        >>> from labkit import oci
        >>> [row["field"] for row in header_diff(oci.Entry.file("hello", b"hi")).rows if row["differs"]]
        ['mode', 'chksum', 'uname', 'gname', 'layer diff_id']
    """
    layers = {era: oci.layer_tar([entry], era=era) for era in eras}
    headers = {era: oci.tar_headers(layer)[0] for era, layer in layers.items()}
    first = headers[eras[0]]
    rows = [{"field": name, "differs": "yes" if any(h.get(name) != first.get(name) for h in headers.values())
             else "", **{era: repr(h.get(name)) for era, h in headers.items()}}
            for name in first if name != "offset"]
    digests = {era: short(oci.Image([[entry]], era=era).diff_ids[0]) for era in eras}
    rows.append({"field": "layer diff_id", "differs": "yes" if len(set(digests.values())) > 1 else "",
                 **digests})
    return table(rows, ["field", *eras, "differs"], title=f"The tar header of /{entry.path}, as each era writes it")


def across(observations, scenario_name: str,
           columns: Sequence[str] = ("builder", "image", "id_kind", "layers", "diff_ids",
                                     "size (inspect)", "size (docker images)", "save format", "run"),
           sources: bool = False, missing: str = "", hover: bool = False) -> Table:
    """One scenario on several engines: a row per engine and case, the columns of
    :func:`scenario` (IDs the engine set at build time are marked, as there).

    So that the table fits a notebook column, a column whose value is the same in every
    row (of two or more) is said once in the title instead; ``rows`` keep every column.
    ``sources=True`` adds, last, where each row comes from (live, or recorded and when);
    ``missing`` is shown where a case has no value (lessons pass "—"); ``hover=True`` keeps
    the full image ID and diff_ids of the shortened ``image`` and ``diff_ids`` cells for the
    HTML hover.

    Example:
        >>> from labkit import observe
        >>> t = across(observe.recorded(), "era-1.4", ["layers"])
        >>> t.rows[0]["layers"]
        3
        >>> print(across(observe.recorded(), "hello-legacy", ["layers", "diff_ids"]).title)
        hello-legacy on 5 engine(s); the same on every one: case legacy, layers 1
    """
    rows, varying, same = compare.across_rows(observations, scenario_name, columns)
    engines_ = [obs for obs in observations if scenario_name in obs.results]
    if hover:
        cases = [case for obs in engines_ for case in obs.results[scenario_name].cases.values()]
        rows = [_with_full_values(row, case) for row, case in zip(rows, cases)]
    title = f"{scenario_name} on {len(engines_)} engine(s)"
    if same:
        title += "; the same on every one: " + ", ".join(
            f"{c} {'—' if rows[0][c] is None else rows[0][c]}" for c in same)
    if sources:
        source = {obs.name: obs.source for obs in engines_}
        rows = [{**row, "source": source[row["engine"]]} for row in rows]
        varying = [*varying, "source"]
    return Table(rows, varying, title, missing=missing)


def _with_full_values(row: dict, case) -> dict:
    """``row`` with its ``image`` and ``diff_ids`` cells keeping the full values (hover)."""
    out = dict(row)
    for column, full in (("image", case.image_id), ("diff_ids", ", ".join(case.diff_ids))):
        if out.get(column) and full and not str(out[column]).startswith("error"):
            out[column] = Short(out[column])
            out[column].full = full
    return out


def by_engine(observations, scenario_name: str, cells: dict[str, tuple[str, str]],
              title: str | None = None) -> Table:
    """One scenario as a cross-version table with one row per engine: each column
    ``label`` shows ``(case, column)`` of that engine's result (columns as in
    :func:`scenario`; "—" where an engine has no such case).

    Example:
        >>> from labkit import observe
        >>> t = by_engine(observe.recorded(), "empty-dockerfile", {"BuildKit makes": ("buildkit", "image")})
        >>> [row["engine"] for row in t.rows][:2], t.rows[0]["BuildKit makes"]
        (['20.10.5', '20.10.24'], '71de1148337f')
    """
    rows = compare.engine_rows(observations, scenario_name, cells)
    return table(rows, ["engine", *cells], title or f"{scenario_name}, one row per engine")


def comparison(observations, scenario: str | None = None) -> Table:
    """One row per engine x scenario x case: layers, ID, sizes, history, save, run
    (what ``labkit compare`` prints).

    Args:
        observations: live and/or recorded ``labkit.observe`` Observations.
        scenario: only this scenario (default: all).

    Example:
        >>> comparison([observe.reference()], "hello-legacy").rows[0]["engine"]
        '20.10.24'
    """
    sources = "; ".join(f"{o.name}: {o.source}" for o in observations)
    return table(compare.summary_rows(observations, scenario),
                 title=f"{scenario or 'All scenarios'} ({sources})")


def tar_header_diff(a, b, scenario: str = "hello-legacy", all_fields: bool = False) -> Table:
    """The header fields of the hello file that differ between two engines' saved layers,
    and the two layer diff_ids (see ``labkit.compare.header_differences``).

    Args:
        a, b: two observations (e.g. 20.10.24 and 28.5.2).
        scenario: ``hello-legacy`` or ``hello-buildkit``.
        all_fields: show equal fields too.

    Example:
        >>> old, new = observe.recorded()[0], observe.recorded()[-1]
        >>> print(tar_header_diff(old, new))                          # doctest: +ELLIPSIS
        The hello file's tar header in hello-legacy: 20.10.5 vs 28.5.2-containerd
        field ...
    """
    rows = compare.header_differences(a, b, scenario, all_fields)
    rows[-1] = {"field": rows[-1]["field"], **{o.name: short(o[scenario].main.diff_ids[-1]) for o in (a, b)}}
    return table(rows, columns=["field", a.name, b.name],
                 title=f"The hello file's tar header in {scenario}: {a.name} vs {b.name}")


def link_chain(result, variant: str = "glibc-static") -> Table:
    """Why a static hello holds code it never calls: the chain of library members the
    linker copied in, from the program's start file to printf's engine
    (``vfprintf-internal.o``), as the linker's map recorded it (``labkit.linkmap``).

    Example:
        >>> print(link_chain(observe.scenario("hello-variants")).rows[0]["file"])
        crt1.o
    """
    case = result[variant]
    steps = case.extra.get("printf_pulled_in_by") or []
    rows = []
    for step in steps:
        needer, _, rest = step.partition(" needs ")
        symbol, _, member = rest.partition(": ")
        rows.append({"file": needer, "refers to": symbol, "so the linker copies in": member})
    total = case.extra.get("members_linked")
    return table(rows, ["file", "refers to", "so the linker copies in"],
                 title=f"Why the {variant} hello holds printf's code: {total} library members "
                       "linked in all, this chain among them")
