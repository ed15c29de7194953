"""Learners in lockstep on one shared engine: the same notebook cell in every learner's
kernel at the same instant, round after round -- the worst case for an engine learners share.

Each learner is a Jupyter kernel of their own (``jupyter_client``), with their own
``LABKIT_NAMESPACE``, progress file and copy of the notebooks, and the same ``DOCKER_HOST``
and ``LABKIT_SHARED_ENGINE=1``, as a class server gives them. Before each cell every learner
waits at a barrier, so the lab's reproducible images -- the same image ID for everyone --
are loaded, inspected and removed by all of them at once. Round 1 runs every code cell and
notes the cells that load, import or pull an image (the engine's event stream); the later
rounds run those again, every learner but the first starting each a random part of its
round-1 time later, so that one learner's load meets another's removal (issue 18: the
engine deleted an image with its last tag while another learner was loading it). Each
learner also holds *keepers*: their own tags on two of the lab's images (the empty image
and the busybox base, the IDs notebooks 01 and 04 make), which every round must leave in
place (a removal by a shared ID, or forced, takes another learner's tag away).

Example:
    >>> report = run(["notebooks/01-the-empty-image.ipynb"], "unix:///srv/x/docker.sock",
    ...              ["a", "b"], rounds=20)                                     # doctest: +SKIP
    >>> report.failures, report.keepers_lost                                   # doctest: +SKIP
    ([], [])
"""
from __future__ import annotations

import dataclasses
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from labkit import engine as engine_mod
from labkit import machine, oci
from labkit.scenarios.busybox import _busybox_layer

CELL_TIMEOUT = 600
#: Engine events of a cell that makes an image every learner's copy of has the same ID (a
#: load, import or pull of the lab's reproducible images; builds stamp their date): such
#: cells are rerun in every round, the others only in round 1.
SHARED = {"image:load", "image:import", "image:pull"}


@dataclasses.dataclass
class Report:
    """How the rounds went.

    Attributes:
        rounds: rounds run.
        cells: code cells run in round 1, and the engine cells rerun in each later one.
        failures: ``"round R: learner: notebook cell N: error"``, one per failed cell.
        keepers_lost: ``"round R: tag"`` for each keeper missing (or changed) after a round.
        seconds: round 1, and the median of the later rounds.
        cell_log: round 1, per cell: ``(notebook, cell index, seconds, engine events)``.
    """

    rounds: int = 0
    cells: tuple[int, int] = (0, 0)
    failures: list[str] = dataclasses.field(default_factory=list)
    keepers_lost: list[str] = dataclasses.field(default_factory=list)
    seconds: tuple[float, float] = (0.0, 0.0)
    cell_log: list = dataclasses.field(default_factory=list)
    cost: dict = dataclasses.field(default_factory=dict, repr=False)


def notebooks(folder: str | os.PathLike, deep_dives: bool = False) -> list[Path]:
    """Every lesson notebook in ``folder`` (``[0-9]*.ipynb``; ``deep-dives/`` too if asked).

    Example:
        >>> [p.name[:2] for p in notebooks(Path(__file__).parents[2] / "notebooks")][:2]
        ['00', '01']
    """
    folder = Path(folder)
    found = sorted(folder.glob("[0-9]*.ipynb"))
    return found + (sorted((folder / "deep-dives").glob("*.ipynb")) if deep_dives else [])


def keepers(eng, ns: str) -> dict[str, str]:
    """Load learner ``ns``'s keeper images into ``eng``; returns tag -> image ID."""
    arch = machine.target(eng).oci_arch
    found = machine.busybox(machine.target(eng).arch)
    images = {f"{ns}/keep:empty": oci.Image(architecture=arch)}
    if found.path is not None:
        images[f"{ns}/keep:busybox"] = oci.Image(
            [_busybox_layer(found.path)], cmd=["/bin/sh", "-c", "echo hello from busybox; ls /data | wc -l"],
            architecture=arch)
    with tempfile.TemporaryDirectory(prefix="labkit-keep-") as tmp:
        for tag, image in images.items():
            eng.load(image.write(Path(tmp) / "keep.tar", tag=tag))
    return {tag: eng.inspect(tag)["Id"] for tag in images}


class _Learner:
    """One learner's kernel for one notebook: runs a cell, says how it went."""

    def __init__(self, ns: str, notebook: Path, home: Path, docker_host: str):
        import uuid

        from jupyter_client.manager import KernelManager

        folder = home / notebook.parent.name
        env = dict(os.environ, LABKIT_NAMESPACE=ns, DOCKER_HOST=docker_host, LABKIT_SHARED_ENGINE="1",
                   LABKIT_PROGRESS=str(home / "progress.json"), LABKIT_FLEET_RUN=str(home / "no-fleet"),
                   TMPDIR=str(home / "tmp"))
        self.ns, self.notebook = ns, notebook.name
        # Unix sockets, not TCP ports: many kernels picking "free" ports at once collide.
        self.manager = KernelManager(kernel_name="python3", transport="ipc",
                                     connection_file=str(home / f"k-{uuid.uuid4().hex[:8]}.json"))
        self.manager.start_kernel(cwd=str(folder), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, number: int, source: str) -> str | None:
        """Run one cell; None, or its error in one line."""
        errors = []

        def hook(msg):
            if msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        try:
            reply = self.client.execute_interactive(source, timeout=CELL_TIMEOUT, output_hook=hook,
                                                    allow_stdin=False)
        except Exception as err:  # noqa: BLE001 - a timeout or a dead kernel is this cell's error
            return f"{self.ns}: {self.notebook} cell {number}: {err.__class__.__name__}: {err}"
        if reply["content"]["status"] != "ok" or errors:
            return f"{self.ns}: {self.notebook} cell {number}: {(errors or ['error'])[0][:300]}"
        return None

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def _home(root: Path, ns: str, paths: list[Path]) -> Path:
    """Learner ``ns``'s own copy of the notebooks' folder (their ``work/`` is theirs)."""
    home = root / ns
    for folder in {p.parent for p in paths}:
        shutil.copytree(folder, home / folder.name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("work", ".ipynb_checkpoints"))
    for sub in ("no-fleet", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return home


def _code_cells(path: Path) -> list[str]:
    import nbformat

    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def run(paths: list[str | os.PathLike], docker_host: str, namespaces: list[str], rounds: int = 20,
        budget: float | None = None, log=lambda *a: None) -> Report:
    """Run ``namespaces`` (two or more learners) through the notebooks ``paths`` in lockstep
    on the engine at ``docker_host``, ``rounds`` times; see the module doc.

    Args:
        budget: seconds the rerun cells may have taken in round 1, in all (cheapest first,
            at least one); None reruns every cell that made a shared image.

    Returns:
        A :class:`Report`; failures are results, not exceptions.
    """
    paths = [Path(p).resolve() for p in paths]
    eng = engine_mod.connect(docker_host)
    report = Report()
    held = {ns: keepers(eng, ns) for ns in namespaces}
    barrier = threading.Barrier(len(namespaces), timeout=CELL_TIMEOUT)
    with tempfile.TemporaryDirectory(prefix="labkit-lockstep-") as tmp:
        homes = {ns: _home(Path(tmp), ns, paths) for ns in namespaces}
        kernels = {}
        try:
            for path in paths:
                kernels[path] = {ns: _Learner(ns, path, homes[ns], docker_host) for ns in namespaces}
            engine_cells: dict[Path, list[int]] = {}
            times = []
            for number in range(1, rounds + 1):
                started = time.monotonic()
                for path in paths:
                    cells = _code_cells(path)
                    todo = range(len(cells)) if number == 1 else engine_cells[path]
                    seen = _round(kernels[path], cells, todo, barrier, eng, report, number, path)
                    if number == 1:
                        engine_cells[path] = seen
                times.append(time.monotonic() - started)
                report.rounds = number
                for ns, tags in held.items():
                    for tag, image_id in tags.items():
                        try:
                            same = eng.inspect(tag)["Id"] == image_id
                        except Exception:  # noqa: BLE001 - gone is what we look for
                            same = False
                        if not same:
                            report.keepers_lost.append(f"round {number}: {tag}")
                log(f"round {number}: {times[-1]:.1f} s, {len(report.failures)} failures so far")
                if number == 1:
                    engine_cells = _within(engine_cells, report.cell_log, budget)
            report.cells = (sum(len(_code_cells(p)) for p in paths), sum(map(len, engine_cells.values())))
            later = sorted(times[1:])
            report.seconds = (times[0], later[len(later) // 2] if later else 0.0)
        finally:
            for by_ns in kernels.values():
                for learner in by_ns.values():
                    learner.stop()
            for ns in namespaces:
                eng.cleanup_namespace(ns)
            eng.release_held()
            eng.api.close()
    return report


def _within(chosen: dict, log: list, budget: float | None) -> dict:
    """The cells of ``chosen`` to rerun: the cheapest first while their round-1 seconds fit
    ``budget`` (at least one; None: all of them)."""
    if budget is None:
        return chosen
    cost = {(path, index): seconds for path, index, seconds, _ in log}
    kept, spent = set(), 0.0
    for key in sorted(((p, i) for p, cells in chosen.items() for i in cells), key=cost.get):
        if kept and spent + cost[key] > budget:
            break
        kept.add(key)
        spent += cost[key]
    return {path: [i for i in cells if (path, i) in kept] for path, cells in chosen.items()}


def _round(learners: dict, cells: list[str], todo, barrier, eng, report: Report, number: int,
           path: Path) -> list[int]:
    """Run the cells ``todo`` in every learner's kernel, each cell at once; returns the
    cells during which the engine saw anything happen."""
    busy = []
    for index in todo:
        since = time.time()
        errors: dict[str, str | None] = {}

        def one(ns, learner, delay, index=index):
            barrier.wait()
            time.sleep(delay)
            errors[ns] = learner.run(index + 1, cells[index])

        cost = report.cost.get((path, index), 0.0) if number > 1 else 0.0
        threads = [threading.Thread(target=one, args=(ns, learner, 0.0 if n == 0 else random.random() * cost))
                   for n, (ns, learner) in enumerate(learners.items())]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report.failures += [f"round {number}: {e}" for e in errors.values() if e]
        if number == 1:
            seen = {f"{e.get('Type')}:{e.get('Action', '').split(':')[0]}" for e in eng.api.events(
                since=f"{since:.6f}", until=f"{time.time():.6f}", decode=True)}
            report.cell_log.append((path, index, round(time.time() - since, 1), sorted(seen)))
            report.cost[(path, index)] = time.time() - since
            if seen & SHARED:
                busy.append(index)
    return busy
