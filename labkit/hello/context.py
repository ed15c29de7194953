"""The build context of the lesson's multi-stage Dockerfile: ``hello.c``, the
``message.h`` it includes, and the ``Dockerfile`` — the folder a learner can take home
and build with ``docker build``.

Example:
    >>> import tempfile
    >>> sorted(p.name for p in write_context(tempfile.mkdtemp()))
    ['Dockerfile', 'hello.c', 'message.h']
"""
from __future__ import annotations

from pathlib import Path

from labkit.errors import LabkitError
from labkit.hello.compiled import C_SOURCE, message_header
from labkit.hello.tiny import DEFAULT_MESSAGE

#: The lab's own compiler base (``labkit build-base`` makes and imports it: Debian's gcc,
#: libc6-dev and musl-tools, so the build needs no registry and no network).
BUILD_BASE = "labkit/build-base:bookworm"
#: The lesson's multi-stage Dockerfile (notebook 02, step 4): musl's static C library
#: in the build stage, one file in the image.
MULTI_STAGE_DOCKERFILE = f"""\
FROM {BUILD_BASE} AS build
COPY hello.c message.h ./
RUN musl-gcc -static -Os -s -o /hello hello.c

FROM scratch
COPY --from=build /hello /hello
ENTRYPOINT ["/hello"]
"""


def write_context(folder: str | Path, message: bytes = DEFAULT_MESSAGE,
                  dockerfile: str = MULTI_STAGE_DOCKERFILE) -> list[Path]:
    """Write ``hello.c``, ``message.h`` and ``Dockerfile`` into ``folder`` (created if
    needed) and return their paths: ``docker build -t hello:multi-stage folder`` builds it.

    Raises:
        LabkitError: the folder cannot be written.
    """
    folder = Path(folder)
    files = {"hello.c": C_SOURCE, "message.h": message_header(message), "Dockerfile": dockerfile}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    except OSError as err:
        raise LabkitError(f"cannot write the build context to {folder}: {err.strerror}") from None
    return [folder / name for name in files]
