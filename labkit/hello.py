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

import io
import shutil
import struct
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from labkit import host
from labkit.errors import LabkitError, MissingTool

VARIANTS = ("tiny", "nostdlib", "musl-static", "glibc-static", "dynamic")
ARCHES = ("x86_64", "aarch64")
DEFAULT_MESSAGE = b"Hello from scratch!\n"

OFFICIAL_HELLO_WORLD = {
    "size": 10072,
    "message_len": 807,
    "source": "docker-library/hello-world amd64/hello-world/hello: hello.c built with musl "
              "(musl-gcc -Os -static -Wl,--gc-sections -s, then strip --strip-all; its Makefile, "
              "https://github.com/docker-library/hello-world/blob/master/Makefile)",
}

C_SOURCE = resources.files("labkit").joinpath("hello.c").read_text()

# --- tiny: a hand-made ELF --------------------------------------------------------------
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


# --- compiled variants ------------------------------------------------------------------
_FLAGS = ["-Os", "-s", "-Wl,--build-id=none", "-fno-asynchronous-unwind-tables",
          "-fno-ident"]
_VARIANT_FLAGS = {
    # -Wl,-n: no page alignment between segments (8 KiB of padding otherwise).
    "nostdlib": ["-static", "-nostdlib", "-fno-stack-protector", "-Wl,-n", "-DLABKIT_NOSTDLIB"],
    "musl-static": ["-static"],
    "glibc-static": ["-static"],
    "dynamic": [],
}
_DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def default_arch() -> str:
    """The architecture built when none is named: this host's (``x86_64`` when the host
    is neither x86-64 nor AArch64). A lesson passes the *engine's* architecture instead
    (``labkit.machine.target``): on a Mac the engine's VM, not the Mac, runs the program.

    Example:
        >>> default_arch() in ARCHES
        True
    """
    arch = host.current().arch
    return arch if arch in ARCHES else "x86_64"


def _compiler(variant: str, arch: str) -> tuple[str, str]:
    """(program, Debian package) that compiles ``variant`` for ``arch`` here."""
    here = host.current()
    if not here.linux:
        raise MissingTool(f"the {variant} hello needs a Linux C toolchain: {here.name}'s "
                          f"compilers make {here.name} programs, not Linux ones",
                          hint="the lab shows the recorded one; or run the lab inside "
                               "Linux (WSL 2, a Linux VM or container)")
    native = arch == here.arch
    if variant == "musl-static":
        if not native:
            raise MissingTool(f"musl-static for {arch} needs musl-gcc for {arch}, which Debian "
                              f"packages only natively", hint=f"build it on an {arch} machine")
        return "musl-gcc", "musl-tools"
    if native:
        return "gcc", "gcc" if variant != "glibc-static" else "gcc libc6-dev"
    triplet = f"{arch}-linux-gnu"
    package = f"gcc-{triplet.replace('_', '-')}"
    if variant in ("glibc-static", "dynamic"):
        package += f" libc6-dev-{_DEBIAN_ARCH[arch]}-cross"
    return f"{triplet}-gcc", package


def _check_can_build(variant: str, arch: str) -> str:
    """Path of the compiler for ``variant``/``arch``; raises MissingTool if it can't."""
    program, package = _compiler(variant, arch)
    path = shutil.which(program)
    if path is None:
        raise MissingTool(f"the {variant} hello needs {program}",
                          hint=f"install the Debian package {package}")
    if variant == "glibc-static":
        libc_a = subprocess.run([path, "-print-file-name=libc.a"], capture_output=True,
                                text=True).stdout.strip()
        if not Path(libc_a).is_absolute():
            raise MissingTool(f"the glibc-static hello needs libc.a for {arch}",
                              hint=f"install the Debian package {package.split()[-1]}")
    return path


def available(arch: str | None = None) -> dict[str, str | None]:
    """Which variants can be built here for ``arch`` (default: :func:`default_arch`):
    variant -> None, or why not. ``tiny`` needs no compiler; the others need a Linux
    host with a compiler for ``arch``.

    Example:
        >>> available()["tiny"] is None
        True
    """
    arch = host.machine_arch(arch) if arch else default_arch()
    result: dict[str, str | None] = {"tiny": None}
    for variant in VARIANTS[1:]:
        try:
            _check_can_build(variant, arch)
            result[variant] = None
        except MissingTool as err:
            result[variant] = str(err)
    return result


def c_string(message: bytes) -> str:
    """``message`` as a C string literal: printable ASCII kept, the rest octal-escaped.

    Example:
        >>> c_string(b'say "hi"\\n')
        '"say \\\\042hi\\\\042\\\\012"'
    """
    keep = set(range(0x20, 0x7F)) - set(b'"\\?')
    return '"' + "".join(chr(b) if b in keep else f"\\{b:03o}" for b in message) + '"'


def build(variant: str, out: str | Path, message: bytes = DEFAULT_MESSAGE,
          arch: str | None = None) -> Path:
    """Write the ``variant`` hello for ``arch`` to ``out`` (mode 0755) and return its path.

    ``arch``: ``x86_64`` or ``aarch64`` (``amd64``/``arm64`` are accepted too); default
    :func:`default_arch`, this host's.

    Compiled variants use fixed flags (``-Os -s``, no build-id), so the same message,
    variant and compiler give the same bytes.

    Raises:
        MissingTool: the compiler (or libc) for the variant is not installed; the
            message names the Debian package.
        LabkitError: unknown variant or architecture, or the compiler failed.

    Example:
        >>> build("tiny", "/tmp/hello").stat().st_size
        170
    """
    if variant not in VARIANTS:
        raise LabkitError(f"unknown hello variant {variant!r}", hint=f"use one of {', '.join(VARIANTS)}")
    arch = host.machine_arch(arch) if arch else default_arch()
    if arch not in ARCHES:
        raise LabkitError(f"unknown architecture {arch!r}", hint=f"use one of {', '.join(ARCHES)}")
    out = Path(out)
    if variant == "tiny":
        data = tiny_elf(message, arch)
    else:
        data = _compile(variant, message, arch)
    try:
        out.write_bytes(data)
        out.chmod(0o755)
    except OSError as err:
        raise LabkitError(f"cannot write {out}: {err.strerror}") from None
    return out


def link_map(variant: str = "glibc-static", message: bytes = DEFAULT_MESSAGE,
             arch: str = "x86_64") -> str:
    """Compile the ``variant`` hello as :func:`build` does, and return the linker's map
    (``-Wl,-Map``): which library members it copied in, and why (``labkit.linkmap``).

    Raises:
        MissingTool: as :func:`build`.
    """
    with tempfile.TemporaryDirectory(prefix="labkit-map-") as tmp:
        path = Path(tmp) / "hello.map"
        _compile(variant, message, arch, extra=[f"-Wl,-Map={path}"])
        return path.read_text(errors="replace")


def _compile(variant: str, message: bytes, arch: str, extra: list[str] = ()) -> bytes:
    compiler = _check_can_build(variant, arch)
    with tempfile.TemporaryDirectory(prefix="labkit-hello-") as tmp:
        work = Path(tmp)
        (work / "hello.c").write_text(C_SOURCE)
        (work / "message.h").write_text(
            f"#define MESSAGE {c_string(message)}\n#define MESSAGE_LEN {len(message)}L\n")
        command = [compiler, *_FLAGS, *_VARIANT_FLAGS[variant], *extra, "-o", "hello", "hello.c"]
        done = subprocess.run(command, cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise LabkitError(f"{Path(compiler).name} failed for the {variant} hello: {last}")
        return (work / "hello").read_bytes()


# --- describe ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BinaryInfo:
    """What an ELF file is, as the lab needs to know it.

    Attributes:
        path: the file.
        size: bytes on disk.
        arch: ``x86_64``, ``aarch64`` or the ELF machine name.
        static: True when there is no program interpreter (nothing to load at start).
        interpreter: the ``PT_INTERP`` path (the dynamic loader), or None.
        stripped: True when there is no symbol table.
        message_len: the message length when the file is labkit's tiny hello.
    """

    path: str
    size: int
    arch: str
    static: bool
    interpreter: str | None
    stripped: bool
    message_len: int | None = None

    def summary(self) -> str:
        """One line, e.g. ``x86_64 static ELF, 170 bytes (message 20), stripped``."""
        kind = "static ELF" if self.static else f"dynamic ELF (interpreter {self.interpreter})"
        text = f"{self.arch} {kind}, {self.size:,} bytes"
        if self.message_len is not None:
            text += f" (message {self.message_len:,}, overhead {self.size - self.message_len:,})"
        return text + (", stripped" if self.stripped else ", not stripped")

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)


def describe(path: str | Path) -> BinaryInfo:
    """Read an ELF file's size, architecture, linking and interpreter (via pyelftools).

    Raises:
        LabkitError: the file can't be read or is not an ELF file.

    Example:
        >>> describe(build("tiny", "/tmp/hello")).summary()
        'x86_64 static ELF, 170 bytes (message 20, overhead 150), stripped'
    """
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise LabkitError(f"cannot read {path}: {err.strerror}") from None
    try:
        with io.BytesIO(data) as stream:
            elf = ELFFile(stream)
            machine = elf["e_machine"]
            arch = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64"}.get(machine, machine)
            interpreter = next((seg.get_interp_name() for seg in elf.iter_segments()
                                if seg["p_type"] == "PT_INTERP"), None)
            stripped = elf.get_section_by_name(".symtab") is None
    except (ELFError, struct.error, ValueError) as err:
        raise LabkitError(f"{path} is not an ELF executable ({err})",
                          hint="describe() reads ELF binaries such as labkit.hello.build's") from None
    message = _tiny_message(data, arch) if arch in _CODE else None
    return BinaryInfo(path=str(path), size=len(data), arch=arch, static=interpreter is None,
                      interpreter=interpreter, stripped=stripped,
                      message_len=None if message is None else len(message))
