"""The ``labkit`` command line (also ``python -m labkit``).

Every command is a thin wrapper over the public API. Errors: one ``error:`` line on
stderr, exit status 2, never a traceback.

Example:
    $ labkit hello --variant tiny -o hello && ./hello
    Hello from scratch!
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from labkit import binder, checks, classroom, compare, engine, fleet, hello, machine, observe, registry, show
from labkit.classroom import serve
from labkit.fleet import buildbase
from labkit.errors import LabkitError
from labkit.oci.cli import add_commands as add_image_commands
from labkit.oci.cli import print_json, run


# --- doctor --------------------------------------------------------------------------
def cmd_doctor(args) -> int:
    report = machine.report()
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.text())
    return 0


# --- hello ---------------------------------------------------------------------------
def cmd_hello(args) -> int:
    message = hello.DEFAULT_MESSAGE
    if args.message is not None:
        message = args.message.encode()
    elif args.message_file is not None:
        try:
            message = Path(args.message_file).read_bytes()
        except OSError as err:
            raise LabkitError(f"cannot read {args.message_file}: {err.strerror}") from None
    path = hello.build(args.variant, args.output, message=message, arch=args.arch)
    info = hello.describe(path)
    print(f"{path}: {info.summary()}")
    return 0


# --- build-base ------------------------------------------------------------------------
def cmd_build_base(args) -> int:
    engines = [fleet.engine(name) for name in fleet.endpoints()] if args.fleet else [engine.connect()]
    return buildbase.cli(args, engines)


# --- fleet / record / compare ----------------------------------------------------------
def cmd_fleet(args) -> int:
    return fleet.cli(args)


def cmd_registry(args) -> int:
    return registry.cli(args)


def _progress():
    """A progress bar on a terminal, none when stderr is a file or pipe."""
    return show.progress if sys.stderr.isatty() else None


def cmd_record(args) -> int:
    """``labkit record [ENGINE...] [--scenario S]... [--out DIR]``: one JSON file per
    engine (with ``--scenario``, only those scenarios are observed again and merged into
    the engine's existing file); warns when a fleet engine is not the version its
    catalog entry names."""
    for name, eng, endpoint in observe.engines_to_record(list(args.engines)):
        try:
            obs = observe.observe(eng, args.scenario or None, name=name, endpoint=endpoint,
                                  progress=_progress())
        finally:
            eng.cleanup()
        if args.scenario:
            obs = observe.merged(obs, args.out)
        print(obs.write(args.out))
        note = observe.moved_on(name, obs)
        if note:
            print(f"warning: {note}", file=sys.stderr)
    return 0


def cmd_compare(args) -> int:
    """``labkit compare [ENGINE_OR_FILE...] [--json]``: key fields side by side."""
    observations = ([observe.resolve(s, _progress()) for s in args.sources] if args.sources
                    else observe.recorded())
    if not observations:
        raise LabkitError("no observations to compare", hint="run `labkit record` first")
    if args.json:
        json.dump(compare.rows(observations), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(show.comparison(observations))
    return 0


# --- binder ---------------------------------------------------------------------------
def cmd_binder(args) -> int:
    """``labkit binder [--repository OWNER/NAME] [--ref REF]``: where the badges point, or
    point them (``labkit/binder.json``, README.md, each notebook's badge) elsewhere."""
    if args.repository is None and args.ref is None:
        config = binder.settings()
        print(f"{config['repository']} at {config['ref']}: {binder.binder_url()}")
        return 0
    repository = args.repository or binder.settings()["repository"]
    changed = binder.set_repository(repository, args.ref)
    for path in changed:
        print(f"updated {path}")
    done = "; commit the files above" if changed else " (nothing to change)"
    print(f"Binder opens {binder.binder_url()}{done}")
    return 0


# --- classroom --------------------------------------------------------------------------
def cmd_classroom(args) -> int:
    """``labkit classroom up|down|status|summary``: a class server on this machine (root)."""
    room = classroom.Classroom(args.root)
    if args.action == "up":
        limits = classroom.Limits.parse(args.pids, args.memory, args.cpus, args.disk)
        return serve.serve(room, args.learners, port=args.port, engine=args.engine, detach=args.detach,
                           limits=limits)
    if args.action == "down":
        return 0 if not room.down() else 2
    if args.action == "status":
        found = serve.status(room)
        if args.json:
            print_json(found)
        elif not found["up"] and "learners" not in found:
            print(f"no classroom in {room.root}")
        else:
            print(f"{room.root}: hub {'up at ' + found['url'] if found['up'] else 'DOWN'}, engine {found['engine']}")
            print("  limits: " + ", ".join(f"{k} {v}" for k, v in found["limits"].items()))
            for name, what in found["learners"].items():
                answers = {True: ", engine answers", False: ", engine DOWN"}.get(what.get("engine_answers"), "")
                print(f"  {name}: user {'yes' if what['user_exists'] else 'MISSING'}, "
                      f"server {'running' if what['server'] else 'stopped'}{answers}, DOCKER_HOST={what['docker_host']}")
        return 0
    progress = checks.class_progress(args.files or room.root)          # summary
    if args.json:
        print_json(progress.to_dict())
    else:
        print(checks.class_summary(progress))
    if args.plot:
        fig, _ = checks.class_plot(progress)
        fig.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each subcommand's handler is in ``func``."""
    p = argparse.ArgumentParser(prog="labkit", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("doctor", help="what this machine has, and the mode the lab runs in")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("hello", help="write a hello binary")
    s.add_argument("--variant", default="tiny",
                   choices=["tiny", "nostdlib", "musl-static", "glibc-static", "dynamic"])
    g = s.add_mutually_exclusive_group()
    g.add_argument("--message", metavar="TEXT")
    g.add_argument("--message-file", metavar="F")
    s.add_argument("--arch", default=None, choices=["x86_64", "aarch64"],
                   help="the processor to build for (default: this machine's)")
    s.add_argument("-o", "--output", required=True, metavar="PATH")
    s.set_defaults(func=cmd_hello)

    add_image_commands(sub)         # build, inspect, extract: labkit.oci.cli

    s = sub.add_parser("fleet", help="several Docker engines side by side")
    s.add_argument("action", choices=["list", "up", "status", "down"])
    s.add_argument("engines", nargs="*", metavar="ENGINE")
    s.add_argument("--json", action="store_true")
    s.add_argument("--keep", action="store_true", help="down: keep data roots")
    s.set_defaults(func=cmd_fleet)

    s = sub.add_parser("build-base", help=f"make the lab's compiler base ({buildbase.TAG}) and import it")
    s.add_argument("--fleet", action="store_true", help="into every running fleet engine, not DOCKER_HOST's")
    s.add_argument("--rebuild", action="store_true", help="make the tarball and import it again")
    s.set_defaults(func=cmd_build_base)

    s = sub.add_parser("registry", help="a real registry on loopback; push and pull without an engine")
    s.add_argument("action", choices=["up", "status", "down", "push", "pull"])
    s.add_argument("operands", nargs="*", metavar="ARG",
                   help="push: IMAGE REF; pull: REF DIR (REF: repo:tag, or 127.0.0.1:PORT/repo:tag)")
    s.add_argument("--root", default=None, metavar="DIR",
                   help="the registry's folder (default ~/.cache/labkit/registry)")
    s.add_argument("--format", default="oci", choices=["oci", "docker"], help="push: manifest media types")
    s.add_argument("--chunk-size", type=int, default=None, metavar="BYTES", help="push: chunked upload")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_registry)

    s = sub.add_parser("record", help="run the lab's scenarios on engines, write data/observations")
    s.add_argument("engines", nargs="*", metavar="ENGINE")
    s.add_argument("--scenario", action="append", default=[], metavar="S",
                   help="only this scenario (repeatable), merged into the existing recording")
    s.add_argument("--out", default=None, metavar="DIR")
    s.set_defaults(func=cmd_record)

    s = sub.add_parser("compare", help="compare observations from engines and recordings")
    s.add_argument("sources", nargs="*", metavar="ENGINE_OR_FILE")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("binder", help="show, or change, the repository the Binder badges open")
    s.add_argument("--repository", metavar="OWNER/NAME", help="the GitHub repository Binder builds")
    s.add_argument("--ref", metavar="REF", help="a branch, tag or commit (default: keep the current one)")
    s.set_defaults(func=cmd_binder)

    s = sub.add_parser("classroom", help="a class server here: JupyterHub, a user per learner (root)")
    s.add_argument("action", choices=["up", "down", "status", "summary"])
    s.add_argument("files", nargs="?", metavar="FOLDER",
                   help="summary: a folder of progress files (default: the classroom's)")
    s.add_argument("--root", default=str(classroom.DEFAULT_ROOT), help="the classroom's folder")
    s.add_argument("--learners", type=int, default=5, metavar="N")
    s.add_argument("--port", type=int, default=8000, help="the class's address: http://127.0.0.1:PORT")
    s.add_argument("--engine", default="rootless", choices=["machine", "class", "per-learner", "rootless"],
                   help="where learners' Docker runs: a rootless engine per learner, running as the learner "
                        "(default); this machine's engine; one of the class's own; or a root engine per learner")
    for flag, what in (("--pids", "processes and threads"), ("--memory", "memory, e.g. 1.5G"),
                       ("--cpus", "cores' worth of CPU"), ("--disk", "home filesystem size, e.g. 1G")):
        s.add_argument(flag, metavar="N", help=f"rootless: {what} per learner (0: none)")
    s.add_argument("--detach", action="store_true", help="up: leave it running (stop with down)")
    s.add_argument("--plot", metavar="PNG", help="summary: also save the plot")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_classroom)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
