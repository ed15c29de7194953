"""Fleet timings: ``up`` of the four Debian engines from a cold and a warm cache, and ``down``.

Cold = a fresh, empty cache directory (apt update, download, unpack, start); warm = the
same cache again (start only). Targets on 2 cores: warm <= 30 s, cold <= 120 s.

Example:
    $ .venv/bin/python -c "import bench.bench_fleet as b; b.main()"
    fleet up, cold cache (4 engines)    71.3 s  (target <= 120 s)  ok
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

ENGINES = ["20.10.5", "20.10.24", "26.1.5", "28.5.2"]
TARGETS = {"up, cold cache": 120.0, "up, warm cache": 30.0, "down": 30.0}


def _timed(label: str, action, target: float | None) -> float:
    start = time.monotonic()
    action()
    took = time.monotonic() - start
    verdict = "" if target is None else f"  (target <= {target:.0f} s)  " + (
        "ok" if took <= target else "SLOW")
    print(f"fleet {label:32} {took:6.1f} s{verdict}", flush=True)
    return took


def main() -> None:
    """Print the three timings (skips with one line when not root)."""
    from labkit.fleet import Fleet

    if os.geteuid() != 0:
        print("fleet: skipped (starting Docker engines needs root)")
        return
    cache = Path(tempfile.mkdtemp(prefix="labkit-bench-cache-"))
    run = Path(tempfile.mkdtemp(prefix="lkb", dir="/tmp"))     # short: unix socket paths
    fleet = Fleet(cache=cache, run=run)
    try:
        _timed(f"up, cold cache ({len(ENGINES)} engines)",
               lambda: fleet.up(ENGINES, progress=False), TARGETS["up, cold cache"])
        _timed("down", fleet.down, TARGETS["down"])
        _timed(f"up, warm cache ({len(ENGINES)} engines)",
               lambda: fleet.up(ENGINES, progress=False), TARGETS["up, warm cache"])
        _timed("down", fleet.down, TARGETS["down"])
    finally:
        fleet.down()
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()
