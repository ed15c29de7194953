"""labkit.oci against real engines: the bytes and IDs labkit predicts are the engine's.

20.10 through the ``engine`` fixture (DOCKER_HOST or the default socket); 26+/28
through the fleet (``labkit.fleet.endpoints()``), or ``LABKIT_ENGINE_28=unix:///…``
(optionally with ``LABKIT_ENGINE_28_CLI`` / ``LABKIT_ENGINE_28_DOCKER_CONFIG`` for a
docker CLI with buildx) as a fallback while developing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import linkcases
from conftest import need
from labkit import hello, oci
from labkit.errors import EngineError

MTIME = 1_000_000_000
MESSAGE = b"Hello from labkit's oci tests!\n"


@pytest.fixture(scope="module")
def modern_engine(request):
    """A 26+ engine: LABKIT_ENGINE_28=unix:///… when set, else the fleet (skip/fail: fleet)."""
    from labkit import engine as engine_mod

    if os.environ.get("LABKIT_ENGINE_28"):
        candidates = [engine_mod.try_connect(
            os.environ["LABKIT_ENGINE_28"], docker_cli=os.environ.get("LABKIT_ENGINE_28_CLI"),
            docker_config=os.environ.get("LABKIT_ENGINE_28_DOCKER_CONFIG"))]
    else:
        from labkit import fleet

        names = request.getfixturevalue("fleet")  # brings the fleet up (CI) or skips
        candidates = [fleet.engine(name) for name in sorted(names)]
    for eng in candidates:
        if eng is not None and int(eng.facts.version.split(".")[0]) >= 26 \
                and not eng.facts.containerd_store:
            yield eng
            eng.cleanup()
            return
    need("fleet", "no Docker 26+ engine: run `labkit fleet up` (or set LABKIT_ENGINE_28)")


def _hello_context(tmp_path: Path, dockerfile: str) -> Path:
    context = tmp_path / "ctx"
    context.mkdir(exist_ok=True)
    binary = context / "hello"
    binary.write_bytes(hello.tiny_elf(MESSAGE))
    binary.chmod(0o755)
    os.utime(binary, (MTIME, MTIME))
    (context / "Dockerfile").write_text(dockerfile)
    return context


def _hello_image(context: Path, era: str) -> oci.Image:
    return oci.Image([[oci.Entry.file("hello", source=context / "hello", mode=0o755, mtime=MTIME)]],
                     cmd=["/hello"], era=era)


def _build(eng, context: Path, tag: str, builder: str) -> str:
    try:
        return eng.build(context, tag, builder=builder, label=False)
    except EngineError as err:
        if builder == "buildkit" and "no docker CLI" in str(err):
            need("engine" if eng.facts.tar_era == "20.10" else "fleet", f"BuildKit unavailable: {err}")
        raise


def check_layer_bytes_match_both_builders(eng, tmp_path):
    context = _hello_context(tmp_path, 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n')
    predicted = _hello_image(context, eng.facts.tar_era).diff_ids
    for builder in ("legacy", "buildkit"):
        image_id = _build(eng, context, f"labkit-test/oci-hello:{builder}", builder)
        assert eng.inspect(image_id)["RootFS"]["Layers"] == predicted, builder
        saved = eng.save(image_id, tmp_path / f"{builder}.tar")
        info = oci.inspect(saved)
        assert [layer.diff_id for layer in info.layers] == predicted
        assert info.files == {"hello": len(hello.tiny_elf(MESSAGE))}


def check_zero_layer_image_id_is_predicted(eng, tmp_path):
    context = tmp_path / "scratch"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    image_id = _build(eng, context, "labkit-test/oci-scratch:buildkit", "buildkit")
    assert image_id == oci.Image.buildkit_scratch(eng.facts.tar_era).image_id


def check_labkit_image_loads_runs_and_matches_docker_build(eng, tmp_path):
    context = _hello_context(tmp_path, 'FROM scratch\nCOPY hello /hello\nCMD ["/hello"]\n')
    image = _hello_image(context, eng.facts.tar_era)
    out = image.write(tmp_path / "labkit.tar", tag="labkit-test/oci-labkit:1")
    assert eng.load(out) == ["labkit-test/oci-labkit:1"]
    assert eng.inspect("labkit-test/oci-labkit:1")["Id"] == image.image_id
    built = _build(eng, context, "labkit-test/oci-built:1", "legacy")
    assert eng.inspect(built)["RootFS"]["Layers"] == eng.inspect(image.image_id)["RootFS"]["Layers"]
    for ref in (image.image_id, built):
        result = eng.run(ref)
        if result.error and ("runc" in result.error or "shim" in result.error):
            need("engine" if eng.facts.tar_era == "20.10" else "fleet",
                 f"{eng.base_url} cannot run containers: {result.error[:120]}")
        assert (result.exit_code, result.stdout) == (0, MESSAGE), result


def check_era_14_loads_with_one_history_row_per_instruction(eng, tmp_path):
    context = _hello_context(tmp_path, "")
    image = oci.Image([[oci.Entry.file("hello", source=context / "hello", mtime=MTIME)]],
                      cmd=["/hello"], era="1.4")
    eng.load(image.write(tmp_path / "old.tar", tag="labkit-test/oci-era14:1"))
    history = eng.history("labkit-test/oci-era14:1")
    eng.remove("labkit-test/oci-era14:1")
    assert len(history) == 3                     # scratch, COPY, CMD
    assert history[-1]["Comment"] == "Imported from -"
    assert "#(nop) CMD [/hello]" in history[0]["CreatedBy"]


def check_empty_image_loads(eng, tmp_path):
    image = oci.Image()
    eng.load(image.write(tmp_path / "empty.tar", tag="labkit-test/oci-empty:1"))
    assert eng.inspect("labkit-test/oci-empty:1")["Id"] == image.image_id


def check_user_is_where_buildkit_writes_it(eng, tmp_path):
    """``Image(user=...)`` writes ``User`` where BuildKit does: first in the runtime config."""
    context = _hello_context(tmp_path, 'FROM scratch\nCOPY hello /hello\nUSER nobody\nCMD ["/hello"]\n')
    image_id = _build(eng, context, "labkit-test/oci-user:buildkit", "buildkit")
    built = oci.inspect(eng.save(image_id, tmp_path / "user.tar")).config["config"]
    ours = json.loads(oci.Image(user="nobody", env=[oci.DEFAULT_PATH_ENV], workdir="/",
                                cmd=["/hello"]).config_bytes())["config"]
    assert [k for k in built if k in ours] == list(ours)
    assert {k: built[k] for k in ours} == ours


CHECKS = [check_layer_bytes_match_both_builders, check_user_is_where_buildkit_writes_it, check_zero_layer_image_id_is_predicted,
          check_labkit_image_loads_runs_and_matches_docker_build,
          check_era_14_loads_with_one_history_row_per_instruction, check_empty_image_loads]


@pytest.mark.engine
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[6:])
def test_default_engine(engine, tmp_path, check):
    check(engine, tmp_path)


@pytest.mark.fleet
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__[6:])
def test_modern_engine(modern_engine, tmp_path, check):
    check(modern_engine, tmp_path)


@pytest.mark.engine
def test_a_repeated_layer_that_docker_save_links_reads(engine, tmp_path):
    """Docker 20.10 saves the second of two identical layers as a symlink to the first."""
    image = oci.Image([[oci.Entry.file("same", b"x")], [oci.Entry.file("same", b"x")]],
                      era=engine.facts.tar_era)
    engine.load(image.write(tmp_path / "dup.tar", tag="labkit-test/oci-dup:1"))
    saved = engine.save("labkit-test/oci-dup:1", tmp_path / "saved.tar")
    engine.remove("labkit-test/oci-dup:1")
    info = oci.inspect(saved)
    assert info.files == {"same": 1} and [l.diff_id for l in info.layers] == image.diff_ids


@pytest.mark.engine
def test_links_whiteouts_and_names_extract_as_docker_exports_them(engine, tmp_path):
    """Every case of tests/linkcases.py (links climbing, absolute, dangling, looping; writes,
    hard links, whiteouts and opaque markers through links, in the same layer and under a
    lower layer's link; '..' names): loaded, exported from a container, and compared with
    ``labkit extract`` entry for entry (types, modes, owners, link targets, contents,
    hard-link groups, dates), or refused by both with the same words. The recording in
    tests/data/docker-export-links.json must still be what the engine does."""
    status = dict(engine.api.info().get("DriverStatus") or [])
    if engine.facts.storage_driver != "overlay2" or status.get("Native Overlay Diff") != "true":
        need("engine", f"the rules were measured on overlay2 with native diff; this engine has "
                       f"{engine.facts.storage_driver} {status}")
    as_root = os.geteuid() == 0
    recorded = linkcases.RECORDING.read_text()
    differ, moved = [], []
    for case in linkcases.CASES:
        docker = linkcases.docker_result(engine, case, tmp_path)
        if not as_root:
            docker = linkcases.without_owners(docker)
        differ += linkcases.differences(case, docker, linkcases.labkit_result(case, tmp_path, as_root))
        if as_root and docker != json.loads(recorded)["cases"][case]:
            moved.append(case)
    assert differ == []
    assert moved == [], f"the engine no longer does what tests/data records: {moved}"
