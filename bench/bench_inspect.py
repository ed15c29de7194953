"""``labkit inspect`` (every digest verified) on a 1 GiB image tarball, against
``openssl dgst -sha256`` of the same file: one read and one hash is the floor.
Targets: at most 1.10x openssl's time, peak RSS at most 100 MB.

Both run as a user's would: the page cache warm and labkit's bytecode compiled, as an
installed labkit has it (the runs do not inherit ``PYTHONDONTWRITEBYTECODE``; a first
run writes the cache). The machine may be shared, so the runs alternate (openssl,
labkit, openssl, ...), the best of each is compared, and the spread of both is printed:
a wide spread says the machine was busy. ``measure()`` is also what the CI alarm runs
(tests/test_bench_inspect.py: 256 MiB, fails above 1.5x).

The tarball (a docker-archive whose one layer holds a random file) is made once and
kept in ``bench/out/`` (ignored by git). Run: ``.venv/bin/python -m bench inspect``.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

from labkit import oci

OUT = Path(__file__).parent / "out"
PAYLOAD_MIB = 1024
TARGET_RATIO = 1.10
TARGET_RSS_MB = 100
ROUNDS = 5


def make_image(mib: int = PAYLOAD_MIB, path: Path | None = None) -> Path:
    """A cached docker-archive of one ``mib`` MiB random file (made streamed, 1 MiB at a time)."""
    image = path or OUT / ("inspect-1gib.tar" if mib == 1024 else f"inspect-{mib}mib.tar")
    if image.exists():
        return image
    image.parent.mkdir(parents=True, exist_ok=True)
    payload = image.with_suffix(".payload")
    with payload.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1 << 20))
    try:
        oci.Image([[oci.Entry.file("payload.bin", source=payload, mode=0o644)]]).write(image)
    finally:
        payload.unlink()
    return image


def run(argv: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one run of ``argv`` (output discarded)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed with status {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def timed(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one run of ``argv`` (output discarded)."""
    elapsed, _, rss = run(argv)
    return elapsed, rss


@dataclasses.dataclass
class Measurement:
    """Alternating runs of openssl and labkit on one image: (wall, CPU, RSS) each."""

    size: int
    openssl: list[tuple[float, float, float]]
    labkit: list[tuple[float, float, float]]

    @property
    def ratio(self) -> float:
        """labkit's best wall time over openssl's best."""
        return min(r[0] for r in self.labkit) / min(r[0] for r in self.openssl)

    @property
    def cpu_ratio(self) -> float:
        """The same for CPU time (user + system): less moved by other work on the machine."""
        return min(r[1] for r in self.labkit) / min(r[1] for r in self.openssl)

    @property
    def rss(self) -> float:
        return max(r[2] for r in self.labkit)

    def text(self, target: float = TARGET_RATIO) -> str:
        def line(name: str, runs: list) -> str:
            walls = sorted(r[0] for r in runs)
            return (f"  {name:<22} best {walls[0]:6.2f} s  {self.size / walls[0] / 2**20:6.0f} MiB/s"
                    f"  (spread {walls[0]:.2f}-{walls[-1]:.2f} s, CPU best {min(r[1] for r in runs):.2f} s)")

        verdict = "met" if self.ratio <= target else "NOT met"
        return "\n".join([
            f"inspect {self.size / 2**20:,.0f} MiB docker-archive (best of {len(self.labkit)}, alternating, "
            f"page cache warm, bytecode compiled)",
            line("openssl dgst -sha256", self.openssl), line("labkit inspect", self.labkit),
            f"  ratio {self.ratio:.2f}x (target <= {target}x: {verdict}); CPU ratio {self.cpu_ratio:.2f}x;"
            f" peak RSS {self.rss:.0f} MB (target <= {TARGET_RSS_MB} MB: "
            f"{'met' if self.rss <= TARGET_RSS_MB else 'NOT met'})"])


def measure(image: Path, rounds: int = ROUNDS) -> Measurement:
    """Alternate ``rounds`` runs of ``openssl dgst -sha256`` and ``labkit inspect --json``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    openssl = ["openssl", "dgst", "-sha256", str(image)]
    labkit = [sys.executable, "-m", "labkit", "inspect", "--json", str(image)]
    run(labkit, env)            # warm: page cache, bytecode
    found = Measurement(image.stat().st_size, [], [])
    for _ in range(rounds):
        found.openssl.append(run(openssl, env))
        found.labkit.append(run(labkit, env))
    return found


def main() -> None:
    print(measure(make_image()).text())
    many_files()


def many_files(count: int = 20_000) -> None:
    """Inspect a one-layer image of ``count`` tiny files: the merged tree must stay linear."""
    path = OUT / f"inspect-{count}-files.tar"
    if not path.exists():
        entries = [oci.Entry.file(f"d{i // 100}/f{i}", b"x", mode=0o644) for i in range(count)]
        oci.Image([entries]).write(path)
    seconds, rss = timed([sys.executable, "-m", "labkit", "inspect", "--json", str(path)])
    print(f"inspect of {count:,} files in one layer: {seconds:.2f} s, peak RSS {rss:.0f} MB "
          f"(was 35 s before the merged tree stopped rescanning per file)")


if __name__ == "__main__":
    main()
