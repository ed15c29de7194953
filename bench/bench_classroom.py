"""A class at once: N learners log in through the Hub's REST API, start their servers and
run every notebook top to bottom through their own kernel, all at the same time -- for each
engine mode, against the same notebooks run by one learner alone, in the same run.

Every notebook is every ``notebooks/[0-9]*.ipynb`` of the lab (the registry notebook, which
starts a registry and pushes to it, included; ``--deep-dives`` adds ``notebooks/deep-dives/``),
so new lessons drop in. Each learner is a thread that does what a browser session does: the
admin service creates the Hub user and a token for it, the learner starts their server with
their own token and runs the notebooks one after the other
(``labkit.classroom.run_notebook``: contents API, a session, ``execute_request`` per cell
over the kernel's websocket; the kernel runs as the learner's system user, with their
environment).

Reported per mode and crowd: N, learners finished, failures (must be 0), server-ready
p50/p95, per notebook p50/p95 seconds and their ratio to the learner alone, peak memory per
learner (RSS of their server, kernels and docker CLI -- every process of their uid -- and,
rootless, of their engine apart), the engines' peak memory, the engine's image and
container count before and after (must be equal), what was seen on the engine during the
run (every new tag must be a learner's namespace), and the machine's load average.

Run: ``make bench-classroom`` (every mode; N = 10 three times in a row, then N = 30), or
``sudo .venv/bin/python -m bench.bench_classroom --engine rootless --learners 10``;
``python -m bench classroom`` runs N = 10 once on the class's own engine. Needs root.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
MODES = ("class", "per-learner", "rootless")


def lesson_notebooks(deep_dives: bool = False) -> list[str]:
    """Every lesson notebook, as a path under ``notebooks/`` without ``.ipynb``."""
    from labkit.classroom import lockstep

    folder = CHECKOUT / "notebooks"
    return [str(p.relative_to(folder).with_suffix("")) for p in lockstep.notebooks(folder, deep_dives)]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))] if values else float("nan")


class Sampler(threading.Thread):
    """Every ``period`` s: RSS per learner (and of their own engine) and of the engine(s);
    new tags and containers on the watched engine."""

    def __init__(self, uids: dict[str, int], engine_pids, api, before: set[str], own_engines=None,
                 period: float = 1.0):
        super().__init__(daemon=True)
        self.uids, self.engine_pids, self.api, self.before = uids, engine_pids, api, before
        self.own_engines = own_engines or {}         # learner -> their rootless engine's pid
        self.period, self.done = period, threading.Event()
        self.peak = dict.fromkeys(uids, 0)
        self.engine_of = dict.fromkeys(uids, 0)
        self.engine_peak = 0
        self.seen_tags: set[str] = set()
        self.seen_containers: dict[str, tuple[str, dict]] = {}

    def run(self) -> None:
        from labkit.classroom import procs

        while not self.done.is_set():
            mine = procs.processes_of(set(self.uids.values()))
            tree = procs.children() if self.own_engines else {}
            trees = {name: set(procs.descendants(pid, tree)) for name, pid in self.own_engines.items()}
            for name, uid in self.uids.items():
                engine = trees.get(name, set())
                self.peak[name] = max(self.peak[name], procs.rss_bytes(
                    p for p, u in mine.items() if u == uid and p not in engine))
                self.engine_of[name] = max(self.engine_of[name], procs.rss_bytes(engine))
            self.engine_peak = max(self.engine_peak, procs.rss_bytes(self.engine_pids()))
            try:
                for row in self.api.images():
                    self.seen_tags.update(t for t in row.get("RepoTags") or [] if t not in self.before)
                for row in self.api.containers(all=True):
                    self.seen_containers[row["Id"]] = (row.get("Image", ""), row.get("Labels") or {})
            except Exception:  # noqa: BLE001 - a listing racing a removal: next round
                pass
            self.done.wait(self.period)


def learner_session(hub, name: str, notebooks: list[str], barrier, results: dict) -> None:
    """One learner: log in (user + token through the API), start the server, run the notebooks."""
    from labkit.classroom import run_notebook

    record = results.setdefault(name, {"runs": [], "error": None, "ready": None})
    try:
        hub.create_user(name)
        token = hub.token_for(name, note="labkit bench")
        if barrier is not None:
            barrier.wait()
        start = time.monotonic()
        hub.start_server(name, token)
        hub.wait_ready(name, token=token)
        record["ready"] = time.monotonic() - start
        for notebook in notebooks:
            run = run_notebook(hub.server_url(name), token, f"notebooks/{notebook}.ipynb")
            record["runs"].append(run)
            if not run.ok:
                break
    except Exception as err:  # noqa: BLE001 - one learner's failure is a result, not a crash
        record["error"] = f"{err.__class__.__name__}: {err}"


def crowd(hub, names: list[str], notebooks: list[str]) -> tuple[dict, float]:
    """All ``names`` at the same time; returns their records and the wall time."""
    results: dict = {}
    barrier = threading.Barrier(len(names))
    threads = [threading.Thread(target=learner_session, args=(hub, n, notebooks, barrier, results))
               for n in names]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    for name in names:
        try:
            hub.stop_server(name)
        except Exception as err:  # noqa: BLE001
            results[name]["error"] = results[name]["error"] or f"stop: {err}"
    return results, wall


def counts(api) -> tuple[int, int]:
    """(images incl. intermediate ones, containers incl. stopped ones) on the engine."""
    return len(api.images(all=True)), len(api.containers(all=True))


def run(learner_counts=(10,), engine: str = "class", root: str | None = None, notebooks=None,
        alone_rounds: int = 2, log=print) -> dict:
    """Set up a class for ``max(learner_counts)``, :func:`measure` it, tear it down."""
    from labkit.classroom import Classroom

    notebooks = notebooks or lesson_notebooks()
    root = root or f"{'/srv' if os.path.isdir('/srv') else '/tmp'}/lkc-{os.getpid()}"   # short: sockets
    classroom = Classroom(root)
    start = time.monotonic()
    settings = classroom.up(max(learner_counts), port=_free_port(), engine=engine, log=log)
    try:
        up_seconds = time.monotonic() - start
        report = measure(classroom, learner_counts, notebooks, alone_rounds, log)
        if any(c["failures"] for c in report["crowds"]):            # keep the Hub's log to read
            kept = Path(tempfile.gettempdir()) / f"labkit-bench-classroom-{engine}-{os.getpid()}.log"
            shutil.copyfile(classroom.paths["run"] / "jupyterhub.log", kept)
            report["hub_log"] = str(kept)
        report["up_seconds"] = round(up_seconds, 1)
        report["install_seconds"] = settings.get("install_seconds")
        report["engines_seconds"] = settings.get("engines_seconds")
    finally:
        started = time.monotonic()
        left = classroom.down(log=log)
    report["down_seconds"], report["left_after_down"] = round(time.monotonic() - started, 1), left
    return report


def measure(classroom, learner_counts=(10,), notebooks=None, alone_rounds: int = 2,
            log=print) -> dict:
    """On a classroom that is up: one learner alone (median of ``alone_rounds`` passes),
    then each crowd of N. Returns a report dict (``alone``: notebook -> seconds;
    ``crowds``: one dict per N)."""
    import docker

    from labkit import engine as engine_mod
    from labkit.classroom import Hub, engines
    from labkit.classroom.accounts import ids

    notebooks = notebooks or lesson_notebooks()
    settings = classroom.settings()
    engine, root = settings["engine"], settings["root"]
    report: dict = {"engine": engine, "crowds": [], "cores": os.cpu_count(), "notebooks": notebooks,
                    "up_seconds": None, "install_seconds": settings.get("install_seconds"),
                    "limits": settings.get("limits"), "limits_state": settings.get("limits_state")}
    hub = Hub(classroom.url, classroom.admin_token())
    names = settings["learners"]
    urls = settings.get("docker_hosts") or {}
    url = settings.get("docker_host") or "unix:///var/run/docker.sock"
    apis = {u: docker.APIClient(base_url=u, version="auto", timeout=120)
            for u in (set(urls.values()) or {url})}
    report["engine_version"] = next(iter(apis.values())).version()["Version"]
    own = settings.get("engine_pids") or {}

    def engine_pids(who: list[str]):
        """The pids of the engine(s) the crowd ``who`` uses (none measured: the machine's)."""
        from labkit.classroom import procs

        if engine == "rootless":
            return lambda: [p for tree in [procs.children()] for w in who for p in procs.descendants(own[w], tree)]
        keys = who if engine == "per-learner" else ["class"]
        return (lambda: [p for ps in engines.pids(root, keys).values() for p in ps]) \
            if engine != "machine" else (lambda: [])

    def release() -> None:
        """Shared modes: let go of the images learners held (as ``down`` does), then count."""
        if engine in ("machine", "class"):
            eng = engine_mod.connect(url)
            eng.release_held()
            eng.api.close()

    def total() -> tuple[int, int]:
        found = [counts(a) for a in apis.values()]
        return sum(f[0] for f in found), sum(f[1] for f in found)

    alone: dict[str, list[float]] = {nb: [] for nb in notebooks}
    for _ in range(alone_rounds):
        results, _ = crowd(hub, names[:1], notebooks)
        rec = results[names[0]]
        if rec["error"] or len(rec["runs"]) != len(notebooks) or not all(r.ok for r in rec["runs"]):
            raise RuntimeError(f"one learner alone failed: {rec['error'] or [r.error for r in rec['runs']]}")
        for r in rec["runs"]:
            alone[r.path.removeprefix("notebooks/").removesuffix(".ipynb")].append(r.seconds)
    report["alone"] = {nb: statistics.median(v) if v else float("nan") for nb, v in alone.items()}
    release()

    for n in learner_counts:
        who = names[:n]
        before = total()
        tags_before = {t for a in apis.values() for row in a.images() for t in row.get("RepoTags") or []}
        watched = apis[urls.get(who[0], url)]       # per learner: the first learner's own engine
        sampler = Sampler({w: ids(w)[0] for w in who}, engine_pids(who), watched, tags_before,
                          {w: own[w] for w in who if w in own})
        sampler.start()
        load = os.getloadavg()
        log(f"{engine}: {n} learners at once ...")
        results, wall = crowd(hub, who, notebooks)
        sampler.done.set()
        sampler.join()
        release()
        after = total()
        left = {}
        for u in apis:
            eng = engine_mod.connect(u)
            for w in who:
                owned = eng.owned_by(w)
                if owned[0] or owned[1]:
                    left[w] = owned
            eng.api.close()
        found = _crowd_report(n, results, wall, sampler, before, after, left, notebooks)
        found["load"] = [round(x, 1) for x in (*load, *os.getloadavg())]
        report["crowds"].append(found)
        log(text_crowd(report, found))
    return report


def _crowd_report(n, results, wall, sampler, before, after, left, notebooks) -> dict:
    times = {nb: [r.seconds for rec in results.values() for r in rec["runs"]
                  if r.ok and r.path == f"notebooks/{nb}.ipynb"] for nb in notebooks}
    reconnects = sum(r.reconnects for rec in results.values() for r in rec["runs"])
    failures = [f"{name}: {rec['error']}" for name, rec in results.items() if rec["error"]]
    failures += [f"{name}: {r.path}: {r.error}" for name, rec in results.items() for r in rec["runs"] if not r.ok]
    finished = sum(1 for rec in results.values() if not rec["error"] and len(rec["runs"]) == len(notebooks)
                   and all(r.ok for r in rec["runs"]))
    namespaces = tuple(f"{name}/" for name in results)
    from labkit.engine.images import HELD, _repository

    foreign_tags = sorted(t for t in sampler.seen_tags if not _repository(t).startswith(namespaces)
                          and not t.startswith(f"{HELD}:") and t != "<none>:<none>")
    foreign_containers = sorted(
        f"{image} {labels}" for image, labels in sampler.seen_containers.values()
        if not (image.startswith(namespaces) or labels.get("org.labkit.namespace") in results
                or image.startswith("sha256:") or len(image) == 12))   # legacy builder's step containers
    ready = [rec["ready"] for rec in results.values() if rec["ready"] is not None]
    return {"learners": n, "finished": finished, "failures": failures, "wall": wall, "reconnects": reconnects,
            "ready_p50": _pct(ready, 0.5), "ready_p95": _pct(ready, 0.95), "ready_max": max(ready, default=float("nan")),
            "times": times, "peak_rss": dict(sampler.peak), "own_engine_rss": dict(sampler.engine_of),
            "engine_peak_rss": sampler.engine_peak,
            "before": before, "after": after, "left": left, "tags_seen": len(sampler.seen_tags),
            "containers_seen": len(sampler.seen_containers), "foreign_tags": foreign_tags,
            "foreign_containers": foreign_containers}


def _free_port() -> int:
    from labkit.classroom.ports import free_port

    return free_port()


def text_crowd(report: dict, c: dict) -> str:
    """One crowd's lines."""
    mib = 1 << 20
    peaks = sorted(c["peak_rss"].values())
    engines = sorted(v for v in c.get("own_engine_rss", {}).values() if v)
    lines = [f"{report['engine']}: N = {c['learners']}: finished {c['finished']}/{c['learners']}, failures "
             f"{len(c['failures'])}, wall {c['wall']:.0f} s, server ready p50 {c['ready_p50']:.1f} s / p95 "
             f"{c['ready_p95']:.1f} s, kernel websocket reconnects {c['reconnects']}, load average "
             f"{' '.join(map(str, c.get('load', [])[:3]))} before, {' '.join(map(str, c.get('load', [])[3:]))} after",
             f"  {'notebook':36} {'alone':>7} {'p50':>7} {'p95':>7} {'p50/alone':>9} {'p95/alone':>9}"]
    for nb, values in c["times"].items():
        alone = report["alone"][nb]
        p50, p95 = _pct(values, 0.5), _pct(values, 0.95)
        lines.append(f"  {nb:36} {alone:6.1f}s {p50:6.1f}s {p95:6.1f}s {p50 / alone:8.1f}x {p95 / alone:8.1f}x")
    lines.append(f"  peak memory per learner (server + kernels + docker CLI): median "
                 f"{statistics.median(peaks) / mib:.0f} MiB, max {peaks[-1] / mib:.0f} MiB"
                 + (f"; their own engine: median {statistics.median(engines) / mib:.0f} MiB, max "
                    f"{engines[-1] / mib:.0f} MiB" if engines else "")
                 + (f"; engine(s) peak {c['engine_peak_rss'] / mib:.0f} MiB" if c["engine_peak_rss"] else ""))
    same = "equal" if c["before"] == c["after"] else "DIFFERENT"
    lines.append(f"  engine images/containers before {c['before'][0]}/{c['before'][1]}, after "
                 f"{c['after'][0]}/{c['after'][1]}: {same}; left in a learner's namespace: {len(c['left'])}")
    own = report["engine"] in ("per-learner", "rootless")
    if own:   # the lessons' own names (base:labkit, ...) on an engine only its learner reaches
        lines.append(f"  seen during the run on the learners' own engines: {c['tags_seen']} new tags, "
                     f"{c['containers_seen']} containers ({len(c['foreign_tags'])} tags outside a learner's "
                     "namespace: the lessons' own names, each on an engine only its learner reaches)")
    else:
        lines.append(f"  seen during the run: {c['tags_seen']} new tags, {c['containers_seen']} containers; "
                     f"not a learner's: {len(c['foreign_tags'])} tags, {len(c['foreign_containers'])} containers")
    lines += [f"  failure: {f}" for f in c["failures"][:10]]
    if not own:
        lines += [f"  not a learner's: {t}" for t in (c["foreign_tags"] + c["foreign_containers"])[:10]]
    return "\n".join(lines)


def text(report: dict) -> str:
    """The report of one mode as the bench prints it."""
    lines = [f"classroom on {report['cores']} cores, engine: {report['engine']} (Docker "
             f"{report['engine_version']}); up in {report['up_seconds']} s (install {report['install_seconds']} s, "
             f"engines {report.get('engines_seconds')} s); down in {report.get('down_seconds')} s "
             f"(left: {', '.join(report.get('left_after_down') or []) or 'nothing'}); "
             f"{len(report['alone'])} notebooks",
             "one learner alone: " + ", ".join(f"{nb.split('/')[-1][:2]} {t:.1f} s" for nb, t in report["alone"].items())]
    lines += [text_crowd(report, c) for c in report["crowds"]]
    lines += [f"the Hub's log: {report['hub_log']}"] if report.get("hub_log") else []
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench`` (N = 10, the class's engine) or ``python -m bench.bench_classroom
    [--engine MODE ...] [--learners N ...] [--json FILE]``: a repeated N is a run in a row."""
    parser = argparse.ArgumentParser(prog="bench_classroom")
    parser.add_argument("--learners", type=int, action="append", help="N (repeat for several; default 10)")
    parser.add_argument("--engine", action="append", choices=("machine", *MODES),
                        help="engine mode (repeat for several; default: the class's own)")
    parser.add_argument("--root", help="the classroom's folder (default: a new one under /srv)")
    parser.add_argument("--deep-dives", action="store_true", help="also run notebooks/deep-dives/")
    parser.add_argument("--json", help="also write every report to this file")
    args = parser.parse_args(argv if argv is not None else [])
    if os.geteuid() != 0:
        print("classroom: skipped (creating learner users needs root)")
        return
    reports = []
    for mode in args.engine or ["class"]:
        report = run(tuple(args.learners or [10]), engine=mode, root=args.root,
                     notebooks=lesson_notebooks(args.deep_dives), log=lambda *a: print(*a, file=sys.stderr, flush=True))
        reports.append(report)
        print(text(report), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(reports, indent=1, default=str) + "\n")
    if len(reports) > 1:
        print(side_by_side(reports), flush=True)


def side_by_side(reports: list[dict]) -> str:
    """A markdown table: a row per mode and crowd (what docs/instructors.md shows)."""
    mib = 1 << 20
    rows = ["| mode | N | finished | failures | server ready p50 / p95 | notebook p50 ÷ alone | "
            "memory per learner | own engine | engines peak | load before → after |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in reports:
        for c in r["crowds"]:
            ratios = [_pct(v, 0.5) / r["alone"][nb] for nb, v in c["times"].items() if v]
            engines = sorted(v for v in c.get("own_engine_rss", {}).values() if v)
            rows.append(f"| {r['engine']} | {c['learners']} | {c['finished']} | {len(c['failures'])} | "
                        f"{c['ready_p50']:.0f} s / {c['ready_p95']:.0f} s | "
                        f"{min(ratios, default=0):.1f}–{max(ratios, default=0):.1f}× | "
                        f"{statistics.median(c['peak_rss'].values()) / mib:.0f} MiB | "
                        f"{(statistics.median(engines) / mib) if engines else 0:.0f} MiB | "
                        f"{c['engine_peak_rss'] / mib:,.0f} MiB | "
                        f"{c.get('load', [0])[0]} → {c.get('load', [0, 0, 0, 0])[3]} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(sys.argv[1:])
