"""Ports on 127.0.0.1 for a class: the Hub's and the proxy's API (any free port), and one
per learner's Jupyter server, chosen at set-up (:func:`server_ports`).

Example:
    >>> 0 < free_port() < 65536
    True
"""
from __future__ import annotations

import secrets
import socket
from pathlib import Path

from labkit.errors import LabkitError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ephemeral_range(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int]:
    """The ports the kernel hands out for ``bind(port 0)`` (Linux's default: 32768-60999)."""
    try:
        low, high = (int(n) for n in Path(path).read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def server_ports(names, avoid=(), low: int = 10000, high: int | None = None) -> dict[str, int]:
    """A port per learner for their Jupyter server, chosen now, at random, among the free
    ports below the kernel's ephemeral range: JupyterHub's own choice (``bind`` to port 0,
    close, let the server bind it later) gave two of thirty servers starting at once the
    same port (measured 2026-12-06: the second server exited, and the Hub routed its learner
    to the first learner's server). No ``bind`` to port 0 ever returns these.

    Example:
        >>> ports = server_ports(["labkit-learner-01", "labkit-learner-02"])
        >>> len(set(ports.values())) == 2 and max(ports.values()) < ephemeral_range()[0]
        True
    """
    high = high or ephemeral_range()[0]
    chosen: dict[str, int] = {}
    taken = set(avoid)
    rng = secrets.SystemRandom()
    for name in names:
        for _ in range(max(1000, 4 * (high - low))):
            port = rng.randrange(low, high)
            if port in taken:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            chosen[name] = port
            taken.add(port)
            break
        else:
            raise LabkitError(f"no free port below {high} for {name}'s server",
                              hint="free some ports, or widen net.ipv4.ip_local_port_range's gap")
    return chosen
