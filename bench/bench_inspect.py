"""``labkit inspect`` (every digest verified) on a 1 GiB image tarball, against
``openssl dgst -sha256`` of the same file: one read and one hash is the floor.
Targets: at most 1.3x openssl's time, peak RSS at most 100 MB.

The tarball (a docker-archive whose one layer holds a 1 GiB random file) is made once
and kept in ``bench/out/`` (ignored by git). Run: ``.venv/bin/python -m bench inspect``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from labkit import oci

OUT = Path(__file__).parent / "out"
IMAGE = OUT / "inspect-1gib.tar"
PAYLOAD_MIB = 1024
TARGET_RATIO = 1.3
TARGET_RSS_MB = 100


def make_image() -> Path:
    """The cached 1 GiB docker-archive (made streamed: 1 MiB of random bytes at a time)."""
    if IMAGE.exists():
        return IMAGE
    OUT.mkdir(exist_ok=True)
    payload = OUT / "payload.bin"
    with payload.open("wb") as out:
        for _ in range(PAYLOAD_MIB):
            out.write(os.urandom(1 << 20))
    try:
        oci.Image([[oci.Entry.file("payload.bin", source=payload, mode=0o644)]]).write(IMAGE)
    finally:
        payload.unlink()
    return IMAGE


def timed(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one run of ``argv`` (output discarded)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{argv[0]} failed with status {child.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    image = make_image()
    size = image.stat().st_size
    openssl = ["openssl", "dgst", "-sha256", str(image)]
    labkit = [sys.executable, "-m", "labkit", "inspect", "--json", str(image)]
    timed(openssl)  # warm the page cache so both read from memory
    runs = {"openssl": [], "labkit": []}
    for _ in range(3):
        runs["openssl"].append(timed(openssl))
        runs["labkit"].append(timed(labkit))
    base = min(t for t, _ in runs["openssl"])
    ours = min(t for t, _ in runs["labkit"])
    rss = max(r for _, r in runs["labkit"])
    ratio = ours / base
    print(f"inspect {size / 2**30:.2f} GiB docker-archive (best of 3, page cache warm)")
    print(f"  openssl dgst -sha256   {base:6.2f} s  {size / base / 2**20:7.0f} MiB/s")
    print(f"  labkit inspect         {ours:6.2f} s  {size / ours / 2**20:7.0f} MiB/s")
    print(f"  ratio {ratio:.2f}x (target <= {TARGET_RATIO}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'})"
          f"   peak RSS {rss:.0f} MB (target <= {TARGET_RSS_MB} MB: "
          f"{'met' if rss <= TARGET_RSS_MB else 'NOT met'})")
    many_files()


def many_files(count: int = 20_000) -> None:
    """Inspect a one-layer image of ``count`` tiny files: the merged tree must stay linear."""
    from labkit import oci

    path = OUT / f"inspect-{count}-files.tar"
    if not path.exists():
        entries = [oci.Entry.file(f"d{i // 100}/f{i}", b"x", mode=0o644) for i in range(count)]
        oci.Image([entries]).write(path)
    seconds, rss = timed([sys.executable, "-m", "labkit", "inspect", "--json", str(path)])
    print(f"inspect of {count:,} files in one layer: {seconds:.2f} s, peak RSS {rss:.0f} MB "
          f"(was 35 s before the merged tree stopped rescanning per file)")


if __name__ == "__main__":
    main()
