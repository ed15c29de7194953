"""The lessons: notebook structure rules, solutions that pass their checkers, lesson helpers
and lesson views (``labkit.lessons``, the ``lesson views`` section of ``labkit.show``).

nbval itself runs the notebooks (``make notebooks-engine`` / ``make notebooks-offline``).
"""
from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import need, need_lesson_tools
from labkit import checks, hello, lessons, observe, oci, show, terminal
from labkit import engine as engine_mod
from labkit.errors import LabkitError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SOLUTIONS = ROOT / "notebooks" / "solutions"
WIDGET_CALLS = ("layer_explorer(", "engine_picker(")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _code(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_the_seven_lessons_exist():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_import_labkit_then_the_mode_line(path):
    code = _code(path)
    assert _source(code[0]) == "import labkit"
    assert _source(code[1]) == "labkit.show.mode_banner()" or _source(code[1]).endswith("labkit.doctor()")


#: A cell tagged so is plain Python a learner reads and changes (notebook 01 writes the empty
#: image with tarfile, hashlib and json): logic is its point, labkit has no part in it.
BY_HAND = "labkit-by-hand"


def _only_the_standard_library(cell: dict) -> None:
    for node in ast.walk(ast.parse(_source(cell))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert all(n.split(".")[0] in sys.stdlib_module_names for n in names), _source(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_hold_no_logic_and_only_public_labkit(path):
    for cell in _code(path):
        if _source(cell).startswith("%%terminal"):      # shell lines a learner types, not Python
            continue
        if BY_HAND in cell.get("metadata", {}).get("tags", []):
            _only_the_standard_library(cell)            # twenty lines that build an image by hand
            continue
        tree = ast.parse(_source(cell))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.For, ast.While, ast.If, ast.IfExp, ast.Try, ast.ListComp,
                                         ast.DictComp, ast.SetComp, ast.GeneratorExp, ast.FunctionDef,
                                         ast.Lambda, ast.Import, ast.ImportFrom)) or _source(cell) == "import labkit", \
                f"logic in a cell: {_source(cell)!r}"
            if isinstance(node, ast.Attribute):
                assert not node.attr.startswith("_"), f"private API in a cell: {_source(cell)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbval_markers_only_on_widget_cells(path):
    for cell in _code(path):
        tags = cell.get("metadata", {}).get("tags", [])
        assert "nbval-skip" not in tags and "# NBVAL" not in _source(cell)
        if "nbval-ignore-output" in tags:
            assert _source(cell).startswith("labkit.show.") and any(w in _source(cell) for w in WIDGET_CALLS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_are_clean(path):
    for cell in _code(path):
        assert cell["execution_count"] is not None, f"not executed: {_source(cell)!r}"
        for out in cell["outputs"]:
            assert out["output_type"] != "error", _source(cell)
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), _source(cell)
            assert "Warning" not in json.dumps(out.get("data", {}).get("text/plain", "")), _source(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_two_to_five_exercises_each_with_a_solution(path):
    number = path.stem[:2]
    called = re.findall(rf"labkit\.checks\.check_{number}_(\d)\((?:answer|prediction)\)",
                        "\n".join(_source(c) for c in _code(path)))
    assert 2 <= len(called) <= 5
    assert {f"{number}.{n}" for n in called} == {k for k in checks.EXERCISES if k.startswith(number)}
    solution = (SOLUTIONS / f"{path.stem}.md").read_text()
    assert all(f"check_{number}_{n}(" in solution for n in called)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_exercise_cells_are_unanswered(path):
    for cell in _code(path):
        if "labkit.checks.check_" in _source(cell):
            assert _source(cell).startswith(("answer = None", "prediction = None"))   # predict, then verify
            assert "Not answered yet" in json.dumps(cell["outputs"])


def _solution_blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (SOLUTIONS / f"{name}.md").read_text(), re.S)


@contextlib.contextmanager
def _tags_made_here_removed():
    """Remove, afterwards, the image tags that appeared on the engine meanwhile (a
    solution's ``hello:mine``): by tag, never forced. Nothing to do without an engine."""
    eng = engine_mod.try_connect()
    if eng is None:
        yield
        return

    before = eng.tags()
    try:
        yield
    finally:
        for tag in eng.tags() - before:
            eng.remove(tag)
        eng.api.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_pass_their_checkers(path, tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_PROGRESS", str(tmp_path / "progress.json"))
    monkeypatch.chdir(tmp_path)
    text = (SOLUTIONS / f"{path.stem}.md").read_text()
    need_lesson_tools(*lessons.needs_of(text, live=False))
    if "engine.connect()" in text and engine_mod.try_connect() is None:
        need("engine", f"the solutions of {path.stem} use this machine's engine: start Docker")
    lessons.workdir(path.stem[:2])  # as the notebook does before its exercises
    namespace: dict = {}
    verdicts = []
    with _tags_made_here_removed():
        for block in _solution_blocks(path.stem):
            lines = block.rstrip().splitlines()
            exec("\n".join(lines[:-1]), namespace)  # noqa: S102 - our own solutions
            verdicts.append(eval(lines[-1], namespace))  # the checker call
    unbuilt = [str(v) for v in verdicts if getattr(v, "unverified", False)]
    if unbuilt:   # e.g. 02.3 where the engine lacks the lab's build base
        need("engine", f"not judged here (run `labkit build-base` as root): {unbuilt}")
    assert verdicts and all(v.passed for v in verdicts), [str(v) for v in verdicts]


# --- labkit.lessons -----------------------------------------------------------------------
def test_workdir_is_fresh_every_time(tmp_path):
    work = lessons.workdir("01", root=tmp_path)
    (work / "left-over").write_text("x")
    assert lessons.workdir("01", root=tmp_path) == work and not any(work.iterdir())


@pytest.mark.parametrize("name", ["", ".", "/tmp", "../x", "a/../../b"])
def test_workdir_never_empties_a_folder_outside_its_root(tmp_path, name):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "file").write_text("x")
    with pytest.raises(LabkitError, match="not a folder name"):
        lessons.workdir(name, root=keep / "work")
    assert (keep / "file").exists()


def test_run_here_runs_the_tiny_hello(tmp_path):
    program = hello.build("tiny", tmp_path / "hello", message=b"hi\n")
    assert lessons.run_here(program) == "hi\n"


def test_run_here_errors_are_one_line(tmp_path):
    (tmp_path / "text").write_text("not a program")
    (tmp_path / "text").chmod(0o755)
    with pytest.raises(LabkitError, match="could not start here"):
        lessons.run_here(tmp_path / "text")
    (tmp_path / "fail").write_text("#!/bin/sh\nexit 3\n")
    (tmp_path / "fail").chmod(0o755)
    with pytest.raises(LabkitError, match="exited with status 3"):
        lessons.run_here(tmp_path / "fail")


# --- labkit.show lesson views ----------------------------------------------------------------
def test_mode_banner_offline_names_the_recording(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/labkit-test.sock")
    banner = show.mode_banner()
    date = observe.reference().provenance["date"]
    assert str(banner) == (f"Mode: offline — no Docker engine answered; engine cells show what Docker "
                           f"20.10.24 did, recorded on {date}; labkit's own builder runs here.")
    assert "labkit-note" in banner._repr_html_()


def test_mode_banner_live(engine):
    assert str(show.mode_banner(engine)).startswith(f"Mode: live — Docker {observe.short_version(engine.facts.version)}")


def _sanitize(text: str) -> str:
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "notebooks" / "sanitize.cfg")
    for section in cfg.sections():
        text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
    return text


def test_sanitize_maps_live_and_recorded_lines_to_one_token():
    live = "Mode: live — Docker 20.10.24 answers at unix:///var/run/docker.sock; engine cells build and run on it now."
    offline = str(show.Note("Mode: offline — no Docker engine answered; engine cells show what Docker 20.10.24 "
                            "did, recorded on 2026-11-27; labkit's own builder runs here."))
    assert _sanitize(live) == _sanitize(offline)
    assert _sanitize("live Docker 20.10.24") == _sanitize("recorded on Docker 20.10.24 (2026-11-27)")
    assert _sanitize("live Docker 20.10.24") != _sanitize("recorded on Docker 28.5.2 (2026-11-27)")
    assert _sanitize("0123456789ab (set at build time)") == _sanitize("ba9876543210 (set at build time)")
    assert _sanitize("0123456789ab") != _sanitize("ba9876543210")


def test_sanitize_takes_the_lines_of_a_fresh_docker_save_listing_in_any_order():
    v = "<span class='labkit-varies'>VARIES</span>"
    first, then = f"{v}.json\n{v}/\n{v}/layer.tar\nmanifest.json\n", f"{v}/\n{v}/layer.tar\n{v}.json\nmanifest.json\n"
    assert _sanitize(first) == _sanitize(then)
    assert _sanitize(first) != _sanitize(f"{v}/\n{v}/layer.tar\nmanifest.json\n{v}/json\n")


def test_scenario_view_marks_build_time_ids():
    view = show.scenario(observe.scenario("empty-import"), ["image", "diff_ids", "run"])
    text = str(view)
    assert text.startswith("recorded on Docker 20.10.24")
    assert text.count(show.BUILD_TIME_MARK) == 2
    assert "5f70bf18a086" in text and "error: No command specified" in text
    exact = str(show.scenario(observe.scenario("empty-labkit"), ["image", "predicted_id"]))
    assert show.BUILD_TIME_MARK not in exact and exact.count(oci.Image().image_id[7:19]) == 2


def test_hello_sizes_plot_has_every_bar():
    fig = show.hello_sizes(observe.scenario("hello-variants"))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "official hello-world program" in labels and "tiny: layer tar" in labels
    assert "dynamic: program" in labels


def test_one_file_layer_size_is_what_labkit_writes():
    for n in (0, 1, 170, 512, 513, 13376):
        assert oci.one_file_layer_size(n) == len(oci.layer_tar([oci.Entry.file("hello", bytes(n))]))


def test_image_view_lists_layers_entries_and_whiteouts(tmp_path):
    image = oci.Image([[oci.Entry.dir("data"), oci.Entry.file("data/a", b"abc"), oci.Entry.symlink("b", "data/a")],
                       [oci.Entry.whiteout("data/a")]])
    text = str(show.image(image.write(tmp_path / "i.tar")))
    assert "2 layer(s); merged files: none" in text
    assert "b -> data/a, data/, data/a (3 B)" in text and "data/.wh.a (whiteout)" in text


def test_header_diff_names_the_fields_that_differ():
    rows = show.header_diff(oci.Entry.file("hello", b"hi")).rows
    assert {r["field"] for r in rows if r["differs"]} == {"mode", "chksum", "uname", "gname", "layer diff_id"}


def test_across_marks_build_time_ids_and_shows_save_errors():
    text = str(show.across(observe.recorded(), "hello-legacy"))
    assert text.count(show.BUILD_TIME_MARK) == len(observe.recorded())
    empty = show.across(observe.recorded(), "empty-labkit", ["save format"]).rows
    assert {"engine": "20.10.24", "case": "labkit", "save format": "error: empty export - not implemented"} in empty


def test_across_says_columns_that_never_change_once_so_the_table_fits():
    t = show.across(observe.recorded(), "hello-legacy")
    assert "case" not in t.columns and "run" not in t.columns and "diff_ids" in t.columns
    assert "the same on every one: case legacy, builder legacy, layers 1, run exit 0: Hello from scratch!" in t.title
    assert all(r["run"] == "exit 0: Hello from scratch!" for r in t.rows)   # rows keep every fact
    assert max(len(line) for line in str(t).splitlines()[1:]) < 160
    one = show.across(observe.recorded()[:1], "hello-legacy", ["layers"])
    assert one.columns == ["engine", "case", "layers"]                     # one row: nothing to factor out


def test_header_diff_of_one_era_against_itself_differs_nowhere():
    rows = show.header_diff(oci.Entry.file("hello", b"hi"), eras=("modern", "modern")).rows
    assert not [r["field"] for r in rows if r["differs"]]


def test_engines_table_lists_each_recording():
    rows = show.engines(observe.recorded()).rows
    assert {"20.10.24"} <= {r["engine"] for r in rows}
    assert all(r["source"].startswith("recorded on Docker ") for r in rows)


def test_engines_table_names_podman_as_podman():
    rows = show.engines(observe.recorded(podman=True)).rows
    podman = [r for r in rows if r["engine"].startswith("podman-")]
    assert podman and {r["product"] for r in podman} == {"Podman"}
    assert {r["product"] for r in rows if r not in podman} == {"Docker"}


# --- issue 14: nothing crashes on a macOS/Windows host ---------------------------------------
@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_run_here_says_why_it_does_not_run_a_linux_program_on_macos_or_windows(tmp_path, monkeypatch, platform):
    program = hello.build("tiny", tmp_path / "hello")
    monkeypatch.setenv("LABKIT_HOST_PLATFORM", platform)
    text = lessons.run_here(program)
    assert text.startswith(lessons.NOT_RUN) and text.count("\n") == 1
    assert "is a Linux x86_64 program" in text and "not Linux ones" in text


def test_run_here_does_not_start_a_program_for_another_architecture(tmp_path):
    other = "aarch64" if hello.default_arch() == "x86_64" else "x86_64"
    text = lessons.run_here(hello.build("tiny", tmp_path / "hello", arch=other))
    assert text.startswith(lessons.NOT_RUN) and f"does not run {other} programs" in text


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_busybox_on_macos_or_windows_is_none_with_a_labelled_stand_in(tmp_path, monkeypatch, platform):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/labkit-test.sock")
    monkeypatch.setenv("LABKIT_HOST_PLATFORM", platform)
    monkeypatch.delenv("LABKIT_BUSYBOX", raising=False)
    found = lessons.busybox()
    assert found.path is None and "LABKIT_BUSYBOX" in found.reason and "none here" in str(found)
    layer = [oci.Entry.file("bin/busybox", source=found.source(tmp_path), mode=0o755),
             oci.Entry.symlink("bin/sh", "busybox")]
    info = oci.inspect(oci.Image([layer]).write(tmp_path / "work" / "base.tar"))
    assert "bin/busybox" in info.files                      # exercise 05.1's checker still applies:
    assert checks.check_05_1(str(tmp_path / "work" / "base.tar")).unverified     # nothing here can run sh


def test_busybox_follows_the_engines_architecture(engine, monkeypatch):
    monkeypatch.delenv("LABKIT_BUSYBOX", raising=False)
    found = lessons.busybox(engine)
    assert found.arch == {"amd64": "x86_64", "arm64": "aarch64"}[engine.facts.arch]


def test_sanitize_drops_the_banners_lines_about_this_machine():
    one = "Mode: offline — no Docker engine answered; engine cells show what Docker 20.10.24 did, recorded on 2026-11-27; labkit's own builder runs here."
    laptop = show.Note(one + "\n" + show.DIFFERS + "macOS host: the notebook runs outside …\n"
                       + show.DIFFERS + "arm64 engine: labkit builds for arm64 …")
    assert _sanitize(str(laptop)) == _sanitize(one)
    assert _sanitize(laptop._repr_html_()) == _sanitize(show.Note(one)._repr_html_())


def test_sanitize_drops_the_doctors_rows_about_this_machine(monkeypatch):
    from labkit import machine

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/labkit-test.sock")
    monkeypatch.setenv("LABKIT_HOST_PLATFORM", "linux/amd64")
    plain = machine.report()
    monkeypatch.setenv("LABKIT_HOST_PLATFORM", "win32/arm64")
    laptop = machine.report()
    assert laptop.differences and not plain.differences
    plain.hello_variants = laptop.hello_variants = {}   # values are masked anyway; rows differ in number
    assert _sanitize(laptop.text()) == _sanitize(plain.text())
    assert _sanitize(laptop._repr_html_()) == _sanitize(plain._repr_html_())


def _scenarios_shown() -> set[str]:
    """Every scenario a notebook's code asks for by name."""
    names = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")) + sorted(
            (ROOT / "notebooks" / "deep-dives").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                names.update(re.findall(r'"([a-z0-9.-]+)"', "".join(cell["source"])))
    return names & set(observe.SCENARIOS)


def test_every_scenario_a_lesson_shows_has_its_commands_recorded_on_every_engine():
    shown = _scenarios_shown()
    assert {"empty-labkit", "hello-legacy", "hello-variants", "busybox-whiteout"} <= shown
    missing = [f"{obs.name}: {name}/{case_name}"
               for obs in observe.recorded() for name in sorted(shown) if name in obs.results
               for case_name, case in obs[name].cases.items()
               if not (case.commands or case.extra.get("cli")) and not case.extra.get("not_here")
               and not (case.error or "").startswith(("no compiler", "needs"))]
    recorded_names = {obs.name for obs in observe.recorded()}
    assert {"20.10.5", "20.10.24", "26.1.5", "28.5.2", "28.5.2-containerd"} <= recorded_names
    assert all(name in obs.results for obs in observe.recorded() for name in shown)
    assert not missing, "record them again (`labkit record ENGINE --scenario S`):\n" + "\n".join(missing)


# --- hello_program / hello_image / hello_map (notebooks 02 and 03, their deep dives) -----------
def test_hello_image_writes_a_loadable_one_file_image(tmp_path):
    note = lessons.hello_image("tiny", tmp_path / "t.tar", "hello:t", mode=0o644, user="nobody")
    info = oci.inspect(tmp_path / "t.tar")
    assert str(note).startswith(f"{tmp_path / 't.tar'} (hello:t): /hello is hello-tiny, a static ")
    assert (info.config["config"]["Cmd"], info.config["config"]["User"]) == (["/hello"], "nobody")
    assert oct(info.layers[0].entries[0].mode) == "0o644"


def test_hello_image_for_the_other_processor_is_labelled_as_such(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/labkit-test.sock")
    note = lessons.hello_image("tiny", tmp_path / "o.tar", "hello:o", arch="other")
    here = lessons.machine.target(None).arch
    other = "aarch64" if here == "x86_64" else "x86_64"
    assert f"a static {other} program" in str(note)
    assert oci.inspect(tmp_path / "o.tar").config["architecture"] == lessons.host.oci_arch(other)
    assert (tmp_path / f"hello-tiny-{other}").is_file()


def test_a_dynamic_hello_never_names_its_interpreter_before_the_lesson_asks(tmp_path):
    if hello.available().get("dynamic"):
        pytest.skip("no gcc here")
    note = str(lessons.hello_image("dynamic", tmp_path / "d.tar", "hello:d"))
    assert "dynamically linked" in note and "ld-linux" not in note


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_hello_image_without_a_linux_compiler_says_so_in_one_line(tmp_path, monkeypatch, platform):
    monkeypatch.setenv("LABKIT_HOST_PLATFORM", platform)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/labkit-test.sock")
    note = str(lessons.hello_image("dynamic", tmp_path / "d.tar", "hello:d"))
    assert note.startswith(f"{tmp_path / 'd.tar'} was not written: not built here:") and "\n" not in note
    assert not (tmp_path / "d.tar").exists()
    assert isinstance(lessons.hello_map("musl-static", tmp_path), show.Note)


def test_hello_map_titles_the_variant_and_its_parts(tmp_path):
    assert lessons.hello_map("tiny", tmp_path).title.startswith("the tiny hello: 170 bytes = ELF header 64")


def test_across_can_say_dash_for_missing_values_and_keep_full_values_for_hover():
    t = show.across(observe.recorded(), "era-1.4", ["image", "layers", "diff_ids"], missing="—", hover=True)
    refused = [r for r in t.rows if str(r["image"]).startswith("error")]
    assert refused and "—" in str(t)
    html = t._repr_html_()
    assert "title='sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef, sha256:afb7" in html
    plain = show.across(observe.recorded(), "era-1.4", ["image", "layers"])
    assert "title=" not in plain._repr_html_() and "—" not in str(plain)


# --- what a lesson's stored outputs assume (nbval strict or lax: notebooks/conftest.py) ------
def test_each_notebook_assumes_the_programs_its_steps_call():
    """Read from what the cells call, whatever the notebooks are named (issue 17 renumbers them)."""
    live = {p.stem: set(lessons.assumes(p)) for p in NOTEBOOKS}
    offline = {p.stem: set(lessons.assumes(p, live=False)) for p in NOTEBOOKS}
    registry_lessons = [p.stem for p in NOTEBOOKS if "labkit.registry.start(" in p.read_text()]
    assert registry_lessons and all({"docker-registry", "busybox"} <= offline[n] for n in registry_lessons)
    assert live[NOTEBOOKS[0].stem] == set()                         # 00: nothing optional
    assert {"gcc", "musl-gcc"} <= set().union(*(live[n] - offline[n] for n in live))   # offline: recorded
    known = set(lessons.PACKAGES) | set(terminal.PACKAGES)
    assert set().union(*live.values()) <= known


def test_what_is_missing_here_names_the_package(monkeypatch, tmp_path):
    notebook = tmp_path / "09-anything.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [
        "reg = labkit.registry.start(work)\n", 'x = labkit.observe.scenario("hello-variants", engine=eng)']}]}))
    monkeypatch.setattr(lessons, "have", lambda program: program != "docker-registry")
    assert lessons.missing_here(notebook) == {"docker-registry": "docker-registry"}
    monkeypatch.setattr(lessons, "have", lambda program: False)
    assert lessons.missing_here(notebook, live=False) == {"docker-registry": "docker-registry"}
    assert lessons.missing_here(notebook) == {"docker-registry": "docker-registry", "gcc": "gcc libc6-dev",
                                              "musl-gcc": "musl-tools"}


def test_nbval_is_strict_where_the_machine_matches_and_lax_otherwise(tmp_path):
    """notebooks/conftest.py, on a notebook whose stored output says a static busybox was here."""
    import subprocess
    import sys

    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": [
        "import labkit\n", "print(labkit.lessons.busybox().path is not None)"],
        "outputs": [{"name": "stdout", "output_type": "stream", "text": ["True\n"]}]}
    book = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "07-probe.ipynb").write_text(json.dumps(book))
    (tmp_path / "conftest.py").write_text((ROOT / "notebooks" / "conftest.py").read_text())

    def nbval(**env) -> str:
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval", "07-probe.ipynb"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/labkit-test.sock", **env})
        assert done.returncode == 0, done.stdout[-2000:]
        return done.stdout

    lax = nbval(LABKIT_BUSYBOX="none")          # prints False: only run, not compared
    assert "nbval: outputs not compared for 07-probe (not here: busybox; apt-get install busybox-static)" in lax
    if lessons.have("busybox"):
        assert "outputs not compared" not in nbval()
