"""Every byte of a program, named: the ELF header, the program headers, then what follows.

For labkit's tiny hello that is every field of the two headers, each group of
instructions and the message (``labkit.show.hexdump`` draws it). For any other 64-bit
little-endian ELF file (a compiled hello) the map is coarser: the headers, then each
loadable segment with the sections it holds, the zero padding between them, what is not
loaded, and the section header table — enough to see where the bytes go.

The layouts are those of the ELF specification as ``elf(5)`` describes them
(https://man7.org/linux/man-pages/man5/elf.5.html).

Example:
    >>> from labkit.hello.tiny import tiny_elf
    >>> from labkit.bytefields import totals
    >>> totals(elf_fields(tiny_elf()))
    [('ELF header', 64), ('program header', 56), ('instructions', 30), ('message', 20)]
"""
from __future__ import annotations

import struct
from pathlib import Path

from labkit.bytefields import Field, problem
from labkit.errors import LabkitError
from labkit.hello.tiny import _BASE, _HEADERS, _STEPS, _tiny_message

_MACHINES = {62: "x86-64", 183: "AArch64"}
_ARCH = {62: "x86_64", 183: "aarch64"}
_TYPES = {1: "a relocatable object (ET_REL)", 2: "an executable (ET_EXEC)",
          3: "position-independent (ET_DYN): a shared library or PIE program", 4: "a core dump"}
_SEGMENTS = {0: "NULL", 1: "LOAD", 2: "DYNAMIC", 3: "INTERP", 4: "NOTE", 6: "PHDR", 7: "TLS",
             0x6474E550: "GNU_EH_FRAME", 0x6474E551: "GNU_STACK", 0x6474E552: "GNU_RELRO",
             0x6474E553: "GNU_PROPERTY"}
_NOBITS = 8


def _flags(value: int) -> str:
    return "+".join(letter for bit, letter in ((4, "R"), (2, "W"), (1, "X")) if value & bit) or "none"


def elf_fields(program: bytes | str | Path) -> list[Field]:
    """Name every byte of a 64-bit little-endian ELF program, in file order.

    Args:
        program: the file's bytes, or its path.

    Raises:
        LabkitError: it cannot be read, or is not a 64-bit little-endian ELF file.

    Example:
        >>> from labkit.hello.tiny import tiny_elf
        >>> [(f.offset, f.name) for f in elf_fields(tiny_elf())][:3]
        [(0, 'magic'), (4, 'e_ident'), (16, 'e_type')]
    """
    data = _read(program)
    (e_type, machine, _version, entry, phoff, shoff, _flags_, _ehsize, phentsize, phnum,
     shentsize, shnum, shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    arch = _ARCH.get(machine)
    message = _tiny_message(data, arch) if arch else None
    fields = _elf_header(data, detail=message is not None)
    if message is None:
        return check_cover(fields + _coarse(data, phoff, phnum, phentsize, shoff, shnum, shentsize, shstrndx), data)
    fields += _program_header(data)
    code_at, message_at = _HEADERS, len(data) - len(message)
    for raw, asm, meaning in _STEPS[arch](_BASE + message_at, len(message)):
        fields.append(Field(code_at, data[code_at:code_at + len(raw)], "instructions", asm, meaning))
        code_at += len(raw)
    if message:
        fields.append(Field(message_at, message, "message", "the message",
                            repr(message.decode("utf-8", "replace")) + ", written as it is"))
    return check_cover(fields, data)


def _read(program: bytes | str | Path) -> bytes:
    if isinstance(program, (bytes, bytearray)):
        data = bytes(program)
    else:
        try:
            data = Path(program).read_bytes()
        except OSError as err:
            raise LabkitError(f"cannot read {program}: {err.strerror}") from None
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4:6] != b"\x02\x01":
        raise LabkitError("not a 64-bit little-endian ELF program",
                          hint="elf_fields reads x86-64 and AArch64 programs, such as labkit.hello.build's")
    return data


def _elf_header(data: bytes, detail: bool) -> list[Field]:
    """The 64-byte ELF header: field by field, or (``detail=False``) as one summary row."""
    (e_type, machine, _v, entry, phoff, shoff, flags, ehsize, phentsize, phnum,
     shentsize, shnum, _shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    kind = _TYPES.get(e_type, f"type {e_type}")
    cpu = _MACHINES.get(machine, f"machine {machine}")
    if not detail:
        return [Field(0, data[:64], "ELF header", "ELF header",
                      f"64-bit, little-endian, {cpu}, {kind}; first instruction at {entry:#x}; "
                      f"{phnum} program headers at byte {phoff}, {shnum} section headers at byte {shoff:,}")]
    rows = [(0, 4, "magic", "\\x7fELF: this is an ELF file"),
            (4, 12, "e_ident", "64-bit, little-endian, ELF version 1, System V ABI; 8 bytes unused"),
            (16, 2, "e_type", f"{e_type}: {kind}"),
            (18, 2, "e_machine", f"{machine}: machine code for {cpu}"),
            (20, 4, "e_version", "1: ELF version 1"),
            (24, 8, "e_entry", f"{entry:#x}: start here (the first instruction, byte {entry - _BASE} of the file)"),
            (32, 8, "e_phoff", f"{phoff}: the program header starts at byte {phoff}"),
            (40, 8, "e_shoff", f"{shoff}: no section headers (the kernel never reads them)" if not shoff
             else f"{shoff}: section headers at byte {shoff}"),
            (48, 4, "e_flags", f"{flags}: no processor-specific flags" if not flags else f"{flags:#x}"),
            (52, 2, "e_ehsize", f"{ehsize}: this header is {ehsize} bytes"),
            (54, 2, "e_phentsize", f"{phentsize}: a program header is {phentsize} bytes"),
            (56, 2, "e_phnum", f"{phnum}: {'one program header' if phnum == 1 else f'{phnum} program headers'}"),
            (58, 6, "e_shentsize, e_shnum, e_shstrndx",
             "0, 0, 0: no section headers" if not shnum else f"{shentsize}, {shnum}, section names")]
    return [Field(at, data[at:at + size], "ELF header", name, meaning) for at, size, name, meaning in rows]


def _program_header(data: bytes) -> list[Field]:
    """The tiny hello's one program header, field by field."""
    p_type, flags, offset, vaddr, paddr, filesz, memsz, align = struct.unpack_from("<IIQQQQQQ", data, 64)
    rows = [(64, 4, "p_type", f"{p_type}: {_SEGMENTS.get(p_type, '?')}: load part of the file into memory"),
            (68, 4, "p_flags", f"{flags}: {_flags(flags)}: readable and executable, not writable"),
            (72, 8, "p_offset", f"{offset}: from the file's byte {offset}"),
            (80, 8, "p_vaddr", f"{vaddr:#x}: to this address in memory"),
            (88, 8, "p_paddr", f"{paddr:#x}: the same again (a physical address, unused)"),
            (96, 8, "p_filesz", f"{filesz}: this many bytes of the file" + (" (all of it)" if filesz == len(data) else "")),
            (104, 8, "p_memsz", f"{memsz}: this many bytes of memory"),
            (112, 8, "p_align", f"{align:#x}: the address is a multiple of {align:,} (a memory page)")]
    return [Field(at, data[at:at + size], "program header", name, meaning) for at, size, name, meaning in rows]


def _sections(data: bytes, shoff: int, shnum: int, shentsize: int, shstrndx: int) -> list[tuple[str, int, int]]:
    """``(name, offset, size)`` of every section with bytes in the file."""
    if not shoff or not shnum:
        return []
    heads = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = heads[shstrndx][4] if shstrndx < shnum else 0

    def name(index: int) -> str:
        end = data.find(b"\0", names_at + index)
        return data[names_at + index:end].decode("ascii", "replace")
    return [(name(h[0]), h[4], h[5]) for h in heads if h[1] not in (0, _NOBITS) and h[5]]


def _coarse(data: bytes, phoff: int, phnum: int, phentsize: int, shoff: int, shnum: int,
            shentsize: int, shstrndx: int) -> list[Field]:
    """The rest of a compiled program, region by region."""
    heads = [struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize) for i in range(phnum)]
    kinds = [_SEGMENTS.get(h[0], f"{h[0]:#x}") for h in heads]
    table_end = phoff + phnum * phentsize
    loads = sorted((h[2], h[2] + h[5], h[1]) for h in heads if h[0] == 1 and h[5])
    only_headers = bool(loads) and loads[0][0] == 0 and loads[0][1] <= table_end
    fields = [Field(phoff, data[phoff:table_end], "program headers", f"{phnum} program headers",
                    f"{phnum} × {phentsize} bytes: " + ", ".join(kinds)
                    + ("; segment 1 (R) loads just these headers" if only_headers else ""))] if phnum else []
    sections = _sections(data, shoff, shnum, shentsize, shstrndx)
    at = table_end
    for number, (start, end, flags) in enumerate(loads, 1):
        if start > at:
            fields.append(_gap(data, at, start))
        start = max(start, at)
        held = [n for n, off, size in sections if start <= off < end]
        if end <= start:          # the segment holds only the headers above
            continue
        fields.append(Field(start, data[start:end], f"segment {number} ({_flags(flags)})",
                            f"segment {number}", " ".join(held) or "(no sections)"))
        at = max(at, end)
    table_at = shoff if shoff >= at else len(data)
    if table_at > at:
        rest = [n for n, off, size in sections if at <= off < table_at]
        fields.append(Field(at, data[at:table_at], "not loaded", "not loaded",
                            " ".join(rest) + ": for tools, the kernel does not load them" if rest
                            else "zeros"))
    if shnum and shoff >= at:
        end = shoff + shnum * shentsize
        fields.append(Field(shoff, data[shoff:end], "section headers", f"{shnum} section headers",
                            f"{shnum} × {shentsize} bytes naming the sections, for tools (the kernel ignores them)"))
        if end < len(data):
            fields.append(Field(end, data[end:], "not loaded", "trailing bytes", "after the section headers"))
    return fields


def _gap(data: bytes, start: int, end: int) -> Field:
    zeros = not data[start:end].strip(b"\0")
    return Field(start, data[start:end], "padding", "padding",
                 f"{end - start:,} zero bytes: the linker starts each segment on its own 4 KiB page"
                 if zeros else f"{end - start:,} bytes between segments")


def check_cover(fields: list[Field], data: bytes) -> list[Field]:
    """``fields``, once they are known to name every byte of ``data`` in order.

    Raises:
        LabkitError: they do not (a bug in labkit: the file's layout was misread).
    """
    why = problem(fields, data)
    if why:
        raise LabkitError(f"labkit misread the file's layout: {why}",
                          hint="please report it with the file attached")
    return fields
