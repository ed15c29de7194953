"""The tiny hello's overhead (file size minus message length) against the official
hello-world binary's (10,072 bytes for an 807-byte message). Target: <= 160 bytes.

Run: ``.venv/bin/python -m bench.bench_hello`` (or ``make bench``).
"""
from __future__ import annotations

from labkit import hello

TARGET = 160


def main() -> None:
    official = hello.OFFICIAL_HELLO_WORLD
    official_overhead = official["size"] - official["message_len"]
    print(f"hello overhead (size - message): official hello-world {official_overhead:,} bytes")
    for arch in hello.ARCHES:
        for label, message in (("default message", hello.DEFAULT_MESSAGE),
                               ("807-byte message", b"x" * 806 + b"\n")):
            overhead = len(hello.tiny_elf(message, arch)) - len(message)
            verdict = "met" if overhead <= TARGET else "NOT met"
            print(f"  tiny {arch:<8} {label:<17} {overhead:4d} bytes   "
                  f"{official_overhead / overhead:5.1f}x smaller   target <= {TARGET}: {verdict}")


if __name__ == "__main__":
    main()
