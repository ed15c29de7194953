"""Run every benchmark: each ``bench/bench_*.py`` module's ``main()``, in name order.

Run: ``make bench`` (= ``.venv/bin/python -m bench``); ``python -m bench inspect``
runs only the modules whose name contains ``inspect``.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    chosen = [n for n in names if not argv or any(word in n for word in argv)]
    for name in chosen:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
