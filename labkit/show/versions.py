"""The across-versions lesson's views: one image on every engine, and the two eras' layers.

Notebook 04 shows one cross-version table (:func:`version_table`: engines as rows, so
another engine is one more row) and what labkit predicts for each era's layer
(:func:`era_digests`); the tar header itself is ``labkit.show.header_diff``. Digests are
shortened to 12 hex digits, the full value on hover; a missing value is "—".

Example:
    >>> from labkit import observe
    >>> t = version_table(observe.recorded())
    >>> [(r["engine"], r["layer diff_id"]) for r in t.rows][:3]
    [('20.10.5', 'afb7b93b28f3'), ('20.10.24', 'afb7b93b28f3'), ('26.1.5', '66cb068deb3d')]
"""
from __future__ import annotations

from typing import Sequence

from labkit import oci
from labkit.compare import case_value
from labkit.show.tables import Table, short, table

#: What an image ID is the digest of, by the ``id_kind`` a scenario recorded.
ID_KINDS = {"config-digest": "config", "manifest-digest": "manifest", "index-digest": "index"}
#: labkit's eras (``labkit.oci.Image(era=...)``) and the Docker versions that write each way.
ERAS = {"20.10": "Debian's Docker 20.10 builds (the lab's 20.10.5 and 20.10.24)",
        "modern": "Docker 24.0 and later (the lab's 26.1.5 and 28.5.2)"}


def version_table(observations: Sequence, scenario: str = "hello-legacy", case: str | None = None) -> Table:
    """One image on every engine: a row per engine with its image store, the layer's
    diff_id, what the image ID is the digest of, and the two sizes Docker reports.

    Args:
        observations: ``labkit.observe.versions()`` (live where a fleet engine is up,
            recorded otherwise; hover an engine's name for which).
        scenario, case: the image (default: the hello image, legacy builder).

    Example:
        >>> from labkit import observe
        >>> row = version_table(observe.recorded()).rows[-1]
        >>> row["engine"], row["image ID is the digest of"], row["image store"]
        ('28.5.2-containerd', 'manifest', 'containerd')
    """
    rows = []
    for obs in observations:
        if scenario not in obs.results:
            continue
        result = obs[scenario]
        chosen = result[case] if case else result.main
        engine = short(obs.name, 40)
        engine.full = obs.source
        rows.append({
            "engine": engine, "image store": obs.provenance.get("image_store"),
            "layer diff_id": short(chosen.diff_ids[-1]) if chosen.diff_ids else None,
            "image ID is the digest of": ID_KINDS.get(chosen.id_kind or "", chosen.id_kind),
            "docker image inspect: Size": case_value(chosen, "size (inspect)"),
            "docker images: SIZE": case_value(chosen, "size (docker images)"),
        })
    return table(rows, title=f"The same Dockerfile on {len(rows)} engines ({scenario}); "
                             "hover an engine for where its row comes from", missing="—")


def era_digests(entry) -> Table:
    """The layer diff_id labkit predicts for ``entry`` (a ``labkit.oci.Entry``) in each
    era, and which Docker versions write that era's headers.

    Example:
        >>> from labkit import hello, oci
        >>> t = era_digests(oci.Entry.file("hello", hello.tiny_elf(), mode=0o755))
        >>> [(r["era"], r["layer diff_id"]) for r in t.rows]
        [('20.10', 'afb7b93b28f3'), ('modern', '66cb068deb3d')]
    """
    rows = [{"era": era, "written by": who, "layer diff_id": short(oci.Image([[entry]], era=era).diff_ids[0])}
            for era, who in ERAS.items()]
    return table(rows, ["era", "layer diff_id", "written by"],
                 title=f"One layer holding /{entry.path}: the diff_id labkit predicts for each era")
