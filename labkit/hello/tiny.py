"""The ``tiny`` hello: a minimal static ELF written byte by byte, no compiler needed.

One ELF header, one program header, a few instructions (``write`` then ``exit``) and
the message — for x86-64 and AArch64.

Example:
    >>> elf = tiny_elf(b"hi\\n")
    >>> elf[:4], len(elf) - 3 <= 160
    (b'\\x7fELF', True)
"""
from __future__ import annotations

import struct

from labkit import host
from labkit.errors import LabkitError

DEFAULT_MESSAGE = b"Hello from scratch!\n"
ARCHES = ("x86_64", "aarch64")

_BASE = 0x400000                  # where the single segment is mapped
_HEADERS = 64 + 56                # ELF64 header + one program header
_ONE_WRITE_MAX = 0xFFFF           # one write() is enough up to a pipe's capacity (64 KiB)
_MAX_MESSAGE = 1 << 30           # keeps every address below 4 GiB (32-bit immediates)
_MACHINE = {"x86_64": 62, "aarch64": 183}          # EM_X86_64, EM_AARCH64


def _x86_64_code(message_addr: int, length: int) -> bytes:
    """x86-64 instructions that write the message and exit; message follows them."""
    head = (b"\x6a\x01\x5f"                               # push 1; pop rdi   (fd 1)
            + b"\xbe" + struct.pack("<I", message_addr)   # mov esi, message
            + b"\xba" + struct.pack("<I", length))        # mov edx, length
    if length <= _ONE_WRITE_MAX:
        return head + (b"\x89\xf8"            # mov eax, edi      (SYS_write = 1)
                       b"\x0f\x05"            # syscall
                       b"\x31\xff"            # xor edi, edi
                       b"\x39\xd0"            # cmp eax, edx      (all written?)
                       b"\x40\x0f\x95\xc7"    # setne dil         (status 1 if not)
                       b"\x6a\x3c\x58"        # push 60; pop rax  (SYS_exit)
                       b"\x0f\x05")           # syscall
    return head + (b"\x89\xf8"                # loop: mov eax, edi
                   b"\x0f\x05"                # syscall
                   b"\x85\xc0"                # test eax, eax
                   b"\x7e\x08"                # jle exit          (edi is still 1)
                   b"\x01\xc6"                # add esi, eax
                   b"\x29\xc2"                # sub edx, eax
                   b"\x75\xf2"                # jnz loop
                   b"\x31\xff"                # xor edi, edi
                   b"\x6a\x3c\x58"            # exit: push 60; pop rax
                   b"\x0f\x05")               # syscall


def _aarch64_code(message_addr: int, length: int) -> bytes:
    """AArch64 instructions that write the message and exit; message follows them."""
    def adr_x1(pc: int) -> int:                        # adr x1, message
        offset = message_addr - pc
        return 0x10000001 | (offset & 3) << 29 | ((offset >> 2) & 0x7FFFF) << 5

    movz_x2 = 0xD2800002 | (length & 0xFFFF) << 5      # movz x2, #length
    movk_x2 = 0xF2A00002 | (length >> 16) << 5         # movk x2, #length>>16, lsl 16
    if length <= _ONE_WRITE_MAX:
        words = [0xD2800020,      # mov x0, #1        (fd 1)
                 0,               # adr x1, message   (patched below)
                 movz_x2,
                 0xD2800808,      # mov x8, #64       (SYS_write)
                 0xD4000001,      # svc #0
                 0xEB02001F,      # cmp x0, x2        (all written?)
                 0x1A9F07E0,      # cset w0, ne       (status 1 if not)
                 0xD2800BA8,      # mov x8, #93       (SYS_exit)
                 0xD4000001]      # svc #0
    else:
        words = [0xD2800808,      # mov x8, #64
                 0,               # adr x1, message
                 movz_x2, movk_x2,
                 0xD2800020,      # loop: mov x0, #1
                 0xD4000001,      # svc #0
                 0xF100001F,      # cmp x0, #0
                 0x5400008D,      # b.le done         (+4 instructions)
                 0x8B000021,      # add x1, x1, x0
                 0xEB000042,      # subs x2, x2, x0
                 0x54FFFF41,      # b.ne loop         (-6 instructions)
                 0xF100005F,      # done: cmp x2, #0
                 0x1A9F07E0,      # cset w0, ne       (status 1 if bytes are left)
                 0xD2800BA8,      # mov x8, #93
                 0xD4000001]      # svc #0
    words[1] = adr_x1(_BASE + _HEADERS + 4)
    return struct.pack(f"<{len(words)}I", *words)


_CODE = {"x86_64": _x86_64_code, "aarch64": _aarch64_code}


def _code_size(arch: str, length: int) -> int:
    return len(_CODE[arch](0, length))


def tiny_elf(message: bytes = DEFAULT_MESSAGE, arch: str = "x86_64") -> bytes:
    """A complete static ELF executable that writes ``message`` to stdout and exits 0.

    Layout: ELF header (64 bytes), one ``PT_LOAD`` program header (56 bytes) mapping
    the whole file read+execute, the code, then the message. No sections, no libc.
    Up to 64 KiB - 1 one ``write`` is made (exit status 1 if it falls short); longer
    messages loop until every byte is written (exit status 1 on a write error).

    Args:
        message: the exact bytes to write (up to 1 GiB).
        arch: ``"x86_64"`` or ``"aarch64"``.

    Example:
        >>> len(tiny_elf(b"hi\\n")) - 3
        150
    """
    arch = host.machine_arch(arch)
    if arch not in _CODE:
        raise LabkitError(f"unknown architecture {arch!r}", hint=f"use one of {', '.join(ARCHES)}")
    if len(message) > _MAX_MESSAGE:
        raise LabkitError("the tiny hello takes messages up to 1 GiB",
                          hint="its addresses are 32-bit; use a shorter message")
    message_addr = _BASE + _HEADERS + _code_size(arch, len(message))
    code = _CODE[arch](message_addr, len(message))
    size = _HEADERS + len(code) + len(message)
    elf_header = struct.pack(
        "<4sBBBBB7sHHIQQQIHHHHHH",
        b"\x7fELF", 2, 1, 1, 0, 0, b"",    # 64-bit, little-endian, version 1, SysV ABI
        2, _MACHINE[arch], 1,              # ET_EXEC, machine, EV_CURRENT
        _BASE + _HEADERS,                  # e_entry: the first instruction
        64, 0,                             # e_phoff, e_shoff (no section headers)
        0, 64, 56, 1,                      # e_flags, e_ehsize, e_phentsize, e_phnum
        0, 0, 0)                           # e_shentsize, e_shnum, e_shstrndx
    program_header = struct.pack(
        "<IIQQQQQQ",
        1, 5,                              # PT_LOAD, PF_R | PF_X
        0, _BASE, _BASE,                   # p_offset, p_vaddr, p_paddr
        size, size, 0x1000)                # p_filesz, p_memsz, p_align
    return elf_header + program_header + code + message


def _tiny_message(data: bytes, arch: str) -> bytes | None:
    """The message, if ``data`` is exactly what :func:`tiny_elf` makes for it."""
    for length in (len(data) - _HEADERS - _code_size(arch, n) for n in (0, _ONE_WRITE_MAX + 1)):
        if length >= 0:
            message = data[len(data) - length:] if length else b""
            if tiny_elf(message, arch) == data:
                return message
    return None
