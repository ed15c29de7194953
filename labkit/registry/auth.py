"""Basic authentication for the lab's registry: an htpasswd file, as ``docker-registry``'s
``auth: htpasswd`` reads it.

Distribution 2.8 reads only bcrypt entries in that file ("The only supported password
format is bcrypt": its docs/configuration.md, section htpasswd). labkit makes them without a new
Python dependency: with the C library's ``crypt`` (libxcrypt, on every Debian and Ubuntu:
``$2y$`` hashes) through ctypes, else with Apache's ``htpasswd -nbB`` (Debian's
``apache2-utils``). Basic authentication sends the password with every request, only
base64-encoded: distribution's docs ask for TLS with it; the lab's registry listens on
127.0.0.1 only.

Example:
    >>> line = htpasswd_line("student", "let-me-in")             # doctest: +SKIP
    >>> line.startswith("student:$2y$05$")                         # doctest: +SKIP
    True
    >>> print(config_section("/tmp/r/htpasswd"), end="")
    auth:
      htpasswd:
        realm: labkit
        path: /tmp/r/htpasswd
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
from pathlib import Path

from labkit.errors import MissingTool, RegistryError

#: bcrypt's cost (2^cost rounds): 5 is ``htpasswd -B``'s default; the registry checks the
#: password on every request, so a lab keeps it low.
COST = 5
REALM = "labkit"
_USER = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _libcrypt():
    """The C library's crypt and crypt_gensalt through ctypes, or None."""
    for name in ("libcrypt.so.1", ctypes.util.find_library("crypt")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.crypt.restype, lib.crypt.argtypes = ctypes.c_char_p, [ctypes.c_char_p, ctypes.c_char_p]
            lib.crypt_gensalt.restype = ctypes.c_char_p
            lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
            return lib
        except (OSError, AttributeError):
            continue
    return None


def bcrypt(password: str, cost: int = COST) -> str:
    """A bcrypt hash of ``password`` (``$2y$05$…``, 60 characters), as htpasswd files hold.

    Raises:
        MissingTool: neither the C library's bcrypt nor ``htpasswd`` is here.

    Example:
        >>> h = bcrypt("let-me-in")                                 # doctest: +SKIP
        >>> len(h), h[:7], verify("let-me-in", h)                   # doctest: +SKIP
        (60, '$2y$05$', True)
    """
    lib = _libcrypt()
    if lib is not None:
        salt = lib.crypt_gensalt(b"$2y$", cost, os.urandom(16), 16)
        hashed = lib.crypt(password.encode(), salt) if salt else None
        if hashed and hashed.startswith(b"$2"):
            return hashed.decode()
    program = shutil.which("htpasswd")
    if program is None:
        raise MissingTool("no bcrypt here: the C library's crypt cannot make one and htpasswd is not installed",
                          hint="apt-get install apache2-utils")
    done = subprocess.run([program, "-nbB", "-C", str(cost), "user", password], capture_output=True,
                          text=True, timeout=30)
    if done.returncode != 0 or ":" not in done.stdout:
        raise RegistryError(f"htpasswd failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip().split(":", 1)[1]


def verify(password: str, hashed: str) -> bool:
    """True when ``password`` matches the bcrypt ``hashed`` (through the C library), else False.

    Example:
        >>> verify("x", "not a hash")
        False
    """
    lib = _libcrypt()
    if lib is None or not hashed.startswith("$2"):
        return False
    got = lib.crypt(password.encode(), hashed.encode())
    return bool(got) and got.decode() == hashed


def htpasswd_line(user: str, password: str) -> str:
    """``user:<bcrypt hash>``, one line of an htpasswd file.

    Raises:
        RegistryError: the user name holds characters an htpasswd line cannot (``:``, spaces).
    """
    if not _USER.fullmatch(user or ""):
        raise RegistryError(f"expected a user name of letters, digits and . _ -, got {user!r}")
    return f"{user}:{bcrypt(password)}"


def write_htpasswd(path: str | Path, users: dict[str, str]) -> Path:
    """Write ``users`` (name -> password) as an htpasswd file at ``path``; returns it."""
    path = Path(path)
    path.write_text("".join(htpasswd_line(user, password) + "\n" for user, password in users.items()))
    path.chmod(0o600)
    return path


def config_section(htpasswd: str | Path, realm: str = REALM) -> str:
    """The ``auth:`` section of a docker-registry config that asks for these users."""
    return f"auth:\n  htpasswd:\n    realm: {realm}\n    path: {htpasswd}\n"
