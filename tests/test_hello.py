"""labkit.hello: the tiny ELF (run natively, under qemu, and FROM scratch), the compiled
variants, and describe()."""
from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from conftest import need, need_tool
from labkit import hello
from labkit.errors import LabkitError, MissingTool

MESSAGES = [
    b"",
    hello.DEFAULT_MESSAGE,
    b'quotes " backslash \\ trigraph ??= NUL \x00 high \xff\n',
    bytes(range(256)),
    b"line\n" * 20_000,          # 100,000 bytes: more than one pipe buffer, the loop shape
]


def run_native(path) -> subprocess.CompletedProcess:
    return subprocess.run([str(path)], capture_output=True, timeout=10)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{len(m)}B")
def test_tiny_x86_64_writes_exactly_the_message(tmp_path, message):
    path = hello.build("tiny", tmp_path / "hello", message)
    done = run_native(path)
    assert (done.returncode, done.stdout, done.stderr) == (0, message, b"")


@pytest.mark.parametrize("arch", hello.ARCHES)
def test_tiny_overhead_is_at_most_160_bytes(arch):
    for message in MESSAGES[:4]:
        assert len(hello.tiny_elf(message, arch)) - len(message) <= 160


def test_tiny_exits_1_when_stdout_is_closed(tmp_path):
    path = hello.build("tiny", tmp_path / "hello")
    done = subprocess.run([str(path)], stdout=subprocess.DEVNULL, timeout=10,
                          preexec_fn=lambda: os.close(1))
    assert done.returncode == 1


# The recorded observations (data/observations) hold diff_ids of images built from these
# bytes: changing the tiny hello means re-recording them.
GOLDEN_SHA256 = {
    "x86_64": "d4a59ce4677818bd673f5a2b3173b3fe86956725a96ae94e161ce255ab8c5b51",
    "aarch64": "77be3fd545ab2510f909498c24f7fbd459dcac2bb1ef6425b88354c5b65c3d4e",
}


@pytest.mark.parametrize("arch", hello.ARCHES)
def test_tiny_default_bytes_are_pinned(arch):
    data = hello.tiny_elf(hello.DEFAULT_MESSAGE, arch)
    assert hashlib.sha256(data).hexdigest() == GOLDEN_SHA256[arch]


def test_tiny_is_deterministic():
    assert hello.tiny_elf(b"same\n") == hello.tiny_elf(b"same\n")
    assert hello.tiny_elf(b"a\n") != hello.tiny_elf(b"b\n")


@pytest.mark.parametrize("arch, machine", [("x86_64", "EM_X86_64"), ("aarch64", "EM_AARCH64")])
def test_tiny_is_a_well_formed_elf(tmp_path, arch, machine):
    path = hello.build("tiny", tmp_path / "hello", arch=arch)
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        assert (elf["e_type"], elf["e_machine"], elf.elfclass) == ("ET_EXEC", machine, 64)
        (segment,) = list(elf.iter_segments())
        assert segment["p_type"] == "PT_LOAD"
        assert segment["p_filesz"] == path.stat().st_size
        start = segment["p_vaddr"]
        assert start < elf["e_entry"] < start + segment["p_memsz"]
        assert segment["p_vaddr"] % segment["p_align"] == segment["p_offset"] % segment["p_align"]


@pytest.mark.tools
@pytest.mark.parametrize("arch, words", [("x86_64", "x86-64"), ("aarch64", "ARM aarch64")])
def test_file_command_accepts_tiny(tmp_path, arch, words):
    file_cmd = need_tool("file")
    path = hello.build("tiny", tmp_path / "hello", arch=arch)
    out = subprocess.run([file_cmd, "-b", str(path)], capture_output=True, text=True).stdout
    assert out.startswith("ELF 64-bit LSB executable") and words in out and "statically linked" in out


@pytest.mark.tools
@pytest.mark.parametrize("message", [hello.DEFAULT_MESSAGE, b"", MESSAGES[-1]],
                         ids=["default", "empty", "large"])
def test_tiny_aarch64_runs_under_qemu(tmp_path, message):
    qemu = need_tool("qemu-aarch64-static")
    path = hello.build("tiny", tmp_path / "hello", message, arch="aarch64")
    done = subprocess.run([qemu, str(path)], capture_output=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, message)


@pytest.mark.engine
def test_tiny_runs_from_scratch_on_the_engine(engine, tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n')
    hello.build("tiny", tmp_path / "hello", MESSAGES[2])
    image = engine.build(tmp_path, "labkit-test/tiny-hello:latest")
    try:
        result = engine.run(image)
        assert (result.exit_code, result.stdout, result.error) == (0, MESSAGES[2], None)
    finally:
        engine.remove("labkit-test/tiny-hello:latest")


# --- compiled variants ------------------------------------------------------------------
COMPILED = [v for v in hello.VARIANTS if v != "tiny"]


def _need_variant(variant: str) -> None:
    need_tool("musl-gcc" if variant == "musl-static" else "gcc")
    reason = hello.available()[variant]
    if reason:
        need("tools", reason)


@pytest.mark.tools
@pytest.mark.parametrize("variant", COMPILED)
def test_compiled_variant_writes_the_message(tmp_path, variant):
    _need_variant(variant)
    message = MESSAGES[2]
    path = hello.build(variant, tmp_path / "hello", message)
    done = run_native(path)
    assert (done.returncode, done.stdout) == (0, message)


@pytest.mark.tools
@pytest.mark.parametrize("variant", COMPILED)
def test_compiled_variant_is_reproducible(tmp_path, variant):
    _need_variant(variant)
    first = hello.build(variant, tmp_path / "a").read_bytes()
    second = hello.build(variant, tmp_path / "b").read_bytes()
    assert first == second


@pytest.mark.tools
@pytest.mark.parametrize("variant, static", [("nostdlib", True), ("musl-static", True),
                                             ("glibc-static", True), ("dynamic", False)])
def test_describe_compiled_variants(tmp_path, variant, static):
    _need_variant(variant)
    info = hello.describe(hello.build(variant, tmp_path / "hello"))
    assert (info.arch, info.static, info.stripped, info.message_len) == ("x86_64", static, True, None)
    assert (info.interpreter is None) == static
    if not static:
        assert info.interpreter.startswith("/lib") and "ld-linux" in info.interpreter
        assert "dynamic ELF (interpreter /lib" in info.summary()


def test_missing_compiler_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # nothing on PATH
    with pytest.raises(MissingTool, match="musl-tools"):
        hello.build("musl-static", tmp_path / "hello")
    with pytest.raises(MissingTool, match="apt-get install gcc"):
        hello.build("dynamic", tmp_path / "hello")
    assert not (tmp_path / "hello").exists()
    reasons = hello.available()
    assert reasons["tiny"] is None and all(reasons[v] for v in COMPILED)


def test_unknown_variant_and_arch_are_refused(tmp_path):
    with pytest.raises(LabkitError, match="unknown hello variant"):
        hello.build("busybox", tmp_path / "hello")
    with pytest.raises(LabkitError, match="unknown architecture"):
        hello.tiny_elf(b"x", "riscv64")


def test_c_string_escapes_every_unsafe_byte():
    assert hello.c_string(b'a"\\?\n\x00\xff9') == '"a\\042\\134\\077\\012\\000\\3779"'


def test_c_source_is_the_package_file():
    assert "MESSAGE" in hello.C_SOURCE and "_start" in hello.C_SOURCE


# --- describe ---------------------------------------------------------------------------
@pytest.mark.parametrize("arch", hello.ARCHES)
@pytest.mark.parametrize("message", [b"", hello.DEFAULT_MESSAGE, MESSAGES[-1]],
                         ids=["empty", "default", "large"])
def test_describe_recognises_the_tiny_hello(tmp_path, arch, message):
    info = hello.describe(hello.build("tiny", tmp_path / "hello", message, arch=arch))
    assert (info.arch, info.static, info.interpreter, info.stripped) == (arch, True, None, True)
    assert info.message_len == len(message)
    assert f"overhead {info.size - len(message)}" in info.summary()


def test_describe_a_system_binary():
    info = hello.describe(os.path.realpath(sys.executable))
    assert info.message_len is None and info.size > 0


def test_describe_refuses_what_is_not_elf(tmp_path):
    (tmp_path / "script").write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(LabkitError, match="not an ELF"):
        hello.describe(tmp_path / "script")
    with pytest.raises(LabkitError, match="cannot read"):
        hello.describe(tmp_path / "missing")
    (tmp_path / "truncated").write_bytes(hello.tiny_elf()[:40])
    with pytest.raises(LabkitError, match="not an ELF"):
        hello.describe(tmp_path / "truncated")


@pytest.mark.tools
@pytest.mark.parametrize("variant", ["nostdlib", "glibc-static"])
def test_compiled_aarch64_variant_runs_under_qemu(tmp_path, variant):
    need_tool("aarch64-linux-gnu-gcc")
    qemu = need_tool("qemu-aarch64-static")
    reason = hello.available("aarch64")[variant]
    if reason:
        need("tools", reason)
    path = hello.build(variant, tmp_path / "hello", MESSAGES[2], arch="aarch64")
    assert hello.describe(path).arch == "aarch64"
    done = subprocess.run([qemu, str(path)], capture_output=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, MESSAGES[2])


def test_musl_static_for_another_arch_is_refused(tmp_path):
    other = "aarch64" if platform.machine() in ("x86_64", "amd64") else "x86_64"
    with pytest.raises(MissingTool, match=f"musl-static for {other}"):
        hello.build("musl-static", tmp_path / "hello", arch=other)


def test_write_context_holds_what_the_dockerfile_copies(tmp_path):
    paths = hello.write_context(tmp_path / "ctx", b"from the context\n")
    assert [p.name for p in paths] == ["hello.c", "message.h", "Dockerfile"]
    assert (tmp_path / "ctx" / "Dockerfile").read_text() == hello.MULTI_STAGE_DOCKERFILE
    assert '"from the context\\012"' in (tmp_path / "ctx" / "message.h").read_text()


@pytest.mark.tools
def test_the_multi_stage_compile_step_builds_from_the_context(tmp_path):
    """The build stage's RUN, word for word (but writing into the context, not /): the
    context is complete and the program is static."""
    need_tool("musl-gcc")
    hello.write_context(tmp_path, b"multi-stage\n")
    run = [line for line in hello.MULTI_STAGE_DOCKERFILE.splitlines() if "musl-gcc" in line][0]
    words = run.removeprefix("RUN ").replace("-o /hello", "-o hello").split()
    subprocess.run(words, cwd=tmp_path, check=True, capture_output=True)
    assert hello.describe(tmp_path / "hello").static
    assert run_native(tmp_path / "hello").stdout == b"multi-stage\n"


def test_write_context_refuses_a_folder_it_cannot_write(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(LabkitError, match="cannot write the build context"):
        hello.write_context(tmp_path / "file" / "ctx")


# --- elf_fields: every byte named (labkit/hello/layout.py) ----------------------------------
@pytest.mark.parametrize("arch", hello.ARCHES)
@pytest.mark.parametrize("message", MESSAGES[:2] + [b"x" * 70_000], ids=lambda m: f"{len(m)}B")
def test_elf_fields_name_every_byte_of_the_tiny_hello(arch, message):
    from labkit.bytefields import totals

    data = hello.tiny_elf(message, arch)
    parts = dict(totals(hello.elf_fields(data)))
    assert parts["ELF header"] == 64 and parts["program header"] == 56
    assert parts.get("message", 0) == len(message)
    assert sum(parts.values()) == len(data)


def test_the_170_bytes_are_120_of_headers_30_of_instructions_and_the_message(tmp_path):
    from labkit.bytefields import totals

    fields = hello.elf_fields(hello.build("tiny", tmp_path / "hello", arch="x86_64"))
    assert totals(fields) == [("ELF header", 64), ("program header", 56), ("instructions", 30), ("message", 20)]
    named = {f.name: f for f in fields}
    assert named["e_entry"].raw == (0x400078).to_bytes(8, "little")
    assert named["p_filesz"].meaning.startswith("170")
    assert [f.name for f in fields if f.part == "instructions"][-1] == "push 60; pop rax; syscall"


@pytest.mark.parametrize("variant", ["musl-static", "dynamic"])
def test_elf_fields_map_a_compiled_hello_by_segment(tmp_path, variant):
    from labkit.bytefields import totals

    need_tool("musl-gcc" if variant == "musl-static" else "gcc")
    path = hello.build(variant, tmp_path / "hello")
    fields = hello.elf_fields(path)
    parts = [p for p, _ in totals(fields)]
    assert parts[:2] == ["ELF header", "program headers"] and parts[-1] == "section headers"
    assert "padding" in parts
    assert any(".text" in f.meaning for f in fields)
    assert any(".interp" in f.meaning for f in fields) == (variant == "dynamic")


def test_elf_fields_refuse_what_is_not_a_64_bit_program(tmp_path):
    with pytest.raises(LabkitError, match="64-bit little-endian ELF"):
        hello.elf_fields(b"#!/bin/sh\necho hi\n")
    with pytest.raises(LabkitError, match="cannot read"):
        hello.elf_fields(tmp_path / "missing")
