"""A class at once: N learners log in through the Hub's REST API, start their servers and
run every notebook top to bottom through their own kernel, all at the same time, on one
Docker engine -- against the same notebooks run by one learner alone, in the same run.

Each learner is a thread that does what a browser session does: the admin service
creates the Hub user and a token for it, the learner starts their server with their own
token and runs the notebooks one after the other (``labkit.classroom.run_notebook``:
contents API, a session, ``execute_request`` per cell over the kernel's websocket; the
kernel runs as the learner's system user, with their environment).

Reported: N, learners finished, failures (must be 0), per notebook p50/p95 seconds and
their ratio to the learner alone, server start times, peak memory per learner (RSS of
their server, kernels and docker CLI: every process of their uid), the engine's memory,
the engine's image and container count before and after (must be equal), and what was
seen on the engine during the run (every new tag must be a learner's namespace).

Run: ``make bench-classroom`` (N = 10 and 30 on the class's own engine), or
``sudo .venv/bin/python -m bench.bench_classroom --learners 10 --engine machine``;
``python -m bench classroom`` runs N = 10. Needs root (it creates users).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

NOTEBOOKS = ["00-start-here", "01-the-empty-image", "02-a-static-hello",
             "03-layers-across-docker-versions", "04-a-base-image-from-scratch"]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))] if values else float("nan")


class Sampler(threading.Thread):
    """Every ``period`` s: RSS per learner uid and of the engine(s); new tags and containers."""

    def __init__(self, uids: dict[str, int], engine_pids, api, before: set[str], period: float = 1.0):
        super().__init__(daemon=True)
        self.uids, self.engine_pids, self.api, self.before = uids, engine_pids, api, before
        self.period, self.done = period, threading.Event()
        self.peak = dict.fromkeys(uids, 0)
        self.engine_peak = 0
        self.seen_tags: set[str] = set()
        self.seen_containers: dict[str, tuple[str, dict]] = {}

    def run(self) -> None:
        from labkit.classroom import procs

        by_uid = {uid: name for name, uid in self.uids.items()}
        while not self.done.is_set():
            for uid, rss in procs.rss_by_uid(set(by_uid)).items():
                self.peak[by_uid[uid]] = max(self.peak[by_uid[uid]], rss)
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


def run(learner_counts=(10,), engine: str = "class", root: str | None = None,
        notebooks=NOTEBOOKS, alone_rounds: int = 2, log=print) -> dict:
    """Set up a class for ``max(learner_counts)``, :func:`measure` it, tear it down."""
    from labkit.classroom import Classroom

    root = root or f"{'/srv' if os.path.isdir('/srv') else '/tmp'}/lkc-{os.getpid()}"   # short: sockets
    classroom = Classroom(root)
    start = time.monotonic()
    settings = classroom.up(max(learner_counts), port=_free_port(), engine=engine, log=log)
    try:
        up_seconds = time.monotonic() - start
        report = measure(classroom, learner_counts, notebooks, alone_rounds, log)
        if any(c["failures"] for c in report["crowds"]):            # keep the Hub's log to read
            kept = Path(tempfile.gettempdir()) / f"labkit-bench-classroom-{os.getpid()}.log"
            shutil.copyfile(classroom.paths["run"] / "jupyterhub.log", kept)
            report["hub_log"] = str(kept)
        report["up_seconds"] = round(up_seconds, 1)
        report["install_seconds"] = settings.get("install_seconds")
        report["engines_seconds"] = settings.get("engines_seconds")
    finally:
        classroom.down(log=log)
    return report


def measure(classroom, learner_counts=(10,), notebooks=NOTEBOOKS, alone_rounds: int = 2,
            log=print) -> dict:
    """On a classroom that is up: one learner alone (median of ``alone_rounds`` passes),
    then each crowd of N. Returns a report dict (``alone``: notebook -> seconds;
    ``crowds``: one dict per N)."""
    import docker

    from labkit import engine as engine_mod
    from labkit.classroom import Hub, engines
    from labkit.classroom.accounts import ids

    settings = classroom.settings()
    engine, root = settings["engine"], settings["root"]
    report: dict = {"engine": engine, "crowds": [], "cores": os.cpu_count(),
                    "up_seconds": None, "install_seconds": settings.get("install_seconds")}
    hub = Hub(classroom.url, classroom.admin_token())
    names = settings["learners"]
    urls = settings.get("docker_hosts") or {}
    url = settings.get("docker_host") or "unix:///var/run/docker.sock"
    apis = {u: docker.APIClient(base_url=u, version="auto", timeout=120)
            for u in (set(urls.values()) or {url})}
    report["engine_version"] = next(iter(apis.values())).version()["Version"]

    def engine_pids(who: list[str]):
        """The pids of the engine(s) the crowd ``who`` uses (none measured: the machine's)."""
        keys = who if engine == "per-learner" else ["class"]
        return (lambda: [p for ps in engines.pids(root, keys).values() for p in ps]) \
            if engine != "machine" else (lambda: [])

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
            alone[r.path.split("/")[-1].removesuffix(".ipynb")].append(r.seconds)
    report["alone"] = {nb: statistics.median(v) for nb, v in alone.items()}

    for n in learner_counts:
        who = names[:n]
        before = total()
        tags_before = {t for a in apis.values() for row in a.images() for t in row.get("RepoTags") or []}
        watched = apis[urls.get(who[0], url)]       # per learner: the first learner's own engine
        sampler = Sampler({w: ids(w)[0] for w in who}, engine_pids(who), watched, tags_before)
        sampler.start()
        log(f"{n} learners at once ...")
        results, wall = crowd(hub, who, notebooks)
        sampler.done.set()
        sampler.join()
        after = total()
        left = {}
        for u in apis:
            eng = engine_mod.connect(u)
            for w in who:
                owned = eng.owned_by(w)
                if owned[0] or owned[1]:
                    left[w] = owned
            eng.api.close()
        report["crowds"].append(_crowd_report(n, results, wall, sampler, before, after, left, notebooks))
    return report


def _crowd_report(n, results, wall, sampler, before, after, left, notebooks) -> dict:
    times = {nb: [r.seconds for rec in results.values() for r in rec["runs"]
                  if r.ok and r.path.endswith(f"/{nb}.ipynb")] for nb in notebooks}
    reconnects = sum(r.reconnects for rec in results.values() for r in rec["runs"])
    failures = [f"{name}: {rec['error']}" for name, rec in results.items() if rec["error"]]
    failures += [f"{name}: {r.path}: {r.error}" for name, rec in results.items() for r in rec["runs"] if not r.ok]
    finished = sum(1 for rec in results.values() if not rec["error"] and len(rec["runs"]) == len(notebooks)
                   and all(r.ok for r in rec["runs"]))
    namespaces = tuple(f"{name}/" for name in results)
    foreign_tags = sorted(t for t in sampler.seen_tags if not t.startswith(namespaces) and t != "<none>:<none>")
    foreign_containers = sorted(
        f"{image} {labels}" for image, labels in sampler.seen_containers.values()
        if not (image.startswith(namespaces) or labels.get("org.labkit.namespace") in results
                or image.startswith("sha256:") or len(image) == 12))   # legacy builder's step containers
    ready = [rec["ready"] for rec in results.values() if rec["ready"] is not None]
    return {"learners": n, "finished": finished, "failures": failures, "wall": wall, "reconnects": reconnects,
            "ready_p50": _pct(ready, 0.5), "ready_max": max(ready, default=float("nan")),
            "times": times, "peak_rss": dict(sampler.peak), "engine_peak_rss": sampler.engine_peak,
            "before": before, "after": after, "left": left, "tags_seen": len(sampler.seen_tags),
            "containers_seen": len(sampler.seen_containers), "foreign_tags": foreign_tags,
            "foreign_containers": foreign_containers}


def _free_port() -> int:
    from labkit.classroom.server import free_port

    return free_port()


def text(report: dict) -> str:
    """The report as the bench prints it."""
    mib = 1 << 20
    lines = [f"classroom on {report['cores']} cores, engine: {report['engine']} (Docker "
             f"{report['engine_version']}); up in {report['up_seconds']} s (install {report['install_seconds']} s, "
             f"engines {report.get('engines_seconds')} s)",
             "one learner alone: " + ", ".join(f"{nb[:2]} {t:.1f} s" for nb, t in report["alone"].items())]
    for c in report["crowds"]:
        peaks = sorted(c["peak_rss"].values())
        lines += [f"N = {c['learners']}: finished {c['finished']}/{c['learners']}, failures {len(c['failures'])}, "
                  f"wall {c['wall']:.0f} s, server ready p50 {c['ready_p50']:.1f} s / max {c['ready_max']:.1f} s, "
                  f"kernel websocket reconnects {c['reconnects']}",
                  f"  {'notebook':36} {'alone':>7} {'p50':>7} {'p95':>7} {'p50/alone':>9} {'p95/alone':>9}"]
        for nb, values in c["times"].items():
            alone = report["alone"][nb]
            p50, p95 = _pct(values, 0.5), _pct(values, 0.95)
            lines.append(f"  {nb:36} {alone:6.1f}s {p50:6.1f}s {p95:6.1f}s {p50 / alone:8.1f}x {p95 / alone:8.1f}x")
        lines.append(f"  peak memory per learner (server + kernels + docker CLI): median "
                     f"{statistics.median(peaks) / mib:.0f} MiB, max {peaks[-1] / mib:.0f} MiB"
                     + (f"; engine(s) peak {c['engine_peak_rss'] / mib:.0f} MiB" if c["engine_peak_rss"] else ""))
        same = "equal" if c["before"] == c["after"] else "DIFFERENT"
        lines.append(f"  engine images/containers before {c['before'][0]}/{c['before'][1]}, after "
                     f"{c['after'][0]}/{c['after'][1]}: {same}; left in a learner's namespace: {len(c['left'])}")
        lines.append(f"  seen during the run: {c['tags_seen']} new tags, {c['containers_seen']} containers; "
                     f"not a learner's: {len(c['foreign_tags'])} tags, {len(c['foreign_containers'])} containers")
        lines += [f"  failure: {f}" for f in c["failures"][:10]]
        lines += [f"  not a learner's: {t}" for t in (c["foreign_tags"] + c["foreign_containers"])[:10]]
    lines += [f"the Hub's log: {report['hub_log']}"] if report.get("hub_log") else []
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench`` (N = 10) or ``python -m bench.bench_classroom [--learners N ...]``."""
    parser = argparse.ArgumentParser(prog="bench_classroom")
    parser.add_argument("--learners", type=int, action="append", help="N (repeat for several; default 10)")
    parser.add_argument("--engine", default="class", choices=("machine", "class", "per-learner"))
    parser.add_argument("--root", help="the classroom's folder (default: a new one under /srv)")
    args = parser.parse_args(argv if argv is not None else [])
    if os.geteuid() != 0:
        print("classroom: skipped (creating learner users needs root)")
        return
    report = run(tuple(args.learners or [10]), engine=args.engine, root=args.root,
                 log=lambda *a: print(*a, file=sys.stderr, flush=True))
    print(text(report), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(sys.argv[1:])
