"""Plots in the lab's style: titled, labelled, bytes in units a reader can check.

Every plot goes through :func:`figure`; each function returns the figure (or
``(fig, ax)``), detached from pyplot so a notebook shows it once.

Example:
    >>> fig, ax = figure("Image sizes", ylabel="bytes")
    >>> ax.get_title(loc="left")
    'Image sizes'
"""
from __future__ import annotations

from typing import Sequence

from labkit import compare, hello, oci
from labkit.errors import LabkitError
from labkit.observe import Observation
from labkit.show.style import PALETTE


def figure(title: str, xlabel: str | None = None, ylabel: str | None = None,
           size: tuple[float, float] = (7.5, 3.6)):
    """A matplotlib ``(fig, ax)`` in the lab's style: titled, labelled, palette set.

    Example:
        >>> fig, ax = figure("Image sizes", ylabel="bytes")
        >>> ax.get_title(loc="left")
        'Image sizes'
    """
    import matplotlib.pyplot as plt
    from cycler import cycler

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    ax.set_prop_cycle(cycler(color=PALETTE))
    ax.set_title(title, loc="left", fontweight="bold")
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x" if size[0] < size[1] else "y", alpha=0.3)
    return fig, ax



def _close(fig):
    """Detach ``fig`` from pyplot so a notebook shows it once, as the cell's value."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig



def hello_sizes(result):
    """Bar chart (log scale, bytes): each hello variant's program and the layer tar that
    carries it, next to the official hello-world program.

    Args:
        result: ``labkit.observe.scenario("hello-variants", ...)``.
    """
    bars = []
    for name, case in result.cases.items():
        if case.ok:
            size = case.extra["binary_size"]
            bars += [(f"{name}: program", size, PALETTE[0]),
                     (f"{name}: layer tar", oci.one_file_layer_size(size), PALETTE[1])]
    bars.append(("official hello-world program", hello.OFFICIAL_HELLO_WORLD["size"], PALETTE[3]))
    fig, ax = figure("Hello programs and the layers that carry them", xlabel="bytes (log scale)",
                     size=(8.5, 0.32 * len(bars) + 1.2))
    labels, sizes, colours = zip(*reversed(bars))
    ax.barh(labels, sizes, color=colours)
    ax.set_xscale("log")
    for y, size in enumerate(sizes):
        ax.annotate(f"{size:,}", (size, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _close(fig)



def _grouped_bars(ax, observations, groups, height, label) -> None:
    """One group of bars per item of ``groups``, one bar (and colour) per observation;
    ``height(obs, group)`` (``None`` draws nothing), ``label(obs)`` for the legend."""
    width = 0.8 / max(1, len(observations))
    for i, obs in enumerate(observations):
        xs = [j + (i - (len(observations) - 1) / 2) * width for j in range(len(groups))]
        ax.bar(xs, [height(obs, g) or 0 for g in groups], width, label=label(obs),
               color=PALETTE[i % len(PALETTE)])


def plot_sizes(observations: Sequence[Observation], scenario: str = "hello-variants",
               field: str = "size_inspect"):
    """Image sizes per case and engine, bytes on a log scale; ``(fig, ax)``.

    Args:
        observations: live and/or recorded observations.
        scenario: whose cases to plot.
        field: ``size_inspect`` (``docker image inspect``) or ``size_listed``
            (``docker images``).

    Example:
        >>> from labkit import observe
        >>> fig, ax = plot_sizes(observe.recorded())
    """
    if field not in ("size_inspect", "size_listed"):
        raise LabkitError(f"cannot plot {field!r}", hint="use size_inspect or size_listed")
    label = "docker image inspect .Size" if field == "size_inspect" else "docker images SIZE"
    fig, ax = figure(f"{scenario}: image size ({label})", ylabel="bytes (log scale)")
    cases: list[str] = []
    for _, _, case_name, _ in compare.pairs(observations, scenario):
        cases += [case_name] if case_name not in cases else []

    def size(obs, case_name):
        case = obs.results[scenario].cases.get(case_name) if scenario in obs.results else None
        return getattr(case, field) if case is not None and case.ok else None

    _grouped_bars(ax, observations, cases, size,
                  lambda obs: f"{obs.name} ({'live' if obs.live else 'recorded'})")
    ax.set_xticks(range(len(cases)), cases)
    ax.set_yscale("log")
    if scenario == "hello-variants":
        official = hello.OFFICIAL_HELLO_WORLD["size"]
        ax.axhline(official, color="#555555", linestyle="--", linewidth=1,
                   label=f"official hello-world binary ({official:,} B)")
    ax.legend(frameon=False, fontsize="small")
    return fig, ax


def plot_layers(observations: Sequence[Observation], scenarios: Sequence[str] | None = None):
    """Layer count of every scenario's main image, per engine; ``(fig, ax)``.

    Example:
        >>> from labkit import observe
        >>> fig, ax = plot_layers(observe.recorded(), ["empty-labkit", "era-1.4"])
    """
    names: list[str] = []
    for obs in observations:
        names += [n for n in obs.results if n not in names and (not scenarios or n in scenarios)]
    fig, ax = figure("Layers per image", ylabel="layers (RootFS.Layers)")
    _grouped_bars(ax, observations, names,
                  lambda obs, n: obs.results[n].main.layers if n in obs.results else None,
                  lambda obs: obs.name)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize="small")
    return fig, ax
