"""The image commands of the command line: ``labkit build``, ``inspect`` and ``extract``.

They need nothing but ``labkit.oci``, so ``python -m labkit`` runs them without loading
the rest of labkit (the engine's SDK, the lessons, the class server): ``labkit inspect``
of a 1 GiB image then costs little more than one sha256 of the file
(``bench/bench_inspect.py``). ``labkit.cli`` adds the same commands to the full
command line, and handles errors with the same ``run``.

Example:
    >>> import contextlib, io, pathlib, tempfile
    >>> from labkit.oci.image import Image
    >>> path = Image().write(pathlib.Path(tempfile.mkdtemp()) / "empty.tar")
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     status = main(["inspect", str(path)])
    >>> status, out.getvalue().splitlines()[0]
    (0, 'format        docker-archive')
"""
from __future__ import annotations

import argparse
import json
import sys

from labkit.errors import LabkitError
from labkit.oci.build import build_cli
from labkit.oci.extract import extract
from labkit.oci.reader import inspect

COMMANDS = ("build", "inspect", "extract")


def print_json(data) -> None:
    """``data`` as indented JSON on stdout, keys sorted."""
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def cmd_build(args) -> int:
    out = build_cli(adds=args.add, cmd=args.cmd, entrypoint=args.entrypoint, tag=args.tag,
                    fmt=args.format, era=args.era, output=args.output)
    print(out)
    return 0


def cmd_inspect(args) -> int:
    info = inspect(args.path, ref=args.ref)
    if args.json:
        print_json(info.to_dict())
    else:
        print(info.text())
    return 0


def cmd_extract(args) -> int:
    written = extract(args.path, args.dir, ref=args.ref)
    print(f"extracted {len(written)} entries into {args.dir}")
    if written.summary():
        print(written.summary())
    return 0


def add_commands(sub) -> None:
    """Add ``build``, ``inspect`` and ``extract`` to ``sub`` (an ``add_subparsers`` result)."""
    s = sub.add_parser("build", help="build a FROM scratch image without any engine")
    s.add_argument("--add", action="append", default=[], metavar="SRC:DEST")
    s.add_argument("--cmd", action="append", default=None, metavar="ARG")
    s.add_argument("--entrypoint", action="append", default=None, metavar="ARG")
    s.add_argument("--tag", metavar="T")
    s.add_argument("--format", default="docker-archive",
                   choices=["docker-archive", "oci-archive", "oci-dir"])
    s.add_argument("--era", default="modern", choices=["modern", "20.10", "1.4"])
    s.add_argument("-o", "--output", required=True, metavar="OUT")
    s.set_defaults(func=cmd_build)

    ref_help = "which image, when the file holds several (a tag or a digest); also PATH:REF"
    s = sub.add_parser("inspect", help="read any image tarball or OCI layout (never writes)")
    s.add_argument("path", metavar="PATH[:REF]")
    s.add_argument("--ref", metavar="REF", help=ref_help)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("extract", help="unpack an image's merged root filesystem, safely")
    s.add_argument("path", metavar="PATH[:REF]")
    s.add_argument("dir")
    s.add_argument("--ref", metavar="REF", help=ref_help)
    s.set_defaults(func=cmd_extract)


def run(args) -> int:
    """Run the parsed command ``args.func``: an error is one ``error:`` line and status 2."""
    try:
        return args.func(args)
    except LabkitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as err:  # a path we were given can't be read or written
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {LabkitError(f'{where}{err.strerror or err}')}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``labkit build|inspect|extract ...``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="labkit", description="the image commands of labkit")
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return run(parser.parse_args(argv))
