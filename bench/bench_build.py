"""Time one hello image three ways on the engine at DOCKER_HOST: (a) labkit's builder
then ``docker load``, (b) ``docker build`` with BuildKit, (c) with the legacy builder.

Each repeat uses a new message, so no builder can answer from its cache. Target:
(a) faster than both (b) and (c).

Run: ``.venv/bin/python -m bench.bench_build`` (or ``make bench``).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from labkit import engine as engine_mod
from labkit import hello, oci

REPEATS = 7
DOCKERFILE = 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n'


def _context(directory: Path, message: bytes) -> Path:
    directory.mkdir()
    (directory / "Dockerfile").write_text(DOCKERFILE)
    os.utime(hello.build("tiny", directory / "hello", message), (0, 0))
    return directory


def _labkit_and_load(eng: engine_mod.Engine, context: Path, tag: str) -> None:
    image = oci.Image(layers=[[oci.Entry.file("/hello", (context / "hello").read_bytes(),
                                              mode=0o755)]], cmd=["/hello"])
    eng.load(image.write(context / "image.tar", "docker-archive", tag=tag))


def _docker_build(builder: str):
    def build(eng: engine_mod.Engine, context: Path, tag: str) -> None:
        eng.build(context, tag, builder=builder)
    return build


def _engines() -> list[engine_mod.Engine]:
    """The engine at DOCKER_HOST, then every fleet engine that is up."""
    engines = [e for e in [engine_mod.try_connect()] if e is not None]
    try:
        from labkit import fleet

        engines += [fleet.engine(name) for name in sorted(fleet.endpoints())]
    except Exception as err:  # no fleet here: the bench still runs on DOCKER_HOST
        print(f"(fleet engines skipped: {err})")
    return engines


def main() -> None:
    engines = _engines()
    if not engines:
        print("bench_build: skipped, no Docker engine answered")
    for eng in engines:
        _bench(eng)


def _bench(eng: engine_mod.Engine) -> None:
    ways = {"labkit + docker load": _labkit_and_load, "docker build (BuildKit)":
            _docker_build("buildkit"), "docker build (legacy)": _docker_build("legacy")}
    if not eng.facts.buildkit:
        del ways["docker build (BuildKit)"]
    times: dict[str, list[float]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as tmp:
        for repeat in range(REPEATS):
            for number, (name, way) in enumerate(ways.items()):
                message = f"bench {time.time_ns()} {repeat} {number}\n".encode()
                context = _context(Path(tmp) / f"{repeat}-{number}", message)
                tag = f"labkit-bench/hello:{repeat}-{number}"
                started = time.perf_counter()
                way(eng, context, tag)
                times[name].append(time.perf_counter() - started)
                eng.remove(tag)
    medians = {name: statistics.median(values) for name, values in times.items()}
    fastest = medians["labkit + docker load"]
    store = ", containerd store" if eng.facts.containerd_store else ""
    print(f"hello image build on Docker {eng.facts.version}{store}, median of {REPEATS}:")
    for name, median in medians.items():
        print(f"  {name:<24} {median * 1000:8.1f} ms   {median / fastest:5.2f}x labkit")
    others = [m for n, m in medians.items() if n != "labkit + docker load"]
    verdict = "met" if all(fastest < m for m in others) else "NOT met"
    print(f"  target labkit + load faster than every docker build: {verdict}")


if __name__ == "__main__":
    main()
