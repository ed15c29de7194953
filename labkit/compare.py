"""Observations side by side, as data: rows, cells and differences (no rendering).

Every function takes ``labkit.observe`` Observations (from ``observe.observe(engine)``,
``observe.recorded()`` or both, mixed) and returns plain values; ``labkit.show`` turns
them into tables and plots.

Example:
    >>> from labkit import compare, observe
    >>> compare.rows([observe.reference()], "hello-legacy")[0]["layers"]
    1
"""
from __future__ import annotations

from typing import Iterator, Sequence

from labkit.errors import LabkitError
from labkit.observe import Observation
from labkit.scenarios import Case

#: How a lesson table marks an image ID the engine sets at build time (the config holds
#: the build's date, so the ID differs on every build; notebooks/sanitize.cfg masks it).
BUILD_TIME_MARK = "(set at build time)"
#: How a lesson table marks a size that follows the build's date: the containerd store
#: counts the config, whose length varies with the digits of its time stamp.
VARIES_MARK = "(varies by build)"
#: The columns of :func:`summary_row` (besides ``case`` and ``history rows``).
SUMMARY_COLUMNS = ("builder", "image", "id_kind", "layers", "size (inspect)",
                   "size (docker images)", "save format", "run")


def case_value(case: Case, column: str):
    """One cell of a case as every lesson table shows it.

    Columns: ``builder``, ``image`` (short ID, marked when the engine sets it at build
    time), ``layers``, ``diff_ids``, ``size (inspect)``, ``size (docker images)``,
    ``history``, ``run``, ``save format``, ``id_kind``, or any key of the case's ``extra``.

    Example:
        >>> case_value(Case("labkit", size_listed=170), "size (docker images)")
        '170 B'
    """
    if column == "image":
        if not case.ok:
            return f"error: {case.error}"
        short = case.image_id.split(":")[-1][:12] if case.image_id else None
        return f"{short} {BUILD_TIME_MARK}" if "image_id" in case.engine_assigned else short
    if column == "run":
        run = case.run or {}
        if run.get("error"):
            return f"error: {run['error']}"
        output = (run.get("stdout") or "") + (run.get("stderr") or "")
        text = " / ".join(line.strip() for line in output.splitlines() if line.strip())
        return f"exit {run['exit_code']}: {text}" if run else None
    if column == "save format":
        save = case.save or {}
        return save.get("format") or (f"error: {save['error']}" if save.get("error") else None)
    if column == "history":
        return " | ".join(f"{row.get('created_by') or '(no command)'} [{row.get('size', 0):,} B]"
                          for row in case.history) or None
    if column == "diff_ids":
        return ", ".join(d.split(":")[-1][:12] for d in case.diff_ids) or None
    if column in ("size (inspect)", "size (docker images)"):
        field = "size_inspect" if column == "size (inspect)" else "size_listed"
        value = getattr(case, field)
        mark = f" {VARIES_MARK}" if field in case.engine_assigned else ""
        return None if value is None else f"{value:,} B{mark}"
    if column in ("layers", "builder", "id_kind"):
        return getattr(case, column)
    value = case.extra.get(column)
    if isinstance(value, str) and value.startswith("sha256:"):
        return value.split(":")[-1][:12]  # as short as the image column
    if column.endswith("_sizes") and isinstance(value, list):
        return ", ".join(f"{v:,} B" for v in value)
    return f"{value:,} B" if column.endswith("_size") and isinstance(value, int) else value


def summary_row(case_name: str, case: Case) -> dict:
    """The key facts of one case as a flat row, formatted as the lesson tables show them.

    Example:
        >>> summary_row("a", Case("labkit", layers=0, size_inspect=0))["layers"]
        0
    """
    return {"case": case_name, **{c: case_value(case, c) for c in SUMMARY_COLUMNS},
            "history rows": len(case.history) if case.ok else None}


def pairs(observations: Sequence[Observation],
          scenario: str | None = None) -> Iterator[tuple[Observation, str, str, Case]]:
    """``(observation, scenario name, case name, case)`` for every case, in order."""
    for obs in observations:
        for name, result in obs.results.items():
            if scenario is None or name == scenario:
                for case_name, case in result.cases.items():
                    yield obs, name, case_name, case


def rows(observations: Sequence[Observation], scenario: str | None = None) -> list[dict]:
    """The key fields, unformatted: one dict per engine x scenario x case (for JSON).

    Example:
        >>> from labkit import observe
        >>> rows(observe.recorded(), "empty-import")[0]["diff_ids"]
        ['sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef']
    """
    return [{
        "engine": obs.name, "source": obs.source, "scenario": name, "case": case_name,
        "builder": case.builder, "ok": case.ok, "error": case.error,
        "image_id": case.image_id, "id_kind": case.id_kind, "layers": case.layers,
        "diff_ids": case.diff_ids, "size_inspect": case.size_inspect,
        "size_listed": case.size_listed, "history_rows": len(case.history),
        "save_format": (case.save or {}).get("format"), "run": case.run,
    } for obs, name, case_name, case in pairs(observations, scenario)]


def summary_rows(observations: Sequence[Observation], scenario: str | None = None) -> list[dict]:
    """One formatted row per engine x scenario x case: layers, ID, sizes, history, save, run
    (the rows of ``labkit.show.comparison``; without ``scenario`` when one is given)."""
    out = []
    for obs, name, case_name, case in pairs(observations, scenario):
        row = {"engine": obs.name, "scenario": name, **summary_row(case_name, case),
               "diff_ids": case_value(case, "diff_ids")}
        if scenario is not None:
            del row["scenario"]
        out.append(row)
    return out


def across_rows(observations: Sequence[Observation], scenario: str,
                columns: Sequence[str]) -> tuple[list[dict], list[str], list[str]]:
    """One scenario on several engines: ``(rows, columns that vary, columns the same on
    every row)``; a row per engine and case with ``engine``, ``case`` and ``columns``.

    A column counts as "the same" only when there are two rows or more.

    Example:
        >>> from labkit import observe
        >>> rows_, varying, same = across_rows(observe.recorded(), "hello-legacy", ["layers"])
        >>> "layers" in same, "engine" in varying
        (True, True)
    """
    chosen = [obs for obs in observations if scenario in obs.results]
    rows_ = [{"engine": obs.name, "case": name, **{c: case_value(case, c) for c in columns}}
             for obs in chosen for name, case in obs.results[scenario].cases.items()]
    same = [c for c in ("case", *columns) if len(rows_) > 1 and len({str(r[c]) for r in rows_}) == 1]
    varying = [c for c in ("engine", "case", *columns) if c not in same]
    return rows_, varying, same


def engine_rows(observations: Sequence[Observation], scenario: str,
                cells: dict[str, tuple[str | tuple[str, ...], str]]) -> list[dict]:
    """One row per engine (so another engine is one more row): ``engine``, then each
    ``label`` of ``cells`` with the value of ``(case, column)`` (``None`` where that
    engine has no such case). ``case`` may be a tuple: the first of those cases the
    engine ran without error (Podman has no BuildKit: ``("buildkit", "legacy")`` takes its
    Buildah build).

    Example:
        >>> from labkit import observe
        >>> rows_ = engine_rows(observe.recorded(), "empty-dockerfile",
        ...                     {"BuildKit": ("buildkit", "image"), "legacy": ("legacy", "image")})
        >>> rows_[0]["engine"], rows_[0]["BuildKit"]
        ('20.10.5', '71de1148337f')
        >>> podman = engine_rows(observe.recorded(podman=True), "empty-dockerfile",
        ...                      {"builder": (("buildkit", "legacy"), "builder"), "layers": (("buildkit", "legacy"), "layers")})
        >>> podman[-2]
        {'engine': 'podman-4.3.1', 'builder': 'buildah', 'layers': 1}
    """
    rows_ = []
    for obs in observations:
        if scenario not in obs.results:
            continue
        cases = obs.results[scenario].cases
        row = {"engine": obs.name}
        for label, (wanted, column) in cells.items():
            names = [wanted] if isinstance(wanted, str) else list(wanted)
            chosen = next((n for n in names if n in cases and cases[n].ok), next((n for n in names if n in cases), None))
            row[label] = case_value(cases[chosen], column) if chosen else None
        rows_.append(row)
    return rows_


def layer_headers(observation: Observation, scenario: str = "hello-legacy") -> dict:
    """The tar header of the hello file in the layer the engine saved (first member)."""
    headers = observation[scenario].main.extra.get("layer_tar_headers") or []
    if not headers:
        raise LabkitError(f"{observation.name} recorded no layer headers for {scenario}",
                          hint="its build or docker save failed; see its error")
    return headers[0]


def header_differences(a: Observation, b: Observation, scenario: str = "hello-legacy",
                       all_fields: bool = False) -> list[dict]:
    """The header fields of the same file that differ between two engines' saved layers,
    one row each (``field``, ``a.name``, ``b.name``), then the two layer diff_ids.

    The file's bytes, name and mtime are equal; the header is not, so the layer tar
    and its diff_id differ.

    Example:
        >>> from labkit import observe
        >>> old, new = observe.recorded()[0], observe.recorded()[-1]
        >>> [r["field"] for r in header_differences(old, new)]            # doctest: +SKIP
        ['mode', 'chksum', 'uname', 'gname', 'layer diff_id']
    """
    ha, hb = layer_headers(a, scenario), layer_headers(b, scenario)

    def shown(key: str, value):
        # the checksum field ends in a NUL and a space (POSIX ustar): show its octal digits
        return repr(value.rstrip("\x00 ")) if key == "chksum" and isinstance(value, str) else repr(value)

    out = [{"field": k, a.name: shown(k, ha.get(k)), b.name: shown(k, hb.get(k))}
           for k in ha if k != "offset" and (all_fields or ha.get(k) != hb.get(k))]
    out.append({"field": "layer diff_id", a.name: a[scenario].main.diff_ids[-1][:19] + "…",
                b.name: b[scenario].main.diff_ids[-1][:19] + "…"})
    return out


def _short_type(media_type: str | None) -> str:
    """``application/vnd.oci.image.layer.v1.tar+gzip`` -> ``oci layer tar+gzip``."""
    if not media_type:
        return "-"
    kind = "docker" if ".docker." in media_type else ("oci" if ".oci." in media_type else media_type)
    tail = media_type.rsplit(".", 1)[-1] if kind != media_type else ""
    for word, short in (("manifest.list", "manifest list"), ("image.index", "index"),
                        ("manifest", "manifest"), ("config", "config"), ("container.image", "config"),
                        ("rootfs.diff", "layer"), ("image.layer", "layer")):
        if word in media_type:
            return f"{kind} {short}" + (f" {tail}" if short == "layer" else "")
    return media_type


def push_rows(observations: Sequence[Observation], cases: Sequence[str] | None = None) -> list[dict]:
    """One row per engine and case of ``registry-push``: what ``docker push`` stored.

    Columns: ``engine``, ``case``, ``pushed`` (the tag's media type), ``platforms``, ``layer
    media type``, ``compressed digest`` (first layer, 12 digits), ``layer blobs (B)``
    (each layer blob's bytes), ``pull size (B)``, ``config (B)``, ``push said``.

    Example:
        >>> from labkit import observe
        >>> push_rows([observe.reference()], ["busybox"])[0]["pushed"]
        'docker manifest'
    """
    out = []
    for obs in observations:
        result = obs.results.get("registry-push")
        for name, case in (result.cases.items() if result else []):
            if cases and name not in cases:
                continue
            x = case.extra
            if not case.ok or "manifest" not in x:
                out.append({"engine": obs.name, "case": name, "pushed": f"failed: {case.error}"})
                continue
            out.append({
                "engine": obs.name, "case": name, "pushed": _short_type(x["manifest"]["media_type"]),
                "platforms": ", ".join(x["platforms"]) or "-",
                "layer media type": ", ".join(sorted({_short_type(l["media_type"]) for l in x["layers"]})),
                "compressed digest": x["layers"][0]["digest"][7:19] if x["layers"] else "-",
                "layer blobs (B)": " + ".join(f"{l['size']:,}" for l in x["layers"]),
                "pull size (B)": f"{x['pull_size']:,}", "config (B)": f"{x['config']['size']:,}",
                "push said": "; ".join(x.get("push_statuses") or []),
            })
    return out


def pull_rows(observations: Sequence[Observation]) -> list[dict]:
    """One row per engine and case of ``registry-pull``: what ``docker pull`` made of
    another engine's push (the ID, what it is the digest of, the sizes reported)."""
    out = []
    for obs in observations:
        result = obs.results.get("registry-pull")
        for name, case in (result.cases.items() if result else []):
            out.append({"engine": obs.name, "pulled": name.removeprefix("from-"),
                        "ok": "yes" if case.ok else f"no: {case.error}",
                        "image ID": (case.image_id or "-")[7:19], "ID is the digest of": case.id_kind or "-",
                        "size (inspect)": f"{case.size_inspect:,}" if case.size_inspect is not None else "-",
                        "size (docker images)": f"{case.size_listed:,}" if case.size_listed is not None else "-"})
    return out


#: Rows one page of the engine explorer shows (issue 17: no output over 40 rows).
PAGE_ROWS = 10


def explorer_rows(observations: Sequence[Observation], scenario: str | None = None) -> list[dict]:
    """What the engine explorer lists: one row per engine x scenario x case, with the full
    image ID and run output (``labkit.show`` shortens them, the full value on hover).

    Columns: ``engine``, ``scenario`` (only without ``scenario``), ``case``, ``layers``,
    ``image`` (the full ID, or ``error: …``), ``size (inspect)``, ``size (docker images)``,
    ``save format``, ``run``; ``set at build time`` says whether the engine chose the ID.

    Example:
        >>> from labkit import observe
        >>> row = explorer_rows([observe.reference()], "hello-legacy")[0]
        >>> row["engine"], row["case"], row["layers"], row["set at build time"]
        ('20.10.24', 'legacy', 1, True)
    """
    out = []
    for obs, name, case_name, case in pairs(observations, scenario):
        row = {"engine": obs.name, "scenario": name, "case": case_name, "layers": case.layers,
               "image": case.image_id if case.ok else f"error: {case.error}",
               "set at build time": "image_id" in case.engine_assigned,
               **{c: case_value(case, c) for c in ("size (inspect)", "size (docker images)", "save format", "run")}}
        if scenario is not None:
            del row["scenario"]
        out.append(row)
    return out


def page(rows: Sequence, number: int, size: int = PAGE_ROWS) -> tuple[list, int, int, int]:
    """Page ``number`` (from 0; clamped to the pages there are) of ``rows``:
    ``(its rows, the first row's number from 1, the last row's, how many pages)``.

    Example:
        >>> page(list(range(25)), 2)
        ([20, 21, 22, 23, 24], 21, 25, 3)
        >>> page([], 0)
        ([], 0, 0, 1)
    """
    pages = max(1, -(-len(rows) // size))
    number = min(max(number, 0), pages - 1)
    chosen = list(rows[number * size:(number + 1) * size])
    first = number * size + 1 if chosen else 0
    return chosen, first, first + len(chosen) - 1 if chosen else 0, pages
