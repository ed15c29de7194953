"""Image references: the ``name:tag`` a user writes.

Example:
    >>> split_tag("hello")
    ('hello', 'latest')
"""
from __future__ import annotations


def split_tag(tag: str) -> tuple[str, str]:
    """``("hello", "latest")`` from ``hello`` or ``hello:latest`` (ports are not tags).

    Example:
        >>> split_tag("localhost:5000/hello:v1"), split_tag("localhost:5000/hello")
        (('localhost:5000/hello', 'v1'), ('localhost:5000/hello', 'latest'))
    """
    name, _, ref = tag.rpartition(":")
    if not name or "/" in ref:
        return tag, "latest"
    return name, ref
