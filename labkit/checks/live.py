"""The engine a checker judges with: the one the lab uses, when it answers.

A checker loads the learner's image, runs it as ``docker run`` would, and removes
what it loaded -- unless the engine already had that image (the learner loaded it
themselves): then it is left alone. labkit removes images by name only, so an image
loaded without one (a tarball with no tag) is first given a name of the check's own.

``LABKIT_CHECK_ENGINE=0`` makes checkers judge without an engine (tests of the rules).

Example:
    >>> import os
    >>> os.environ["LABKIT_CHECK_ENGINE"] = "0"
    >>> engine() is None
    True
    >>> del os.environ["LABKIT_CHECK_ENGINE"]
"""
from __future__ import annotations

import contextlib
import os
import secrets

from labkit import engine as engine_mod
from labkit.engine.images import is_image_id
from labkit.errors import LabkitError


def engine():
    """The engine the lab uses (``DOCKER_HOST`` or the default), or None."""
    if os.environ.get("LABKIT_CHECK_ENGINE") == "0":
        return None
    return engine_mod.try_connect(timeout=5)


def has_image(eng, ref: str) -> bool:
    """True when the engine holds ``ref`` (a name or an ID)."""
    try:
        eng.inspect(ref)
        return True
    except LabkitError:
        return False


@contextlib.contextmanager
def loaded(eng, path, config_digest: str):
    """``docker load -i path`` for the ``with`` block; yields the image ID to run.

    Raises:
        LabkitError: the engine refused the file (its own words).
    """
    before = has_image(eng, config_digest)
    refs = eng.load(path)
    present = has_image(eng, config_digest)
    names = [ref for ref in refs if not is_image_id(ref)]
    if not before and not names and present:
        names = [f"{engine_mod.namespace()}/check:{secrets.token_hex(4)}"]
        with contextlib.suppress(Exception):     # the SDK's errors: then it stays, untagged
            eng.api.tag(config_digest, *names[0].rsplit(":", 1))
    try:
        yield config_digest if present else (refs[0] if refs else config_digest)
    finally:
        if not before:
            for ref in names:
                with contextlib.suppress(LabkitError):
                    eng.remove(ref)


def run(eng, ref: str, args: list[str] | None = None, timeout: float = 20):
    """``docker run --rm --network none REF [ARGS...]``: the engine's RunResult."""
    return eng.run(ref, list(args) if args else None, timeout=timeout)


def close(eng) -> None:
    """Let go of the engine's connection."""
    if eng is not None:
        with contextlib.suppress(Exception):
            eng.api.close()
