"""Hello binaries: the one program the lab puts into a FROM scratch image.

``tiny`` is a minimal static ELF written byte by byte in Python (no compiler, so it
works on Binder): one ELF header, one program header, a few instructions and the
message. The other variants compile :data:`C_SOURCE` with gcc or musl-gcc, so the
lab can show what a C library costs.

Example:
    >>> from labkit import hello
    >>> elf = hello.tiny_elf(b"hi\\n")
    >>> elf[:4], len(elf) - 3 <= 160
    (b'\\x7fELF', True)
"""
from __future__ import annotations

from labkit.hello.compiled import (C_SOURCE, C_SOURCE_LINK, VARIANTS, available, build, c_string,
                                       default_arch, link_map, message_header, source_excerpt)
from labkit.hello.context import MULTI_STAGE_DOCKERFILE, write_context
from labkit.hello.describe import BinaryInfo, describe
from labkit.hello.layout import elf_fields
from labkit.hello.tiny import ARCHES, DEFAULT_MESSAGE, tiny_elf

OFFICIAL_HELLO_WORLD = {
    "size": 10072,
    "message_len": 807,
    "source": "docker-library/hello-world amd64/hello at a1942f2745e7 (10,072 bytes): hello.c built with musl "
              "(musl-gcc -Os -static -Wl,--gc-sections -s, then strip --strip-all; its Makefile, "
              "https://github.com/docker-library/hello-world/blob/master/Makefile)",
}


__all__ = ["ARCHES", "BinaryInfo", "C_SOURCE", "C_SOURCE_LINK", "DEFAULT_MESSAGE",
           "MULTI_STAGE_DOCKERFILE", "OFFICIAL_HELLO_WORLD", "VARIANTS", "available", "build", "c_string", "default_arch",
           "describe", "link_map", "message_header", "source_excerpt", "tiny_elf",
           "write_context", "elf_fields"]
