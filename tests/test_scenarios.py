"""labkit.scenarios: reproducible inputs (unit) and each scenario on the real engine."""
from __future__ import annotations

import os

import pytest

from conftest import need_lesson_tools, need_path
from labkit import oci, scenarios
from labkit.engine.commands import machine_neutral
from labkit.errors import EngineError, LabkitError
from labkit.scenarios import Case

EMPTY_1024 = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
EMPTY_10240 = "sha256:84ff92691f909a05b224e1c56abb4864f01b4f8e3c854e4bb4c7baf1d3f6d652"


# --- unit -------------------------------------------------------------------------------
def test_scenario_names_are_the_documented_ones():
    assert list(scenarios.SCENARIOS) == [
        "empty-labkit", "empty-import", "empty-dockerfile", "hello-legacy", "hello-buildkit",
        "hello-variants", "era-1.4", "busybox-whiteout", "registry-push", "registry-pull", "scratch-exec",
        "scratch-user", "scratch-runtime"]


def test_case_round_trips_through_a_dict():
    case = Case("buildkit", image_id="sha256:00", layers=1, run={"exit_code": 0},
                extra={"x": [1]}, engine_assigned=["image_id"])
    assert Case.from_dict(case.to_dict()) == case
    assert Case.from_dict({**case.to_dict(), "future_field": 1}) == case


def test_engine_words_strip_labkits_prefix_and_hint():
    err = EngineError("cannot save lab:x: empty export - not implemented", hint="try again")
    assert scenarios.engine_words(err, "lab:x") == "empty export - not implemented"
    assert scenarios.engine_words("legacy build of lab:x failed: No image", "lab:x") == "No image"
    assert scenarios.engine_words("something else", "lab:x") == "something else"
    assert scenarios.engine_words(None, "lab:x") is None


def test_hello_context_is_byte_and_mtime_reproducible(tmp_path):
    context = scenarios.hello_context(tmp_path)
    assert sorted(os.listdir(context)) == ["Dockerfile", "hello"]
    assert (context / "Dockerfile").read_bytes() == scenarios.HELLO_DOCKERFILE
    assert os.stat(context / "hello").st_mtime == 0
    assert os.stat(context / "hello").st_mode & 0o777 == 0o755


def test_hello_prediction_differs_only_by_tar_headers_between_eras():
    modern, old = scenarios.hello_image("modern"), scenarios.hello_image("20.10")
    assert modern.diff_ids != old.diff_ids
    assert modern.layer_sizes == old.layer_sizes


def test_a_variant_that_fails_to_build_is_a_failed_case_not_a_lost_scenario(tmp_path, monkeypatch):
    from labkit import hello
    from labkit.errors import MissingTool

    def broken(variant, out, **kwargs):
        raise MissingTool("musl-gcc failed: ld: cannot find -lc")

    monkeypatch.setattr(hello, "available", lambda arch="x86_64": {"musl-static": None})
    monkeypatch.setattr(hello, "build", broken)
    cases = scenarios.hello_variants(scenarios.Lab(None, tmp_path, "hello-variants"))
    assert not cases["musl-static"].ok and "cannot find -lc" in cases["musl-static"].error


def test_unknown_scenario_names_the_known_ones(tmp_path):
    with pytest.raises(LabkitError, match="unknown scenario 'x'; choose one of empty-labkit"):
        scenarios.run("x", None, tmp_path)


# --- on the engine ---------------------------------------------------------------------------
def _run(engine, name, tmp_path):
    cases = scenarios.run(name, engine, tmp_path)
    leftovers = [row for row in engine.api.images(name=f"{scenarios.namespace()}/{name}")]
    assert leftovers == [], "scenarios remove the images they tagged"
    return cases


@pytest.mark.engine
def test_empty_labkit_has_no_layers_and_labkits_id(engine, tmp_path):
    case = _run(engine, "empty-labkit", tmp_path)["labkit"]
    assert case.ok and case.layers == 0 and case.diff_ids == []
    if not engine.facts.containerd_store:
        assert case.image_id == case.extra["predicted_id"] == oci.Image().image_id
    assert case.run["exit_code"] is None and "command" in case.run["error"].lower()


@pytest.mark.engine
def test_empty_import_diff_id_is_the_sha256_of_the_tar_bytes(engine, tmp_path):
    cases = _run(engine, "empty-import", tmp_path)
    assert cases["empty-1024"].diff_ids == [EMPTY_1024] == [oci.EMPTY_LAYER_DIFF_ID]
    assert cases["gnu-tar-10240"].diff_ids == [EMPTY_10240]
    assert cases["empty-1024"].engine_assigned == ["image_id", "save"]


@pytest.mark.engine
def test_from_scratch_only_legacy_refuses_buildkit_makes_the_predicted_image(engine, tmp_path):
    cases = _run(engine, "empty-dockerfile", tmp_path)
    assert not cases["legacy"].ok and "No image was generated" in cases["legacy"].error
    if engine.facts.buildkit:
        bk = cases["buildkit"]
        assert bk.ok and bk.layers == 0
        if not engine.facts.containerd_store:
            assert bk.image_id == bk.extra["predicted_id"]


@pytest.mark.engine
def test_hello_builders_give_labkits_predicted_diff_id(engine, tmp_path):
    legacy = _run(engine, "hello-legacy", tmp_path / "a")["legacy"]
    era = engine.facts.tar_era
    assert legacy.layers == 1
    assert legacy.diff_ids == [legacy.extra["predicted_diff_ids"][era]]
    assert legacy.run["stdout"] == "Hello from scratch!\n"
    assert legacy.extra["layer_tar_headers"][0]["name"] == "hello"
    if engine.facts.buildkit:
        buildkit = _run(engine, "hello-buildkit", tmp_path / "b")["buildkit"]
        assert buildkit.diff_ids == legacy.diff_ids
        assert [row["comment"] for row in buildkit.history] == ["buildkit.dockerfile.v0"] * 2


@pytest.mark.engine
def test_hello_variants_static_run_dynamic_fails_in_scratch(engine, tmp_path):
    cases = _run(engine, "hello-variants", tmp_path)
    assert cases["tiny"].run["stdout"] == "Hello from scratch!\n"
    assert cases["tiny"].extra["binary_size"] == cases["tiny"].size_inspect
    dynamic = cases["dynamic"]
    if dynamic.ok:
        assert dynamic.run["exit_code"] != 0 or dynamic.run["error"]
        assert dynamic.extra["interpreter"]


@pytest.mark.engine
def test_era_1_4_loads_with_three_history_rows_on_the_classic_store(engine, tmp_path):
    # Docker 1.4 committed one image per instruction: scratch, COPY, CMD.
    case = _run(engine, "era-1.4", tmp_path)["labkit-1.4"]
    if engine.facts.containerd_store:
        assert not case.ok and case.error
    else:
        assert case.ok and case.layers == 3 and len(case.history) == 3
        assert case.diff_ids[0] == case.diff_ids[2] == oci.EMPTY_LAYER_DIFF_ID
        assert "#(nop) CMD [/hello]" in case.history[2]["created_by"]


@pytest.mark.engine
def test_busybox_whiteout_hides_the_file_but_not_its_bytes(engine, tmp_path):
    need_path(scenarios.BUSYBOX, "busybox")  # the case records why
    cases = _run(engine, "busybox-whiteout", tmp_path)
    base, whiteout = cases["base"], cases["whiteout"]
    assert base.run["stdout"] == "hello from busybox\n1\n"
    assert whiteout.run["stdout"] == "hello from busybox\n0\n"
    assert whiteout.layers == base.layers + 1
    assert whiteout.diff_ids[0] == base.diff_ids[0]
    assert whiteout.extra["layer_sizes"][1] == 0
    assert whiteout.size_inspect == base.size_inspect > whiteout.extra["busybox_size"]


# --- what real programs need in scratch (notebook 02, step 5) ----------------------------------
FAILURE_SCENARIOS = ("scratch-exec", "scratch-user", "scratch-runtime")


def test_user_images_write_user_first_as_buildkit_does():
    from labkit.scenarios import failures

    need_path(scenarios.BUSYBOX, "busybox")
    images = failures.user_images()
    assert {name: image.user for name, image in images.items()} == {
        "user-nobody": "nobody", "user-65534": "65534", "user-passwd": "nobody"}
    assert images["user-nobody"].config_bytes().startswith(b'{"architecture":"amd64","config":{"User":"nobody",')


def _messages(engine, tmp_path):
    return {name: _run(engine, name, tmp_path / name) for name in FAILURE_SCENARIOS}


@pytest.mark.engine
def test_scratch_failures_give_the_kernels_and_runtimes_words(engine, tmp_path):
    need_lesson_tools("gcc", "busybox")        # else those cases are the recorded ones
    found = _messages(engine, tmp_path)
    exec_, user, runtime = (found[n] for n in FAILURE_SCENARIOS)
    for case in [*exec_.values(), *user.values(), *runtime.values()]:
        assert case.commands, "every case keeps the docker commands it ran"
    if exec_["dynamic"].ok:
        assert exec_["dynamic"].extra["message"].endswith("no such file or directory")
        assert exec_["dynamic"].extra["interpreter"].startswith("/lib")
    other = exec_["other-arch"].extra
    assert (other["engine_arch"], other["image_arch"]) == ("amd64", "arm64")
    if not other["emulated"]:
        assert other["message"].endswith("exec format error")
    no_exec = exec_["no-exec-bit"].extra
    assert no_exec["exit status"] == 126 and '"/hello": permission denied' in no_exec["message"]
    assert exec_["dynamic"].extra["runtime"].startswith("runc ")
    if not scenarios.BUSYBOX.is_file():
        return
    assert user["user-nobody"].extra["exit status"] == 125
    assert "unable to find user nobody: no matching entries in passwd file" in user["user-nobody"].extra["message"]
    assert user["user-65534"].extra["message"].startswith("uid=65534 gid=0")
    assert user["user-passwd"].extra["message"].startswith("uid=65534(nobody) gid=65534(nogroup)")
    assert runtime["not-there"].extra["message"].count("No such file or directory") == 3
    assert runtime["timezone"].extra["message"] == "00:00 Europe"
    container = runtime["container"]
    assert container.extra["command"].endswith(" sh")
    assert "executable file not found in $PATH" in container.extra["message"]
    export = next(r for r in container.command_runs() if r.command.startswith("docker export"))
    assert {".dockerenv", "etc/hosts", "etc/resolv.conf", "etc/hostname", "proc/", "sys/"} <= set(
        export.output.split())
    assert container.command_runs()[-1].command.startswith("docker rm -f")
    names = [c["Names"] for c in engine.api.containers(all=True)]
    assert not any(f"/{scenarios.namespace()}-scratch-runtime" in n for n in names), "the sleeper is removed"


@pytest.mark.engine
def test_scratch_failures_are_the_same_twice(engine, tmp_path):
    from labkit import observe

    first = observe.observe(engine, FAILURE_SCENARIOS)
    again = observe.observe(engine, FAILURE_SCENARIOS)
    assert observe.differences(observe.deterministic(first), observe.deterministic(again)) == []


@pytest.mark.fleet
@pytest.mark.parametrize("name", ["20.10.5", "20.10.24", "26.1.5", "28.5.2", "28.5.2-containerd"])
def test_fleet_engine_prints_the_recorded_failure_messages(name, fleet):
    """Each fleet engine prints, today, the very messages its recording shows."""
    from labkit import fleet as fleet_mod
    from labkit import observe

    if name not in fleet:
        pytest.fail(f"fleet engine {name} is not up", pytrace=False)
    eng = fleet_mod.engine(name)
    try:
        fresh = observe.observe(eng, FAILURE_SCENARIOS, name=name, endpoint=f"fleet:{name}")
    finally:
        eng.cleanup()
    recorded = observe.load(observe.DATA_DIR / f"{name}.json")
    for scenario in FAILURE_SCENARIOS:
        live, kept = fresh[scenario], recorded[scenario]
        assert {c: machine_neutral(case.extra.get("message") or "") for c, case in live.cases.items()} == \
            {c: machine_neutral(case.extra.get("message") or "") for c, case in kept.cases.items()}
        assert [c.masked_commands() for c in live.cases.values()] == \
            [c.masked_commands() for c in kept.cases.values()]
