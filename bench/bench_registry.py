"""Push and pull of a 100 MiB single-layer image through labkit, against ``skopeo copy`` of
the same image to the same local registry, in one run.

The layer holds 50 MiB of random bytes and 50 MiB of text, both from a fixed seed, so
every run compresses the same bytes. Each round starts a fresh registry (Debian's
docker-registry, ``labkit.registry.up``); skopeo and labkit push the same docker-archive
to two repositories of it (both compress the layer: skopeo with pgzip, labkit with
ISA-L), then both pull the same image (skopeo's push) into a fresh OCI layout. Times are
whole commands (``skopeo copy`` and ``python -m labkit registry push|pull``, interpreter
start included), best of 3 rounds. Targets: labkit at most 1.5x skopeo on push and on
pull, peak RSS at most 100 MB. Run: ``.venv/bin/python -m bench registry``.
"""
from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

from bench.bench_inspect import timed
from labkit import oci, registry

OUT = Path(__file__).parent / "out"
IMAGE = OUT / "registry-100mib.tar"
SEED = 20261127
HALF = 50 << 20
ROUNDS = 3
TARGET_RATIO = 1.5
TARGET_RSS_MB = 100
WORDS = ("layer blob manifest digest registry index config tar gzip push pull image "
         "scratch hello busybox engine the a of to and").split()


def make_image() -> Path:
    """The cached docker-archive: one layer, ``random.bin`` + ``text.txt`` (fixed seed)."""
    if IMAGE.exists():
        return IMAGE
    OUT.mkdir(exist_ok=True)
    rng = random.Random(SEED)
    random_bin, text = OUT / "random.bin", OUT / "text.txt"
    with random_bin.open("wb") as out:
        for _ in range(HALF >> 20):
            out.write(rng.randbytes(1 << 20))
    with text.open("wb") as out:
        written, number = 0, 0
        while written < HALF:
            line = (f"{number:08d} " + " ".join(rng.choice(WORDS) for _ in range(12)) + "\n").encode()
            line = line[:HALF - written]
            out.write(line)
            written += len(line)
            number += 1
    try:
        oci.Image([[oci.Entry.file("random.bin", source=random_bin, mode=0o644),
                    oci.Entry.file("text.txt", source=text, mode=0o644)]]).write(IMAGE, tag="bench:100mib")
    finally:
        random_bin.unlink()
        text.unlink()
    return IMAGE


def one_round(image: Path, work: Path, number: int) -> dict[str, tuple[float, float]]:
    root = work / f"registry-{number}"
    labkit = [sys.executable, "-m", "labkit", "registry"]
    try:
        host = registry.up(root).host
        skopeo_ref = f"docker://{host}/skopeo/bench-{number}:1"
        got = {
            "skopeo push": timed(["skopeo", "copy", "-q", "--dest-tls-verify=false",
                                  f"docker-archive:{image}", skopeo_ref]),
            "labkit push": timed([*labkit, "push", str(image), f"{host}/labkit/bench-{number}:1"]),
            "skopeo pull": timed(["skopeo", "copy", "-q", "--src-tls-verify=false", skopeo_ref,
                                  f"oci:{work / f'skopeo-{number}'}:1"]),
            "labkit pull": timed([*labkit, "pull", f"{host}/skopeo/bench-{number}:1",
                                  str(work / f"labkit-{number}")]),
        }
        sizes = {tool: sum(p.stat().st_size for p in (work / f"{tool}-{number}").rglob("*") if p.is_file())
                 for tool in ("skopeo", "labkit")}
        assert abs(sizes["skopeo"] - sizes["labkit"]) < 4096, sizes   # the same image on disk
        return got
    finally:
        registry.down(root)
        for tool in ("skopeo", "labkit"):
            shutil.rmtree(work / f"{tool}-{number}", ignore_errors=True)


def main() -> None:
    if shutil.which("skopeo") is None:
        print("skopeo is not installed: apt-get install skopeo")
        return
    image = make_image()
    layer = oci.inspect(image).layers[0].size
    with tempfile.TemporaryDirectory(prefix="labkit-bench-registry-") as tmp:
        rounds = [one_round(image, Path(tmp), n) for n in range(ROUNDS)]
    best = {key: min(r[key][0] for r in rounds) for key in rounds[0]}
    rss = {key: max(r[key][1] for r in rounds) for key in rounds[0]}
    print(f"push and pull of a {layer / 2**20:.0f} MiB one-layer image (half random, half text), "
          f"local registry, best of {ROUNDS} rounds; labkit compresses with {registry.COMPRESSOR}")
    for key in best:
        print(f"  {key:12} {best[key]:6.2f} s   peak RSS {rss[key]:5.0f} MB")
    for what in ("push", "pull"):
        ratio = best[f"labkit {what}"] / best[f"skopeo {what}"]
        print(f"  {what}: labkit/skopeo {ratio:.2f}x (target <= {TARGET_RATIO}x: "
              f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})")
    peak = max(rss["labkit push"], rss["labkit pull"])
    print(f"  labkit peak RSS {peak:.0f} MB (target <= {TARGET_RSS_MB} MB: "
          f"{'met' if peak <= TARGET_RSS_MB else 'NOT met'})")


if __name__ == "__main__":
    main()
