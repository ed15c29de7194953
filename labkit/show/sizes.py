"""The size ledger, drawn: a table and a plot of every "size" of one image, per engine.

Example:
    >>> from labkit import observe
    >>> t = size_ledger(observe.recorded(), "hello-variants", "tiny")
    >>> t.rows[-1]["engine"], t.rows[-1]["images SIZE"]
    ('28.5.2-containerd', '9,095\xa0B')
"""
from __future__ import annotations

from typing import Sequence

from labkit import ledger
from labkit.show.plots import figure
from labkit.show.style import PALETTE
from labkit.show.tables import Note, Table, short, table


def _bytes(value) -> str:
    return "—" if value is None else f"{value:,}\u00a0B"     # no line break inside "2,048 B"


#: The ledger's column for each of ``labkit.ledger.ITEMS`` (its long name is in the legend).
COLUMNS = {"file": "file", "layer_tar": "layer tar", "layer_gzip": "layer gzip", "config": "config",
           "manifest": "manifest", "index": "index", "attestation": "attestation",
           "inspect": "inspect .Size", "listed": "images SIZE", "unpacked": "unpacked"}
_LABELS = {label: COLUMNS[key] for key, label, _ in ledger.ITEMS}


def size_ledger(observations, scenario: str = "hello-variants", case: str = "tiny") -> Table:
    """Every size of one image: a row per engine (so another engine is one more row), a
    column per kind of size, in bytes; "—" where that engine has no such thing.
    :func:`size_legend` says what each column counts.

    Args:
        observations: ``labkit.observe`` Observations (live or recorded).
        scenario, case: the image (default: labkit's tiny hello, loaded).
    """
    rows = ledger.ledger_rows(observations, scenario, case)
    names = [obs.name for obs in observations if any(obs.name in r for r in rows)]
    shown = [{"engine": name, **{_LABELS[r["size"]]: _bytes(r.get(name)) for r in rows}} for name in names]
    return table(shown, ["engine", *(_LABELS[r["size"]] for r in rows)], missing="—",
                 title=f"Every size of one image ({scenario}: {case}), by engine, in bytes")


def size_legend(observations, scenario: str = "hello-variants", case: str = "tiny") -> Table:
    """What each column of :func:`size_ledger` is, and what it counts.

    Example:
        >>> from labkit import observe
        >>> size_legend(observe.recorded()).rows[1]["column"]
        'layer tar'
    """
    rows = ledger.ledger_rows(observations, scenario, case)
    return table([{"column": _LABELS[r["size"]], "is": r["size"], "counts": r["counts"]} for r in rows],
                 title="What each size is")


def listed_size_sum(observation, scenario: str = "hello-legacy", case: str | None = None) -> Note:
    """The containerd store's ``docker images`` size, added up from its parts, to the byte.

    Example:
        >>> from labkit import observe
        >>> print(listed_size_sum(observe.recording("28.5.2-containerd"),
        ...                       "hello-variants", "tiny"))  # doctest: +ELLIPSIS
        docker images on 28.5.2-containerd: 423 B manifest + 294 B config + 186 B layer (gzip) + 8,192 B unpacked files = 9,095 B (recorded on Docker 28.5.2 with the containerd image store (...))
    """
    result = observation[scenario]
    chosen = result[case] if case else result.main
    parts = ledger.listed_size_parts(chosen)
    if not parts:
        return Note(f"docker images on {observation.name}: {chosen.size_listed:,} B — the bytes of "
                    "the files (the classic store counts nothing else)")
    total = sum(size for _, size in parts)
    words = " + ".join(f"{size:,} B {name}" for name, size in parts)
    return Note(f"docker images on {observation.name}: {words} = {total:,} B ({observation.source})")


def plot_size_ledger(observations: Sequence, scenario: str = "hello-variants", case: str = "tiny"):
    """The ledger as bars, bytes on a log scale, one colour per engine; ``(fig, ax)``."""
    rows = ledger.ledger_rows(observations, scenario, case)
    names = [obs.name for obs in observations if any(r.get(obs.name) is not None for r in rows)]
    fig, ax = figure(f"Sizes of one image ({case}), by engine", xlabel="bytes (log scale)",
                     size=(8.5, 0.5 * len(rows) + 1.5))
    height = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        ys = [j + (i - (len(names) - 1) / 2) * height for j in range(len(rows))]
        ax.barh(ys, [r.get(name) or 0 for r in rows], height, label=name,
                color=PALETTE[i % len(PALETTE)])
    ax.set_yticks(range(len(rows)), [r["size"] for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    return fig, ax


def gzip_comparison(layer: bytes, observations: Sequence = (), scenario: str = "hello-variants",
                    case: str = "tiny") -> Table:
    """The same uncompressed bytes gzipped several ways: different digests, one diff_id.

    Args:
        layer: the uncompressed tar.
        observations: engines whose compressed blob of ``layer`` to add (those whose
            ``case`` saved a gzip layer: the containerd store).
    """
    rows = ledger.gzip_comparison(layer)
    diff_id = rows[0]["diff_id"]
    for obs in observations:
        for blob in ledger.gzip_blobs(obs, scenario, case):
            rows.append({"compressed by": f"Docker {obs.name}", "bytes": blob["size"],
                         "digest": blob["digest"], "header mtime": "—", "header os": "—",
                         "diff_id": diff_id})
    rows = [{**r, "digest": short(r["digest"]), "diff_id": short(r["diff_id"])} for r in rows]
    return table(rows, ["compressed by", "bytes", "digest", "header mtime", "header os", "diff_id"],
                 title=f"{len(layer):,} bytes, gzipped {len(rows)} ways")
