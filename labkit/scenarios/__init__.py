"""The lab's measurements: one function per scenario, each returning named ``Case`` s.

A scenario gets an engine (``labkit.engine.Engine``) and an empty scratch directory,
builds or loads FROM scratch images from reproducible inputs (fixed mtimes, fixed
message), asks the engine what it made, and removes what it created. The schema of
every field is in ``docs/observations.md``.

Example:
    >>> from labkit import engine, scenarios
    >>> eng = engine.connect()                                   # doctest: +SKIP
    >>> cases = scenarios.run("empty-labkit", eng, "/tmp/work")  # doctest: +SKIP
    >>> cases["labkit"].layers                                   # doctest: +SKIP
    0
"""
from __future__ import annotations

from pathlib import Path

from labkit.errors import EngineError, LabkitError
from labkit.scenarios.busybox import APPLETS, BUSYBOX, busybox_layer, busybox_whiteout
from labkit.scenarios.case import NOT_HERE, Case, Lab, Scenario, engine_words, namespace
from labkit.scenarios.describe import describe_image
from labkit.scenarios.empty import empty_dockerfile, empty_import, empty_labkit
from labkit.scenarios.failures import scratch_exec, scratch_user
from labkit.scenarios.hello_images import (HELLO_DOCKERFILE, era_1_4, hello_buildkit, hello_context,
                                          hello_image, hello_legacy, hello_variants)
from labkit.scenarios.registry_images import registry_pull, registry_push
from labkit.scenarios.scratch_runtime import scratch_runtime

__all__ = ["APPLETS", "BUSYBOX", "busybox_layer", "HELLO_DOCKERFILE", "NOT_HERE", "SCENARIOS", "Case", "Lab",
           "Scenario", "describe_image", "engine_words", "namespace", "get", "hello_context", "hello_image",
           "run"]



SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("empty-labkit", "labkit's zero-layer image, loaded and run", empty_labkit),
    Scenario("empty-import", "docker import of an empty tar", empty_import),
    Scenario("empty-dockerfile", "a Dockerfile that is only FROM scratch, both builders",
             empty_dockerfile),
    Scenario("hello-legacy", "tiny hello COPY'd FROM scratch, legacy builder", hello_legacy),
    Scenario("hello-buildkit", "tiny hello COPY'd FROM scratch, BuildKit", hello_buildkit),
    Scenario("hello-variants", "every hello variant buildable here, as an image", hello_variants),
    Scenario("era-1.4", "the Docker 1.4 era tarball (an image per instruction on the old scratch image), loaded", era_1_4),
    Scenario("busybox-whiteout", "busybox FROM scratch, then a layer that deletes a file",
             busybox_whiteout),
    Scenario("registry-push", "hello (both builders) and busybox docker-pushed to a local registry",
             registry_push),
    Scenario("registry-pull", "docker pull of what two other engines pushed (replayed byte for byte)",
             registry_pull),
    Scenario("scratch-exec", "programs the kernel will not start in scratch: dynamic, "
             "another architecture, no exec bit", scratch_exec),
    Scenario("scratch-user", "USER nobody without /etc/passwd, USER 65534, and with /etc/passwd",
             scratch_user),
    Scenario("scratch-runtime", "what a scratch container lacks, and what the runtime adds",
             scratch_runtime),
)}


def get(name: str) -> Scenario:
    """The scenario called ``name``.

    Raises:
        LabkitError: there is none (the message lists the names).
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        raise LabkitError(f"unknown scenario {name!r}", hint="choose one of " + ", ".join(SCENARIOS)) from None


def run(name: str, engine, workdir: str | Path) -> dict[str, Case]:
    """Run scenario ``name`` on ``engine`` in the empty directory ``workdir`` (made if missing).

    Removes the images it tagged afterwards, whatever happened.

    Example:
        >>> run("empty-import", eng, "/tmp/w")["empty-1024"].diff_ids  # doctest: +SKIP
        ['sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef']
    """
    scenario = get(name)
    lab = Lab(engine, Path(workdir), name)
    lab.workdir.mkdir(parents=True, exist_ok=True)
    try:
        return scenario.func(lab)
    finally:
        for tag in lab.tags:
            try:
                engine.remove(tag)
            except EngineError:
                pass  # never made (the build or load failed)
