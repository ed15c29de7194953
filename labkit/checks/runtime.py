"""How the runtime starts a container's process, as rules a checker can apply to an
image file without an engine (checkers 03.2, 03.3 and 05.2).

The rules are Docker's and runc's:

* the command line is ``Entrypoint`` + ``Cmd``, and arguments given to ``docker run``
  replace ``Cmd`` (never ``Entrypoint``); a string where a list belongs is one word
  (moby's ``strslice`` reads ``"a b"`` as ``["a b"]``);
* a first word with a ``/`` is a path (relative ones start at ``WorkingDir``); one
  without is looked up on the container's ``PATH`` -- the image's, or Docker's default
  when the image sets none -- and must be a file with an execute bit there (Go's
  ``exec.LookPath``, which runc calls);
* ``User`` is a name or a number (``name|uid[:group|gid]``): names are looked up in
  the image's own ``/etc/passwd`` and ``/etc/group``, numbers need neither
  (moby/sys/user ``GetExecUser``);
* the kernel then opens the file as that user: every folder on the way must let them
  in, the file must let them execute it, and it must be an ELF program (whose loader,
  if it names one, is in the image) or a ``#!`` script whose interpreter is.

Example:
    >>> command_line({"Entrypoint": ["/busybox", "echo", "hello"], "Cmd": ["world"]}, ["you"])
    ['/busybox', 'echo', 'hello', 'you']
    >>> words("echo hello")
    ['echo hello']
"""
from __future__ import annotations

import dataclasses
import posixpath
import tempfile
from pathlib import Path

from labkit import hello, oci
from labkit.errors import LabkitError
from labkit.oci.merge import Tree

#: The runtime's ``PATH`` when the image sets none (moby ``oci.DefaultPathEnv``).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Bytes a checker unpacks at most (the lab's images are a few megabytes).
MAX_UNPACK = 256 * 1024 * 1024
_SYMLINK_HOPS = 40


def words(value) -> list[str]:
    """A config's ``Cmd`` or ``Entrypoint`` as the engine reads it: a list of strings;
    one string is one word; ``None`` is none.

    Example:
        >>> words(["/hello"]), words("/hello"), words(None)
        (['/hello'], ['/hello'], [])
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def command_line(config: dict, args: list[str] | None = None) -> list[str]:
    """The argv ``docker run IMAGE [ARGS...]`` starts: Entrypoint + (ARGS, or else Cmd).

    Example:
        >>> command_line({"Cmd": ["/busybox", "echo", "hi"]}, ["you"])
        ['you']
    """
    return words(config.get("Entrypoint")) + (list(args) if args else words(config.get("Cmd")))


def env_path(config: dict) -> str:
    """The ``PATH`` the container gets: the image's last ``PATH=``, or Docker's default."""
    found = DEFAULT_PATH
    for item in words(config.get("Env")):
        if item.startswith("PATH="):
            found = item[5:]
    return found


class Fault(Exception):
    """Why the process would not start: ``words`` is what the runtime says (runc's
    error text, as of 1.1), ``why`` the reason in the lab's words, ``hint`` the fix."""

    def __init__(self, words_: str, why: str, hint: str = ""):
        super().__init__(words_)
        self.words, self.why, self.hint = words_, why, hint
        self.argv: list[str] = []     # the command line that failed


@dataclasses.dataclass
class Start:
    """What starting the process did: the argv, the program file the kernel runs
    (after links), the user, and what the file is."""

    argv: list[str]
    program: str           # the path in the image, after links ("bin/busybox")
    uid: int
    gid: int
    kind: str              # "busybox", "stand-in", "elf", "script"
    notes: list[str] = dataclasses.field(default_factory=list)


class Rootfs:
    """The merged filesystem of an image file, unpacked into a temporary folder (use it
    with ``with``). ``nodes`` is path -> TarEntry, after whiteouts."""

    def __init__(self, path, info=None):
        self.path, self.info = path, info if info is not None else oci.inspect(path)
        self.config = self.info.config.get("config") or {}
        tree = Tree()
        for layer in self.info.layers:
            tree.begin_layer()
            for entry in layer.entries:
                if entry.type == "hardlink" and entry.link_path in tree.nodes:   # the inode's mode
                    entry = dataclasses.replace(entry, mode=tree.nodes[entry.link_path].mode)
                tree.apply(entry)
        self.nodes = tree.nodes
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> "Rootfs":
        self._tmp = tempfile.TemporaryDirectory(prefix="labkit-check-")
        try:
            oci.extract(self.path, Path(self._tmp.name) / "root", max_bytes=MAX_UNPACK)
        except LabkitError:
            self._tmp.cleanup()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def read(self, path: str, limit: int | None = None) -> bytes:
        """The bytes of the regular file at ``path`` (resolved) in the image."""
        assert self._tmp is not None, "use Rootfs in a with block"
        with open(Path(self._tmp.name) / "root" / path, "rb") as f:
            return f.read(limit) if limit else f.read()

    def file_path(self, path: str) -> Path:
        """Where the unpacked copy of ``path`` lies on this machine."""
        assert self._tmp is not None, "use Rootfs in a with block"
        return Path(self._tmp.name) / "root" / path

    def resolve(self, path: str, cwd: str = "/") -> tuple[str, object | None]:
        """``(path, entry)`` that ``path`` names after following symbolic links in any
        folder on the way, as the kernel does; ``entry`` is None when nothing is there."""
        parts = [p for p in posixpath.normpath(posixpath.join("/", cwd, path)).split("/") if p]
        resolved, hops = "", 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                resolved = posixpath.dirname(resolved)
                continue
            candidate = posixpath.join(resolved, part) if resolved else part
            entry = self.nodes.get(candidate)
            if entry is None or entry.type != "symlink":
                if entry is None and parts:
                    return candidate, None
                resolved = candidate
                continue
            hops += 1
            if hops > _SYMLINK_HOPS:
                return candidate, None
            base = "/" if entry.linkname.startswith("/") else "/" + resolved
            target = posixpath.normpath(posixpath.join(base, entry.linkname))
            parts = [p for p in target.split("/") if p] + parts
            resolved = ""
        return resolved, self.nodes.get(resolved) if resolved else None

    def folders_on_the_way(self, path: str) -> list:
        """The folder entries above ``path`` (resolved) that the image holds."""
        parts = path.split("/")[:-1]
        return [self.nodes[p] for p in ("/".join(parts[:i]) for i in range(1, len(parts) + 1))
                if p in self.nodes]

    def accounts(self, name: str) -> list[list[str]] | None:
        """The lines of ``/etc/<name>`` as fields, or None when the image has none."""
        path, entry = self.resolve(f"/etc/{name}")
        if entry is None or entry.type != "file":
            return None
        lines = self.read(path).decode("utf-8", "replace").splitlines()
        return [ln.strip().split(":") for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _number(field: str) -> int:
    # Like Go's strconv.Atoi with the error ignored, as moby/sys/user parses these files.
    return int(field) if field.isdigit() else 0


def exec_user(spec: str, passwd: list[list[str]] | None, group: list[list[str]] | None
              ) -> tuple[int, int, list[int]]:
    """``(uid, gid, supplementary gids)`` the runtime starts the program as, for the
    config's ``User``, following moby/sys/user's GetExecUser.

    Raises:
        ValueError: the runtime's own words when it cannot find the user or group.

    Example:
        >>> exec_user("65534", None, None)
        (65534, 0, [])
        >>> exec_user("nobody", None, None)
        Traceback (most recent call last):
        ...
        ValueError: unable to find user nobody: no matching entries in passwd file
    """
    name, _, group_name = str(spec).strip().partition(":")
    uid, gid, sgids, matched = 0, 0, [], ""
    if name:
        rows = [r for r in passwd or [] if r[0] == name or (name.isdigit() and len(r) > 2
                                                             and _number(r[2]) == int(name))]
        if rows:
            row = rows[0] + [""] * 4
            matched, uid, gid = row[0], _number(row[2]), _number(row[3])
        elif name.isdigit():
            uid = int(name)
        else:
            raise ValueError(f"unable to find user {name}: no matching entries in passwd file")
    if group_name:
        rows = [r for r in group or [] if r[0] == group_name or (group_name.isdigit() and len(r) > 2
                                                                 and _number(r[2]) == int(group_name))]
        if rows:
            gid = _number((rows[0] + [""] * 3)[2])
        elif group_name.isdigit():
            gid = int(group_name)
        else:
            raise ValueError(f"unable to find group {group_name}: no matching entries in group file")
    elif matched:
        sgids = [_number((r + [""] * 4)[2]) for r in group or [] if matched in (r + [""] * 4)[3].split(",")]
    return uid, gid, sgids


def may(entry, bit: int, uid: int, gid: int, sgids: list[int]) -> bool:
    """The kernel's permission check of ``entry`` (its mode and owner) for ``bit`` (1 =
    execute or enter); root passes when any execute bit is set (files) or always (folders)."""
    mode = entry.mode & 0o777
    if uid == 0:
        return entry.type == "dir" or bool(mode & 0o111)
    if uid == entry.uid:
        return bool(mode & (bit << 6))
    if entry.gid in (gid, *sgids):
        return bool(mode & (bit << 3))
    return bool(mode & bit)


def find_program(fs: Rootfs, name: str) -> tuple[str, object]:
    """``(path in the image, entry)`` of the program ``name``, as runc finds it.

    Raises:
        Fault: nothing runnable is there.
    """
    workdir = fs.config.get("WorkingDir") or "/"
    if "/" in name:
        path, entry = fs.resolve(name, workdir)
        if entry is None:
            raise Fault(f'exec: "{name}": stat {name}: no such file or directory',
                        f"there is no {name} in the image" + _dangling(fs, name, workdir),
                        "name the path where the program is in the image")
        if entry.type == "dir":
            raise Fault(f'exec: "{name}": is a directory', f"{name} is a folder, not a program")
        if not entry.mode & 0o111:
            raise Fault(f'exec: "{name}": permission denied',
                        f"{name} is mode {entry.mode & 0o7777:04o}: no execute bit at all",
                        "mode=0o755 on the file")
        return path, entry
    search = env_path(fs.config)
    for folder in search.split(":"):
        path, entry = fs.resolve(posixpath.join(folder or workdir, name), workdir)
        if entry is not None and entry.type != "dir" and entry.mode & 0o111:
            return path, entry
    where = "the image's PATH" if search != DEFAULT_PATH else "Docker's default PATH (the image sets none)"
    raise Fault(f'exec: "{name}": executable file not found in $PATH',
                f"{name!r} has no / in it, so the runtime looks it up on {where}, {search}, "
                "and finds no program of that name there", f'a path: ["/{name}"], or the program in a folder on PATH')


def _dangling(fs: Rootfs, name: str, workdir: str) -> str:
    """``" (/bin/sh is a symbolic link to /bin/busybox, which is not there)"``, or ``""``."""
    parts = [p for p in posixpath.normpath(posixpath.join("/", workdir, name)).split("/") if p]
    for i in range(1, len(parts) + 1):
        entry = fs.nodes.get("/".join(parts[:i]))
        if entry is not None and entry.type == "symlink":
            return f" (/{'/'.join(parts[:i])} is a symbolic link to {entry.linkname}, which is not there)"
    return ""


def start(fs: Rootfs, args: list[str] | None = None) -> Start:
    """What happens at ``docker run IMAGE [ARGS...]`` up to the program's first
    instruction.

    Raises:
        Fault: why the process would not start (``.argv``: the command line).
    """
    argv = command_line(fs.config, args)
    try:
        return _start(fs, argv)
    except Fault as fault:
        fault.argv = argv
        raise


def config_fault(config: dict) -> Fault | None:
    """What the engine refuses in the config itself (``docker load`` fails): a ``User``
    that is not text, a command that is not text or a list of text."""
    user = config.get("User")
    if user is not None and not isinstance(user, str):
        return Fault(f"json: cannot unmarshal {_json_kind(user)} into Go struct field Config.config.User of type string",
                     f"the config's User is {user!r}, not text: the engine refuses to load the image",
                     f'user="{user}"')
    for key in ("Entrypoint", "Cmd", "Env"):
        value = config.get(key)
        if value is not None and not isinstance(value, str) and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return Fault(f"json: cannot unmarshal {_json_kind(value)} into Go value of type []string",
                         f"the config's {key} is {value!r}: the engine wants a list of strings",
                         f'{key.lower()}=["/hello"]')
    return None


def _json_kind(value) -> str:
    return {bool: "bool", int: "number", float: "number", dict: "object", list: "array"}.get(type(value), "value")


def _start(fs: Rootfs, argv: list[str]) -> Start:
    refused = config_fault(fs.config)
    if refused is not None:
        raise refused
    if not argv:
        raise Fault("no command specified", "the image has neither Entrypoint nor Cmd, and the run gives none",
                    'cmd=["/hello"]')
    if argv[0] == "":
        raise Fault('exec: "": executable file not found in $PATH', "the command's first word is empty")
    spec = str(fs.config.get("User") or "")
    try:            # dockerd reads the image's /etc/passwd before runc looks for the program
        uid, gid, sgids = exec_user(spec, fs.accounts("passwd"), fs.accounts("group"))
    except ValueError as err:
        where = "" if fs.accounts("passwd") is not None else " (the image has no /etc/passwd)"
        raise Fault(str(err), f"USER {spec}: the runtime cannot find it{where}",
                    'user="65534" needs no /etc/passwd; or add etc/passwd with a line for that name') from None
    program, entry = find_program(fs, argv[0])
    closed = next((d for d in fs.folders_on_the_way(program) if not may(d, 1, uid, gid, sgids)), None)
    if closed is not None:
        raise Fault(f'exec: "{argv[0]}": permission denied',
                    f"the folder /{closed.path} is mode {closed.mode & 0o7777:04o}: uid {uid} (gid {gid}) "
                    "may not enter it", f"mode=0o755 on the folder /{closed.path}")
    if not may(entry, 1, uid, gid, sgids):
        raise Fault(f'exec: "{argv[0]}": permission denied',
                    f"{argv[0]} is mode {entry.mode & 0o7777:04o}: uid {uid} (gid {gid}) may not execute it",
                    "mode=0o755 on the file")
    kind, notes = _what_runs(fs, program, argv[0])
    return Start(argv, program, uid, gid, kind, notes)


def _what_runs(fs: Rootfs, program: str, name: str) -> tuple[str, list[str]]:
    """What the kernel makes of the file: ``(kind, notes)``, or a Fault."""
    head = fs.read(program, 256)
    if head.startswith(b"#!"):
        interpreter = head[2:].split(b"\n")[0].strip().split(b" ")[0].decode("utf-8", "replace")
        if fs.resolve(interpreter)[1] is None:
            raise Fault(f'exec: "{name}": no such file or directory',
                        f"{name} is a script for {interpreter}, which the image lacks")
        return "script", []
    if not head.startswith(b"\x7fELF"):
        raise Fault(f'exec: "{name}": exec format error', f"{name} is not a program the kernel can start "
                    "(not ELF, no #! line)", "use a program built for Linux")
    try:
        binary = hello.describe(fs.file_path(program))
    except LabkitError:
        raise Fault(f'exec: "{name}": exec format error', f"{name} is a broken ELF file") from None
    if not binary.static and fs.resolve(binary.interpreter or "")[1] is None:
        raise Fault(f'exec: "{name}": no such file or directory',
                    f"{name} is dynamically linked: the kernel needs {binary.interpreter}, which the image lacks",
                    "use a static program")
    notes = []
    wanted = {"x86_64": "amd64", "aarch64": "arm64"}.get(binary.arch, binary.arch)
    said = fs.info.config.get("architecture", wanted)
    if wanted != said:
        notes.append(f"(Your config says {said} for an {binary.arch} program: docker run warns that the "
                     f"platforms differ, then runs it on an engine of the program's architecture. "
                     f"architecture=\"{wanted}\" says what it is.)")
    data = fs.read(program)
    if b"labkit stand-in for busybox" in data:
        return "stand-in", notes
    return ("busybox" if b"BusyBox v" in data else "elf"), notes
