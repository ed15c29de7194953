"""The ``docker`` command a learner would type for a step, and what it printed.

Example:
    >>> from labkit import observe
    >>> print(command(observe.scenario("registry-push"), "busybox", "push"))  # doctest: +ELLIPSIS
    $ docker push 127.0.0.1:PORT/labkit-observe/busybox:base
    The push refers to repository [127.0.0.1:PORT/labkit-observe/busybox]
    ...
"""
from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A command line and its raw output, and where they come from."""

    command: str
    output: str
    source: str

    def __str__(self) -> str:
        return f"$ {self.command}\n{self.output}\n({self.source})"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (f"<pre class='labkit-command'><b>$ {html.escape(self.command)}</b>\n"
                f"{html.escape(self.output)}</pre><p><em>{html.escape(self.source)}</em></p>")


def command(result, case: str, step: str) -> Command:
    """The raw ``docker`` command and output that scenario ``result`` kept for ``case``'s
    ``step`` (``push``, ``pull``, ``images``); the registry's port is written ``PORT``.

    Raises:
        KeyError: that case kept no such step (it failed before it).
    """
    cli = result[case].extra["cli"][step]
    return Command(cli["command"], cli["output"], result.source)
