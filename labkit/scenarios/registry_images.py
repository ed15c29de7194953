"""Engines and a registry: what ``docker push`` stores, and what ``docker pull`` makes of
another engine's push.

``registry-push``: the engine builds the hello image (legacy builder and BuildKit) and
loads notebook 4's busybox image and a second image sharing its layer, then ``docker
push``es each to a fresh local registry (``labkit.registry``); labkit reads back what the
registry stores. ``registry-pull``: the exact bytes two other engines pushed (captured
once into ``data/registry/``, see its README) are put into a fresh registry by labkit, byte
for byte, and the engine ``docker pull``s them.

The raw ``docker`` output of every step is kept in ``extra["cli"]`` (the port of the
registry written as ``PORT``); it depends on the CLI's version and on timing, so
``labkit.observe.deterministic`` leaves it out and compares the fields read from it.

Example:
    >>> cases = run("registry-push", eng, "/tmp/w")                 # doctest: +SKIP
    >>> cases["buildkit"].extra["manifest"]["media_type"]           # doctest: +SKIP
    'application/vnd.docker.distribution.manifest.v2+json'
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from labkit import fleet, oci, registry
from labkit.engine.commands import shown
from labkit.errors import LabkitError, MissingTool
from labkit.scenarios.busybox import BUSYBOX, _busybox_layer
from labkit.scenarios.case import DEFAULT_NAMESPACE, NOT_HERE, Case, Lab, builder_name, namespace, no_buildkit, unsupported
from labkit.scenarios.describe import failed
from labkit.scenarios.hello_images import hello_context

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "registry"
#: The pushes ``registry-pull`` replays: (fleet engine, builder) -> folder in FIXTURES.
PUSHERS = {("20.10.24", "legacy"): "20.10.24-legacy", ("28.5.2-containerd", "buildkit"): "28.5.2-containerd-buildkit"}
REPO = "labkit-observe"


def repository() -> str:
    """The scenarios' repository on the registry: ``labkit-observe``, under the learner's own
    namespace when one is set (``labkit-learner-01/labkit-observe``), so that on an engine
    learners share each learner's registry tags are theirs alone (:meth:`Engine.owned_by`).

    Example:
        >>> repository()
        'labkit-observe'
    """
    ns = namespace()
    return REPO if ns == DEFAULT_NAMESPACE else f"{ns}/{REPO}"
SHELL = ["/bin/sh", "-c", "echo hello from busybox; ls /data | wc -l"]
#: ``docker images`` without the CREATED column ("2 seconds ago" is never the same twice).
IMAGES_FORMAT = r"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Size}}"   # the CLI reads \t as a tab


def docker(lab: Lab, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    """Run the engine's own docker CLI: ``(exit status, stdout + stderr, command as typed)``;
    on Podman the podman command a learner types (``podman push --tls-verify=false ...``)."""
    if lab.engine.tool == "podman":
        run = lab.engine.docker(list(args), timeout=timeout)
        return (127 if run.exit_code is None else run.exit_code), run.output.strip(), run.command
    typed = shown(list(args))
    cli = lab.engine.docker_cli or (lab.engine._buildkit_cli or [None])[0] or shutil.which("docker")
    if not cli:
        return 127, "docker: command not found", typed
    done = subprocess.run([cli, *args], env=lab.engine.cli_env(), capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode, (done.stdout + done.stderr).strip(), typed


def _portless(text: str, host: str) -> str:
    return text.replace(host, "127.0.0.1:PORT")


def _statuses(output: str) -> list[str]:
    """The final word on each layer of ``docker push`` output (``Pushed``, ``Mounted from
    x``, ``Layer already exists``), sorted: lines come in any order."""
    last: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"([0-9a-f]{12}): (.+)$", line.strip())
        if match and match.group(2) not in ("Preparing", "Waiting", "Pushing"):
            last[match.group(1)] = match.group(2)
    return sorted(last.values())


def _stored(reg, ref: str) -> dict:
    """What the registry holds for ``ref``: the facts a recording keeps."""
    tree = registry.describe(reg, ref)
    image = tree.image
    facts = {
        "manifest": {"media_type": tree.media_type, "digest": tree.digest, "size": tree.size},
        "index": tree.is_index,
        "platforms": tree.platforms if tree.is_index else [],
        "image_manifest": {"media_type": image.media_type, "digest": image.digest, "size": image.size},
        "config": {"media_type": image.config.media_type, "digest": image.config.digest,
                   "size": image.config.size},
        "layers": [{"media_type": l.media_type, "digest": l.digest, "size": l.size} for l in image.layers],
        "pull_size": image.pull_size,
        "attestations": [{"media_type": a.media_type, "digest": a.digest, "size": a.size,
                          "layers": [l.media_type for l in a.layers],
                          "predicate": [l.annotations.get("in-toto.io/predicate-type") for l in a.layers]}
                         for a in tree.attestations],
    }
    return facts


def _push_case(lab: Lab, reg, ref: str, builder: str, stamped: bool) -> Case:
    """``docker push`` ``ref``, then what the registry and the engine say."""
    engine = lab.engine
    attrs = engine.inspect(ref)
    code, out, typed = docker(lab, "push", ref)
    host = reg.host
    cli = {"push": {"command": _portless(typed, host), "output": _portless(out, host)}}
    case = Case(builder=builder, image_id=attrs["Id"], layers=len((attrs.get("RootFS") or {}).get("Layers") or []),
                diff_ids=list((attrs.get("RootFS") or {}).get("Layers") or []))
    if code != 0:
        case.ok, case.error = False, _portless(out.splitlines()[-1] if out else f"exit {code}", host)
        case.extra["cli"] = cli
        return case
    case.extra.update(_stored(reg, ref.split("/", 1)[1]))
    case.extra["push_statuses"] = _statuses(out)
    case.extra["cli"] = cli
    if stamped:   # the config holds the build time: its digest and size, the manifest's, vary
        case.engine_assigned = ["image_id", "extra.manifest", "extra.image_manifest", "extra.config",
                                "extra.attestations"]
    return case


def _pull_back(lab: Lab, ref: str, case: Case, host: str) -> None:
    """Remove ``ref`` from the engine, ``docker pull`` it back, and list it."""
    docker(lab, "rmi", ref)
    code, out, typed = docker(lab, "pull", ref)
    listed = _images(lab, ref, reg_host=host)
    case.extra["cli"]["pull"] = {"command": _portless(typed, host), "output": _portless(out, host)}
    case.extra["cli"]["images"] = listed
    if code != 0:
        case.extra["pull_back"] = {"ok": False, "error": _portless(out.splitlines()[-1], host)}
        return
    attrs = lab.engine.inspect(ref)
    case.extra["pull_back"] = {"ok": True, "same_id": attrs["Id"] == case.image_id,
                               "size_inspect": attrs.get("Size"), "size_listed": lab.engine.listed_size(ref),
                               "repo_digest": _repo_digest(attrs)}
    if case.engine_assigned:
        case.engine_assigned.append("extra.pull_back")


def _images(lab: Lab, ref: str, reg_host: str) -> dict:
    """``docker images`` of ``ref``'s repository (command and output, port written PORT)."""
    repository = ref.rsplit(":", 1)[0]
    _, out, typed = docker(lab, "images", "--format", IMAGES_FORMAT, repository)
    return {"command": _portless(typed, reg_host), "output": _portless(out, reg_host)}


def _repo_digest(attrs: dict) -> str | None:
    digests = attrs.get("RepoDigests") or []
    return digests[0].split("@", 1)[1] if digests else None


def registry_push(lab: Lab) -> dict[str, Case]:
    """Each builder's hello image and the busybox pair, ``docker push``ed to a local registry."""
    cases: dict[str, Case] = {}
    try:
        reg_cm = registry.local(lab.workdir / "registry", replay=False)
        reg = reg_cm.__enter__()
    except LabkitError as err:   # no docker-registry here: the lesson shows the recorded cases
        extra = {NOT_HERE: str(err)} if isinstance(err, MissingTool) else {}
        return {name: Case(builder=b, ok=False, error=str(err), extra=dict(extra)) for name, b in
                (("legacy", "legacy"), ("buildkit", "buildkit"), ("busybox", "labkit"), ("busybox-trimmed", "labkit"))}
    try:
        host = reg.host
        for builder in ("legacy", "buildkit"):
            if builder == "buildkit" and lab.engine.facts.family == "podman":
                cases[builder] = unsupported(lab, builder, builder, no_buildkit(lab.engine))
                continue
            ref = f"{host}/{repository()}/hello:{builder}"
            lab.tags.append(ref)
            made_by = builder_name(lab.engine, builder)
            try:
                (lab.workdir / builder).mkdir(exist_ok=True)
                lab.engine.build(hello_context(lab.workdir / builder), ref, builder=builder, label=False)
            except LabkitError as err:
                cases[builder] = failed(lab, builder, made_by, err, ref)
                continue
            cases[builder] = _push_case(lab, reg, ref, made_by, stamped=True)
            if cases[builder].ok:
                _pull_back(lab, ref, cases[builder], host)
        base = [_busybox_layer()]
        images = {"busybox": ("busybox:base", oci.Image(base, cmd=SHELL)),
                  "busybox-trimmed": ("busybox-trimmed:1",
                                      oci.Image(base + [[oci.Entry.whiteout("data/notes.txt")]], cmd=SHELL))}
        for name, (repo_tag, image) in images.items():
            ref = f"{host}/{repository()}/{repo_tag}"
            if not BUSYBOX.is_file():
                why = f"{BUSYBOX} is missing: apt-get install busybox-static"
                cases[name] = Case(builder="labkit", ok=False, error=why, extra={NOT_HERE: why})
                continue
            lab.tags.append(ref)
            try:
                lab.engine.load(image.write(lab.workdir / f"{name}.tar", tag=ref))
            except LabkitError as err:
                cases[name] = failed(lab, name, "labkit", err, f"{name}.tar")
                continue
            cases[name] = _push_case(lab, reg, ref, "labkit", stamped=False)
    finally:
        reg_cm.__exit__(None, None, None)
    return cases


def registry_pull(lab: Lab) -> dict[str, Case]:
    """``docker pull`` of what other engines pushed (``data/registry/``, replayed byte for byte)."""
    cases: dict[str, Case] = {}
    try:
        reg_cm = registry.local(lab.workdir / "registry", replay=False)
        reg = reg_cm.__enter__()
    except MissingTool as err:   # no docker-registry here: the lesson shows the recorded cases
        return {f"from-{folder}": Case(builder=builder, ok=False, error=str(err), extra={NOT_HERE: str(err)})
                for (_, builder), folder in PUSHERS.items()}
    try:
        for (pusher, builder), folder in PUSHERS.items():
            name = f"from-{folder}"
            layout = FIXTURES / folder
            repo_tag = f"{repository()}/from-{pusher.replace('.', '-')}:{builder}"
            ref = f"{reg.host}/{repo_tag}"
            lab.tags.append(ref)
            pushed = registry.push(reg, layout, repo_tag)
            code, out, typed = docker(lab, "pull", ref)
            cli = {"pull": {"command": _portless(typed, reg.host), "output": _portless(out, reg.host)},
                   "images": _images(lab, ref, reg_host=reg.host)}
            case = Case(builder=builder, extra={"pushed_by": pusher, "manifest_digest": pushed.digest,
                                                "manifest_media_type": pushed.media_type, "cli": cli})
            if code != 0:
                case.ok, case.error = False, _portless(out.splitlines()[-1] if out else f"exit {code}", reg.host)
            else:
                attrs = lab.engine.inspect(ref)
                case.image_id, case.diff_ids = attrs["Id"], list((attrs.get("RootFS") or {}).get("Layers") or [])
                case.layers = len(case.diff_ids)
                case.size_inspect, case.size_listed = attrs.get("Size"), lab.engine.listed_size(ref)
                case.extra["repo_digest"] = _repo_digest(attrs)
                kind = "index-digest" if "index" in pushed.media_type or "list" in pushed.media_type \
                    else "manifest-digest"
                case.id_kind = kind if attrs["Id"] == pushed.digest else "config-digest"
            cases[name] = case
    finally:
        reg_cm.__exit__(None, None, None)
    return cases


def capture(out: str | Path = FIXTURES) -> list[Path]:
    """Make ``data/registry/``: each pusher of :data:`PUSHERS` (a running fleet engine) builds
    the hello image and pushes it; labkit pulls what the registry got into an OCI layout
    (``index.json`` names it ``labkit-observe/hello:<builder>``, without the port)."""
    written = []
    for (name, builder), folder in PUSHERS.items():
        eng = fleet.engine(name)
        lab = Lab(eng, Path(out) / f".work-{folder}", "capture")
        lab.workdir.mkdir(parents=True, exist_ok=True)
        try:
            with registry.local(lab.workdir / "registry", replay=False) as reg:
                ref = f"{reg.host}/{REPO}/hello:{builder}"
                lab.engine.build(hello_context(lab.workdir), ref, builder=builder, label=False)
                code, text, _ = docker(lab, "push", ref)
                if code != 0:
                    raise LabkitError(f"{name} could not push: {text}")
                target = Path(out) / folder
                shutil.rmtree(target, ignore_errors=True)
                registry.pull(reg, f"{REPO}/hello:{builder}", target)
                index = target / "index.json"
                index.write_text(index.read_text().replace(f"{reg.host}/", ""))
                written.append(target)
        finally:
            eng.cleanup()
            shutil.rmtree(lab.workdir, ignore_errors=True)
    return written
