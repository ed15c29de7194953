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


#: One group of instructions: its bytes, the instructions (assembly), what they do.
Step = tuple[bytes, str, str]


def _x86_64_steps(message_addr: int, length: int) -> list[Step]:
    """x86-64 instructions that write the message and exit; message follows them."""
    head = [(b"\x6a\x01\x5f", "push 1; pop rdi", "rdi = 1: write to standard output (fd 1)"),
            (b"\xbe" + struct.pack("<I", message_addr), f"mov esi, {message_addr:#x}",
             "rsi = the message's address"),
            (b"\xba" + struct.pack("<I", length), f"mov edx, {length}", f"rdx = its length, {length:,} bytes")]
    if length <= _ONE_WRITE_MAX:
        return head + [
            (b"\x89\xf8\x0f\x05", "mov eax, edi; syscall", "system call 1: write(1, message, length)"),
            (b"\x31\xff\x39\xd0\x40\x0f\x95\xc7", "xor edi, edi; cmp eax, edx; setne dil",
             "exit status: 0 if every byte was written, else 1"),
            (b"\x6a\x3c\x58\x0f\x05", "push 60; pop rax; syscall", "system call 60: exit(status)")]
    return head + [
        (b"\x89\xf8\x0f\x05", "loop: mov eax, edi; syscall", "system call 1: write(1, message, length)"),
        (b"\x85\xc0\x7e\x08", "test eax, eax; jle exit", "nothing written: exit with status 1"),
        (b"\x01\xc6\x29\xc2\x75\xf2", "add esi, eax; sub edx, eax; jnz loop",
         "skip what was written; bytes left: write again"),
        (b"\x31\xff", "xor edi, edi", "exit status 0"),
        (b"\x6a\x3c\x58\x0f\x05", "exit: push 60; pop rax; syscall", "system call 60: exit(status)")]


def _aarch64_steps(message_addr: int, length: int) -> list[Step]:
    """AArch64 instructions that write the message and exit; message follows them."""
    def words(*values: int) -> bytes:
        return struct.pack(f"<{len(values)}I", *values)

    def adr_x1(pc: int) -> int:                        # adr x1, message
        offset = message_addr - pc
        return 0x10000001 | (offset & 3) << 29 | ((offset >> 2) & 0x7FFFF) << 5

    movz_x2 = 0xD2800002 | (length & 0xFFFF) << 5      # movz x2, #length
    movk_x2 = 0xF2A00002 | (length >> 16) << 5         # movk x2, #length>>16, lsl 16
    adr = adr_x1(_BASE + _HEADERS + 4)                 # the second instruction, in both shapes
    if length <= _ONE_WRITE_MAX:
        return [(words(0xD2800020), "mov x0, #1", "x0 = 1: write to standard output (fd 1)"),
                (words(adr), f"adr x1, {message_addr:#x}", "x1 = the message's address"),
                (words(movz_x2), f"mov x2, #{length}", f"x2 = its length, {length:,} bytes"),
                (words(0xD2800808, 0xD4000001), "mov x8, #64; svc #0", "system call 64: write(1, message, length)"),
                (words(0xEB02001F, 0x1A9F07E0), "cmp x0, x2; cset w0, ne",
                 "exit status: 0 if every byte was written, else 1"),
                (words(0xD2800BA8, 0xD4000001), "mov x8, #93; svc #0", "system call 93: exit(status)")]
    return [(words(0xD2800808), "mov x8, #64", "x8 = 64: the write system call"),
            (words(adr), f"adr x1, {message_addr:#x}", "x1 = the message's address"),
            (words(movz_x2, movk_x2), f"mov x2, #{length}", f"x2 = its length, {length:,} bytes"),
            (words(0xD2800020, 0xD4000001), "loop: mov x0, #1; svc #0", "write(1, message, length)"),
            (words(0xF100001F, 0x5400008D), "cmp x0, #0; b.le done", "nothing written: stop"),
            (words(0x8B000021, 0xEB000042, 0x54FFFF41), "add x1, x1, x0; subs x2, x2, x0; b.ne loop",
             "skip what was written; bytes left: write again"),
            (words(0xF100005F, 0x1A9F07E0), "done: cmp x2, #0; cset w0, ne", "exit status 1 if bytes are left"),
            (words(0xD2800BA8, 0xD4000001), "mov x8, #93; svc #0", "system call 93: exit(status)")]


_STEPS = {"x86_64": _x86_64_steps, "aarch64": _aarch64_steps}


def _code(arch: str, message_addr: int, length: int) -> bytes:
    return b"".join(step[0] for step in _STEPS[arch](message_addr, length))


def _code_size(arch: str, length: int) -> int:
    return len(_code(arch, 0, length))


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
    if arch not in _STEPS:
        raise LabkitError(f"unknown architecture {arch!r}", hint=f"use one of {', '.join(ARCHES)}")
    if len(message) > _MAX_MESSAGE:
        raise LabkitError("the tiny hello takes messages up to 1 GiB",
                          hint="its addresses are 32-bit; use a shorter message")
    message_addr = _BASE + _HEADERS + _code_size(arch, len(message))
    code = _code(arch, message_addr, len(message))
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
