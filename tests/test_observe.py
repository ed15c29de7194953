"""labkit.observe: recorded files, the deterministic fields, live observations, the CLI."""
from __future__ import annotations

import json

import pytest

from conftest import need, need_lesson_tools
from labkit import cli, lessons, observe
from labkit.errors import LabkitError
from labkit.scenarios import Case


def _fake_observation(**case_fields) -> dict:
    case = Case("legacy", image_id="sha256:" + "ab" * 32, layers=1,
                diff_ids=["sha256:" + "cd" * 32],
                save={"format": "docker-archive", "error": None,
                      "files": ["ff" * 32 + "/layer.tar", "00" * 32 + ".json", "manifest.json"]},
                engine_assigned=["image_id", "save"], **case_fields)
    return {"schema": 1, "name": "9.9.9",
            "provenance": {"engine_version": "9.9.9", "date": "2026-01-01", "kernel": "6.1",
                           "recorded_at": "2026-01-01T00:00:00Z", "endpoint": "local",
                           "image_store": "classic"},
            "results": {"hello-legacy": {"scenario": "hello-legacy", "description": "d",
                                         "cases": {"legacy": case.to_dict()}}}}


# --- deterministic fields ---------------------------------------------------------------
def test_mask_ids_masks_long_and_short_hex_ids_only():
    assert observe.mask_ids("sha256:" + "a1" * 32) == "sha256:<id>"
    assert observe.mask_ids(["0123456789ab", "hello", 7]) == ["<id>", "hello", 7]
    assert observe.mask_ids({"k": "COPY file:" + "f" * 64}) == {"k": "COPY file:<id>"}


def test_deterministic_drops_volatile_provenance_and_masks_engine_assigned_fields():
    data = observe.deterministic(_fake_observation())
    assert set(data["provenance"]) == {"engine", "engine_version", "image_store"}   # engine: Docker unless said
    case = data["results"]["hello-legacy"]["cases"]["legacy"]
    assert case["image_id"] == "sha256:<id>"
    assert case["save"]["files"] == ["<id>.json", "<id>/layer.tar", "manifest.json"]
    assert case["diff_ids"] == ["sha256:" + "cd" * 32]  # not engine-assigned: kept


def test_deterministic_ignores_what_a_rebuild_changes_and_nothing_else():
    a, b = _fake_observation(), _fake_observation()
    b["provenance"].update(date="2027-01-01", kernel="6.12")
    b["results"]["hello-legacy"]["cases"]["legacy"]["image_id"] = "sha256:" + "99" * 32
    assert observe.deterministic(a) == observe.deterministic(b)
    b["results"]["hello-legacy"]["cases"]["legacy"]["layers"] = 2
    assert observe.deterministic(a) != observe.deterministic(b)


def test_differences_name_the_path_and_both_values():
    assert observe.differences({"a": {"b": [1, {"c": 2}]}}, {"a": {"b": [1, {"c": 3}]}}) == [
        "a/b[1]/c: 2 != 3"]
    assert observe.differences({"a": 1}, {"a": 1, "z": None}) == []
    assert observe.differences([1], [1, 2]) == [": [1] != [1, 2]"]


def test_deterministic_does_not_change_its_argument():
    data = _fake_observation()
    observe.deterministic(data)
    assert data["provenance"]["date"] == "2026-01-01"


# --- recorded files ------------------------------------------------------------------------
def test_the_reference_recording_covers_every_scenario():
    obs = observe.reference()
    assert obs.name == observe.REFERENCE
    assert list(obs.results) == list(observe.SCENARIOS)
    assert obs.provenance["image_store"] == "classic"
    assert obs.source.startswith("recorded on Docker 20.10.24 (")


def test_recorded_file_round_trips_byte_for_byte(tmp_path):
    path = observe.DATA_DIR / f"{observe.REFERENCE}.json"
    written = observe.load(path).write(tmp_path)
    assert written.name == path.name
    assert written.read_bytes() == path.read_bytes()


def test_recorded_files_are_written_with_indent_1():
    for path in observe.DATA_DIR.glob("*.json"):
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=1) + "\n", path.name


def test_recorded_lists_every_file_in_version_order(tmp_path):
    for name in ("28.5.2-containerd", "20.10.5", "28.5.2"):
        data = _fake_observation()
        data["name"] = name
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    assert [o.name for o in observe.recorded(tmp_path)] == ["20.10.5", "28.5.2", "28.5.2-containerd"]


def test_load_refuses_what_is_not_an_observation(tmp_path):
    (tmp_path / "x.json").write_text('{"schema": 99}')
    with pytest.raises(LabkitError, match="not a labkit observation"):
        observe.load(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("{")
    with pytest.raises(LabkitError, match="is not JSON"):
        observe.load(tmp_path / "y.json")
    with pytest.raises(LabkitError, match="cannot read"):
        observe.load(tmp_path / "missing.json")


# --- the notebook-facing API ---------------------------------------------------------------
def test_scenario_without_engine_is_the_reference_recording():
    result = observe.scenario("empty-import")
    assert result.source == observe.reference().source
    assert result["empty-1024"].diff_ids == [
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]


def test_result_attributes_fall_through_to_its_main_case():
    result = observe.scenario("hello-legacy")
    assert result.layers == result["legacy"].layers == 1
    assert result.main is result.cases["legacy"]
    with pytest.raises(LabkitError, match="has no case"):
        result["nope"]
    with pytest.raises(AttributeError):
        result.no_such_field


def test_result_and_observation_say_where_they_come_from():
    # Plain data: labkit.show renders them (show.scenario, show.comparison).
    result = observe.scenario("hello-legacy")
    assert "recorded on Docker 20.10.24" in repr(result) and "1 case(s)" in repr(result)
    assert "recorded on Docker 20.10.24" in repr(observe.reference())
    assert not hasattr(result, "_repr_html_")


def test_unknown_scenario_is_one_clear_error():
    with pytest.raises(LabkitError, match="unknown scenario 'nope'; choose one of empty-labkit"):
        observe.scenario("nope")


def test_configuration_names():
    assert observe.short_version("20.10.24+dfsg1") == "20.10.24"
    assert observe.short_version("26.1.5") == "26.1.5"


def test_observation_file_names_are_safe_for_any_engine_name(tmp_path):
    data = _fake_observation()
    data["name"] = "archive:/tmp/docker-27.3.1.tgz"
    path = observe.from_dict(data).write(tmp_path)
    assert path == tmp_path / "archive-tmp-docker-27.3.1.tgz.json"
    assert observe.load(path).name == "archive:/tmp/docker-27.3.1.tgz"


@pytest.mark.parametrize("damage", [lambda d: d.pop("results"), lambda d: d.pop("provenance"),
                                    lambda d: d["results"]["hello-legacy"].pop("cases"),
                                    lambda d: d["results"].update({"x": []})])
def test_a_malformed_observation_file_is_one_error_line(tmp_path, capsys, damage):
    data = _fake_observation()
    damage(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert cli.main(["compare", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: a malformed labkit observation") and err.count("\n") == 1


def test_recorded_sorts_any_engine_names_without_failing(tmp_path):
    for name in ("static:27.3.1", "28.5.2-containerd", "28.5.2", "20.10.24", "archive:/x/docker-9.tgz"):
        data = _fake_observation()
        data["name"] = name
        observe.from_dict(data).write(tmp_path)
    assert [o.name for o in observe.recorded(tmp_path)] == [
        "20.10.24", "28.5.2", "28.5.2-containerd", "archive:/x/docker-9.tgz", "static:27.3.1"]


def test_record_says_when_a_fleet_engine_is_not_its_catalog_version():
    moved = observe.from_dict(_fake_observation())
    moved.provenance["engine_version"] = "29.0.1+dfsg1"
    note = observe.moved_on("28.5.2", moved)
    assert note.startswith("fleet engine 28.5.2 answers as Docker 29.0.1, not 28.5.2 (Debian sid moved on)")
    moved.provenance["engine_version"] = "28.5.2+dfsg4"
    assert observe.moved_on("28.5.2", moved) is None
    assert observe.moved_on(None, moved) is None                  # the engine at DOCKER_HOST


# --- the command line -------------------------------------------------------------------
def test_compare_json_over_recorded_files(capsys):
    path = observe.DATA_DIR / f"{observe.REFERENCE}.json"
    assert cli.main(["compare", "--json", str(path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["scenario"] for r in rows} == set(observe.SCENARIOS)
    assert all(r["engine"] == observe.REFERENCE for r in rows)


def test_compare_names_a_missing_source_in_one_line(capsys):
    assert cli.main(["compare", "no-such.json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read no-such.json") and err.count("\n") == 1


# --- live ------------------------------------------------------------------------------------
@pytest.mark.engine
def test_live_observation_says_it_is_live(engine):
    obs = observe.observe(engine, ["empty-labkit"])
    assert obs.live and obs.source.startswith("live Docker ")
    assert obs["empty-labkit"].layers == 0
    assert observe.scenario("empty-labkit", engine=engine).source == obs.source


@pytest.mark.engine
def test_record_reproduces_the_committed_reference(engine, tmp_path, capsys):
    """`labkit record` on the reference engine gives the committed deterministic fields."""
    if observe.configuration_name(engine.facts) != observe.REFERENCE:
        need("engine", f"the engine is not Docker {observe.REFERENCE} with the classic store")
    need_lesson_tools(*lessons.PACKAGES)      # the reference was recorded where all of them run
    assert cli.main(["record", "--out", str(tmp_path)]) == 0
    written = tmp_path / f"{observe.REFERENCE}.json"
    assert capsys.readouterr().out.strip() == str(written)
    fresh = observe.load(written)
    assert observe.differences(observe.deterministic(fresh),
                               observe.deterministic(observe.reference())) == []


@pytest.mark.fleet
@pytest.mark.parametrize("name", sorted(o.name for o in observe.recorded()))   # Docker's (Podman's: test_fleet_podman)
def test_fleet_engine_reproduces_its_committed_observation(name, fleet):
    from labkit import fleet as fleet_mod

    if name not in fleet:     # the fixture brings the default fleet up (or skips/fails)
        need("fleet", f"fleet engine {name} is not up (labkit fleet up {name})")
    eng = fleet_mod.engine(name)
    try:
        fresh = observe.observe(eng, name=name, endpoint=f"fleet:{name}")
    finally:
        eng.cleanup()
    committed = observe.load(observe.DATA_DIR / f"{name}.json")
    assert observe.moved_on(name, fresh) is None, observe.moved_on(name, fresh)
    assert observe.differences(observe.deterministic(fresh), observe.deterministic(committed)) == []


def test_versions_are_the_recordings_when_no_fleet_engine_is_up(monkeypatch):
    monkeypatch.setattr(observe, "fleet_up", lambda: set())
    got = observe.versions()
    assert [o.name for o in got] == [o.name for o in observe.recorded()]
    assert not any(o.live for o in got)


@pytest.mark.engine
def test_on_a_mac_compiled_hellos_and_busybox_come_from_the_recording(engine, monkeypatch):
    """Issue 14: live on an engine, but the host (simulated macOS) has no Linux compiler
    and no busybox: those cases are the reference recording's, labelled; tiny is live."""
    monkeypatch.setenv("LABKIT_HOST_PLATFORM", "darwin")
    monkeypatch.delenv("LABKIT_BUSYBOX", raising=False)
    result = observe.scenario("hello-variants", engine=engine)
    assert result["tiny"].ok and "recorded" not in result["tiny"].extra
    ref = observe.reference()["hello-variants"]
    for variant in ("nostdlib", "musl-static", "glibc-static", "dynamic"):
        case = result[variant]
        assert case.extra["recorded"] == observe.reference().source
        assert case.size_listed == ref[variant].size_listed and "Linux C toolchain" in case.extra["not_here"]
    assert "nostdlib, musl-static, glibc-static, dynamic: recorded on Docker 20.10.24" in result.source
    busybox = observe.scenario("busybox-whiteout", engine=engine)
    assert all(c.ok and c.extra.get("recorded") for c in busybox.cases.values())
    from labkit import show

    text = str(show.scenario(result, ["run"]))
    assert "musl-static (recorded)" in text and "tiny (recorded)" not in text
