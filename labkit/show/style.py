"""The lab's look: one colour-blind-safe palette and one way to write a byte count.

Example:
    >>> human_bytes(170), PALETTE[0]
    ('170 B', '#0072B2')
"""
from __future__ import annotations

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def human_bytes(n: int | float | None) -> str:
    """``13376`` -> ``"13,376 B (13.1 KiB)"``; exact bytes first, then a readable size.

    Example:
        >>> human_bytes(1024)
        '1,024 B (1.0 KiB)'
    """
    if n is None:
        return "—"
    n = int(n)
    if n < 1024:
        return f"{n:,} B"
    size, unit = float(n), "B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024:
            break
    return f"{n:,} B ({size:.1f} {unit})"
