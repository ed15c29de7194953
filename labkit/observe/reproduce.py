"""What a fresh recording of the same engine must reproduce, and where two differ.

Example:
    >>> differences({"a": 1}, {"a": 2})
    ['a: 1 != 2']
"""
from __future__ import annotations

import copy
import re

from labkit.engine.commands import machine_neutral
from labkit.observe.records import Observation
from labkit.scenarios import Case

#: Provenance that differs between two recordings of the same configuration.
VOLATILE_PROVENANCE = ("date", "recorded_at", "kernel", "endpoint")
#: Case fields whose IDs are always the engine's own (a failed run names its container).
ALWAYS_ENGINE_ASSIGNED = ("run",)
#: Keys of a case's ``extra`` never compared: raw ``docker`` output (it depends on the CLI's
#: version and on timing; the facts read from it sit beside it and are compared).
VOLATILE_EXTRA = ("cli",)
#: What an engine-assigned number becomes in :func:`deterministic`.
VARIES = "<varies>"
_HEX_ID = re.compile(r"[0-9a-f]{64}|\b[0-9a-f]{12}\b")


def deterministic(observation: Observation | dict) -> dict:
    """The fields a fresh recording of the same configuration must reproduce.

    Drops volatile provenance (date, kernel, endpoint) and raw CLI output kept in
    ``extra["cli"]``, and masks every hex ID in the fields a case lists as
    ``engine_assigned`` (they hold build timestamps; ``extra.<key>`` names a fact inside
    ``extra``, whose numbers vary too) and in ``run`` (a failed run names its container);
    engine-assigned numbers become ``"<varies>"``; in the docker commands' output, the
    parts that differ on every run (``labkit.engine.commands.varying_spans``) become
    ``"<varies>"``.

    Example:
        >>> from labkit.observe import reference
        >>> d = deterministic(reference())
        >>> "date" in d["provenance"]
        False
    """
    data = copy.deepcopy(observation.to_dict() if isinstance(observation, Observation) else observation)
    for key in VOLATILE_PROVENANCE:
        data["provenance"].pop(key, None)
    for result in data["results"].values():
        for case in result["cases"].values():
            if case.get("commands"):
                case["commands"] = Case.from_dict(case).masked_commands()
            extra = case.get("extra") or {}
            for key in VOLATILE_EXTRA:
                extra.pop(key, None)
            if isinstance(extra.get("message"), str):
                extra["message"] = machine_neutral(extra["message"])
            for key in ("stdout", "stderr"):
                if isinstance((case.get("run") or {}).get(key), str):
                    case["run"][key] = machine_neutral(case["run"][key])
            for field in {*case.get("engine_assigned", []), *ALWAYS_ENGINE_ASSIGNED}:
                if field.startswith("extra."):     # a fact inside extra: IDs and numbers vary
                    if field[6:] in extra:
                        extra[field[6:]] = _mask_deep(extra[field[6:]])
                    continue
                value = case.get(field)
                case[field] = VARIES if isinstance(value, (int, float)) else mask_ids(value)
            if "save" in case.get("engine_assigned", []) and case.get("save"):
                case["save"]["files"].sort()  # masked names sort differently
                for blob in case["save"].get("blobs") or []:
                    if blob["role"] != "layer":   # the documents hold the build's date
                        blob["size"] = VARIES
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


def _mask_deep(value):
    """Like :func:`mask_ids`, and every number (not bool) -> ``"<varies>"`` too."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return VARIES
    if isinstance(value, list):
        return [_mask_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_deep(v) for k, v in value.items()}
    return mask_ids(value)


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
