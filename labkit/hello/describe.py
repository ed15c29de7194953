"""What an ELF file is: architecture, static or dynamic, its interpreter (``PT_INTERP``).

Example:
    >>> from labkit.hello.compiled import build
    >>> describe(build("tiny", "/tmp/hello")).summary()
    'x86_64 static ELF, 170 bytes (message 20, overhead 150), stripped'
"""
from __future__ import annotations

import io
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

from labkit.errors import LabkitError
from labkit.hello.tiny import _STEPS, _tiny_message



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
        >>> from labkit.hello.compiled import build
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
    message = _tiny_message(data, arch) if arch in _STEPS else None
    return BinaryInfo(path=str(path), size=len(data), arch=arch, static=interpreter is None,
                      interpreter=interpreter, stripped=stripped,
                      message_len=None if message is None else len(message))
