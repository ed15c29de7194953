"""A real registry on loopback, and push and pull over the OCI distribution API.

* :mod:`~labkit.registry.server` — Debian's ``docker-registry`` as a plain process
  (``up``, ``status``, ``down``; ``local()`` as a context manager);
* :mod:`~labkit.registry.client` — the HTTP API, one method per request, each logged;
* :mod:`~labkit.registry.transfer` — what a transfer moved; layer compression;
* :mod:`~labkit.registry.push`, :mod:`~labkit.registry.pull` — whole images;
* :mod:`~labkit.registry.stored` — ``describe``: the manifest/index tree a tag names;
* :mod:`~labkit.registry.recorded` — a real registry's exchanges recorded, and replayed
  where ``docker-registry`` is not installed (``start`` and ``local`` then replay them).

labkit talks only to registries on this machine (127.0.0.0/8, ``localhost``, ``[::1]``).

Example:
    >>> from labkit import oci, registry
    >>> with registry.local("/tmp/labkit-doctest-registry") as reg:   # doctest: +SKIP
    ...     done = registry.push(reg, oci.Image([[oci.Entry.file("hi", b"hi")]]), "lab/hi:1")
    ...     [b.action for b in done.blobs]
    ['uploaded', 'uploaded', 'put']
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from labkit.errors import MissingTool, RegistryError
from labkit.registry import recorded
from labkit.registry.client import (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MANIFEST_TYPES,
                                    OCI_INDEX, OCI_MANIFEST, Exchange, Registry, check_repository)
from labkit.registry.recorded import NotRecorded, Recording
from labkit.registry.server import BINARY, Server, answers, default_root, down, status, up, version
from labkit.registry.stored import Descriptor, Manifest, Stored, describe
from labkit.registry.pull import pull
from labkit.registry.push import push
from labkit.registry.transfer import COMPRESSOR, Blob, Transfer, compress, split_reference

__all__ = ["COMPRESSOR", "DOCKER_MANIFEST", "DOCKER_MANIFEST_LIST", "MANIFEST_TYPES", "OCI_INDEX",
           "OCI_MANIFEST", "Blob", "Descriptor", "Exchange", "Manifest", "NotRecorded", "Recording",
           "Registry", "Server",
           "Stored", "Transfer", "answers", "check_repository", "cli", "compress", "connect",
           "default_root", "describe", "down", "export", "local", "pull", "push", "resolve",
           "split_reference", "start", "status", "up"]

LOOPBACK = ("127.", "localhost", "[::1]")


def connect(server_or_url: Server | str) -> Registry:
    """A :class:`Registry` client for a running :class:`Server` or a loopback URL.

    Raises:
        RegistryError: the URL is not on this machine.

    Example:
        >>> connect("http://127.0.0.1:5000").host
        '127.0.0.1:5000'
        >>> connect("https://registry.example.org")
        Traceback (most recent call last):
        labkit.errors.RegistryError: labkit talks only to registries on this machine, not registry.example.org; start one with `labkit registry up`
    """
    url = server_or_url.url if isinstance(server_or_url, Server) else server_or_url
    host = urlsplit(url if "://" in url else f"http://{url}").netloc
    if not host.startswith(LOOPBACK):
        raise RegistryError(f"labkit talks only to registries on this machine, not {host}",
                            hint="start one with `labkit registry up`")
    reg = Registry(url if "://" in url else f"http://{url}")
    reg.server = server_or_url if isinstance(server_or_url, Server) else None
    return reg


def start(root: str | Path | None = None, *, users: dict[str, str] | None = None,
          replay: bool = True) -> Registry:
    """Start (or reuse) the registry in ``root`` and return a client for it; it stops when
    this Python process exits, or at :func:`down`.

    Where ``docker-registry`` is not installed, the client replays what a real one
    answered (:mod:`labkit.registry.recorded`; ``.server`` is then a :class:`Recording`)
    and one printed line says so. With ``$LABKIT_RECORD_REGISTRY`` set, a live client's
    exchanges are recorded there.

    Args:
        root: its folder (default :func:`default_root`).
        users: name -> password: a registry that answers ``401`` without them (basic
            authentication); the client returned does not send them until ``.login()``.
        replay: ``False`` (labkit's own scenarios): live only, neither recorded nor replayed.

    Raises:
        MissingTool: no ``docker-registry``, and no replay (``replay=False``, or no recording).

    Example:
        >>> reg = start("/tmp/labkit-doctest-registry")             # doctest: +SKIP
        >>> reg.ping()["Docker-Distribution-Api-Version"]            # doctest: +SKIP
        'registry/2.0'
    """
    try:
        server = up(root, users=users)
    except MissingTool as missing:
        sessions = recorded.load() if replay else []
        if not sessions:
            raise
        reg = Registry(sessions[0]["url"])
        reg.session.mount("http://", recorded.Replay(sessions))
        reg.server = Recording(sessions)
        print(f"{missing.message} here: this registry replays the answers {reg.server.label}; "
              f"apt-get install {BINARY} to run it live")
        return reg
    reg = connect(server)
    keeper = recorded.recorder(server.url, version(), _session_name(server.root)) if replay else None
    if keeper is not None:
        reg.session.mount("http://", keeper)
    return reg


def _session_name(root: Path) -> str:
    """A recorded session's name: the folder as the lesson named it, the process and the time."""
    where = os.path.relpath(root)
    return f"{root.name if where.startswith('..') else where} (pid {os.getpid()}, {time.time():.0f})"


class Exported(str):
    """The shell line that sets a variable (shown as typed, without quotes)."""

    def __repr__(self) -> str:
        return str(self)


def export(registry: Registry | Server | str, name: str = "REGISTRY") -> Exported:
    """Put a registry's address, ``127.0.0.1:PORT``, into this process's environment as
    ``$name``, so that ``%%terminal`` cells (and programs started from here) can type
    ``docker push $REGISTRY/lab/base:1``; returns the line that does the same in a shell.

    The port is free when the registry starts, so it differs from run to run; at a terminal
    of your own, paste the line returned (``labkit registry status`` also names the port).
    A replayed registry (no ``docker-registry`` here) sets nothing, and says so.

    Raises:
        RegistryError: ``name`` is not a shell variable name.

    Example:
        >>> export("http://127.0.0.1:5000")
        export REGISTRY=127.0.0.1:5000
        >>> import os; os.environ["REGISTRY"]
        '127.0.0.1:5000'
    """
    if not name.isidentifier() or not name.isascii():
        raise RegistryError(f"expected a shell variable name such as REGISTRY, got {name!r}")
    recording = getattr(registry, "server", registry)
    if isinstance(recording, Recording):     # nothing listens: %%terminal cells replay theirs
        os.environ.pop(name, None)
        return Exported(f"# {name} is not set: no registry runs here, this one replays the answers "
                        f"{recording.label}")
    url = registry if isinstance(registry, str) else registry.url
    host = urlsplit(url if "://" in url else f"http://{url}").netloc
    os.environ[name] = host
    return Exported(f"export {name}={host}")


@contextlib.contextmanager
def local(root: str | Path | None = None, *, replay: bool = True):
    """A registry for the ``with`` block: started (or reused) in ``root``; stopped and its
    files removed afterwards, unless it was already running before the block. Without
    ``docker-registry`` it replays a recording, as :func:`start` does (``replay=True``).

    Yields:
        a :class:`Registry` client (``.server`` is the :class:`Server`).
    """
    before = status(root)
    reg = start(root, replay=replay)
    try:
        yield reg
    finally:
        reg.close()
        if isinstance(reg.server, Server) and (before is None or not before.healthy):
            down(root)


def resolve(reference: str, root: str | Path | None = None) -> tuple[Registry, str]:
    """``127.0.0.1:PORT/repo:tag`` -> (client, ``repo:tag``); a bare ``repo:tag`` means the
    registry labkit runs in ``root``.

    Raises:
        RegistryError: a bare reference, and no registry runs in ``root``.
    """
    first, _, rest = reference.partition("/")
    if rest and (":" in first or first == "localhost" or first.startswith("127.")):
        return connect(first), rest
    running = status(root)
    if running is None or not running.healthy:
        raise RegistryError(f"no labkit registry runs in {root or default_root()}",
                            hint="start one with `labkit registry up`, or name it: 127.0.0.1:PORT/repo:tag")
    return connect(running), reference


def _print_server(found: Server | None, as_json: bool) -> None:
    if as_json:
        json.dump(found.to_dict() if found else None, sys.stdout, indent=2)
        print()
    elif found is None:
        print("registry: down")
    else:
        state = "up" if found.healthy else ("running, not answering" if found.running else "dead")
        print(f"registry: {state} at {found.url} (pid {found.pid}, folder {found.root})")


def cli(args) -> int:
    """``labkit registry up|status|down [--root DIR] [--json]``,
    ``labkit registry push IMAGE REF``, ``labkit registry pull REF DIR``."""
    if args.action in ("up", "status", "down"):
        if args.action == "up":
            found = up(args.root, detached=True)
        elif args.action == "status":
            found = status(args.root)
        else:
            stopped = down(args.root)
            print("registry: stopped and removed" if stopped else "registry: none was running")
            return 0
        _print_server(found, args.json)
        return 0
    if len(args.operands) != 2:
        raise RegistryError(f"registry {args.action} takes two operands",
                            hint="labkit registry push IMAGE REF, or labkit registry pull REF DIR")
    if args.action == "push":
        reg, ref = resolve(args.operands[1], args.root)
        done = push(reg, args.operands[0], ref, manifest_format=args.format, chunk_size=args.chunk_size)
    else:
        reg, ref = resolve(args.operands[0], args.root)
        done = pull(reg, ref, args.operands[1])
    if args.json:
        json.dump(done.to_dict(), sys.stdout, indent=2)
        print()
    else:
        for blob in done.blobs:
            print(f"{blob.kind:8} {blob.digest}  {blob.size:>12,} B  {blob.action}")
        print(f"{done.reference}: {done.digest} ({done.media_type})")
    return 0
