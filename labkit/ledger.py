"""The size ledger: every "size" a learner meets for one image, and where each comes from.

Data only (``labkit.show.size_ledger`` draws it). A row per kind of size — the program
file, the layer tar, the compressed layer blob, the JSON documents, what ``docker image
inspect`` and ``docker images`` report — with its bytes on each engine, from the case's
recorded (or live) ``docker save`` blobs and the sizes the engine reported.

Example:
    >>> from labkit import observe
    >>> rows = ledger_rows(observe.recorded(), "hello-variants", "tiny")
    >>> [r["size"] for r in rows][:2]
    ['the program file /hello', 'the layer: uncompressed tar']
    >>> rows[0]["20.10.24"], rows[1]["28.5.2-containerd"]
    (170, 2048)
"""
from __future__ import annotations

from typing import Sequence

from labkit import oci
from labkit.observe import Observation
from labkit.scenarios import Case

#: The rows of the ledger, in order: (key, what a learner reads, where it comes from).
ITEMS = (
    ("file", "the program file /hello", "the bytes of the program itself"),
    ("layer_tar", "the layer: uncompressed tar",
     "a 512-byte header, the data in 512-byte blocks, 1,024 zero bytes at the end (its digest is the diff_id)"),
    ("layer_gzip", "the layer: compressed blob (gzip)",
     "what a registry stores and a pull downloads; the containerd store keeps one when it has it"),
    ("config", "the config (JSON)", "how to run it and the diff_ids; its digest is the classic store's image ID"),
    ("manifest", "the manifest (JSON)", "names the config and the layer blobs by digest and size"),
    ("index", "the index (JSON)", "lists manifests, one per platform (and attestations)"),
    ("attestation", "attestation manifest, its config and statement",
     "provenance BuildKit attaches (platform unknown/unknown)"),
    ("inspect", "docker image inspect: .Size", "classic store: the files' bytes; containerd store: the blobs"),
    ("listed", "docker images: SIZE", "classic store: the files' bytes; containerd store: blobs + unpacked files"),
    ("unpacked", "unpacked on disk (containerd store)",
     "docker images minus the blobs it counts: the snapshot's folder and file, in 4,096-byte blocks"),
)


def _blobs(case: Case, role: str) -> list[dict]:
    return [b for b in (case.save or {}).get("blobs") or [] if b["role"] == role]


def case_ledger(case: Case) -> dict[str, int | None]:
    """Each ledger item's bytes for one case (None where it does not exist).

    The containerd store's ``docker images`` counts every manifest and its blobs (the
    attestation's too) but not the index; ``docker image inspect`` counts the index,
    the image's manifest, its config and layers (moby's ``daemon/containerd``).
    """
    layers = _blobs(case, "layer")
    gz = [b for b in layers if b["media_type"].endswith("gzip")]
    plain = [b for b in layers if not b["media_type"].endswith("gzip")]
    file_size = case.extra.get("binary_size")
    out: dict[str, int | None] = {
        "file": file_size,
        "layer_tar": plain[0]["size"] if plain else (oci.one_file_layer_size(file_size)
                                                     if file_size is not None else None),
        "layer_gzip": gz[0]["size"] if gz else None,
        "inspect": case.size_inspect, "listed": case.size_listed, "unpacked": None,
    }
    for role in ("config", "manifest", "index"):
        found = _blobs(case, role)
        out[role] = found[0]["size"] if found else None
    attestation = _blobs(case, "attestation") + _blobs(case, "other")
    out["attestation"] = sum(b["size"] for b in attestation) if attestation else None
    if case.id_kind in ("manifest-digest", "index-digest") and case.size_listed is not None:  # containerd store
        counted = sum(b["size"] for b in (case.save or {}).get("blobs") or [] if b["role"] != "index")
        out["unpacked"] = case.size_listed - counted
    return out


def ledger_rows(observations: Sequence[Observation], scenario: str = "hello-variants",
                case: str = "tiny") -> list[dict]:
    """The ledger of one case on several engines: a row per item (``size``, ``counts``,
    then one column per engine, by name); items no engine has are left out."""
    chosen = [(obs.name, case_ledger(obs[scenario][case])) for obs in observations
              if scenario in obs.results and case in obs.results[scenario].cases
              and obs.results[scenario].cases[case].ok]
    rows = []
    for key, label, counts in ITEMS:
        values = {name: ledger.get(key) for name, ledger in chosen}
        if any(v is not None for v in values.values()):
            rows.append({"size": label, "counts": counts, **values})
    return rows


def listed_size_parts(case: Case) -> list[tuple[str, int]]:
    """What ``docker images`` adds up on the containerd store, part by part, so that the
    parts sum to ``case.size_listed`` exactly (empty on the classic store).

    Example:
        >>> from labkit import observe
        >>> parts = listed_size_parts(observe.load(observe.DATA_DIR / "28.5.2-containerd.json")
        ...                           ["hello-variants"]["tiny"])
        >>> [name for name, _ in parts]
        ['manifest', 'config', 'layer (gzip)', 'unpacked files']
    """
    ledger = case_ledger(case)
    if ledger["unpacked"] is None:
        return []
    parts = [(b["role"] if b["role"] != "layer" else "layer (gzip)", b["size"])
             for b in (case.save or {}).get("blobs") or [] if b["role"] != "index"]
    return parts + [("unpacked files", ledger["unpacked"])]


def gzip_blobs(observation: Observation, scenario: str = "hello-variants", case: str = "tiny") -> list[dict]:
    """The gzip layer blobs an engine saved for ``case`` (the containerd store keeps them)."""
    result = observation.results.get(scenario)
    if result is None or case not in result.cases:
        return []
    return [b for b in _blobs(result.cases[case], "layer") if b["media_type"].endswith("gzip")]


def gzip_comparison(layer: bytes) -> list[dict]:
    """The same uncompressed bytes gzipped several ways: the two well-known empty layers
    when ``layer`` is the empty tar, and Python's gzip at levels 9 and 6 — size, digest,
    header — with the diff_id they all share."""
    rows = []
    if layer == bytes(1024):
        rows += [("Go, Docker's registry (schema 1)", oci.EMPTY_GZIP_SCHEMA1),
                 ("Go, BuildKit", oci.EMPTY_GZIP_BUILDKIT)]
    rows += [("Python gzip, level 9", oci.gzip_bytes(layer, 9)), ("Python gzip, level 6", oci.gzip_bytes(layer, 6))]
    diff_id = oci.digest.sha256_digest(layer)
    out = []
    for who, data in rows:
        header = oci.gzip_header(data)
        out.append({"compressed by": who, "bytes": len(data), "digest": oci.digest.sha256_digest(data),
                    "header mtime": header["mtime"], "header os": header["os"], "diff_id": diff_id})
    return out
