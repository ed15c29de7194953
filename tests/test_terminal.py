"""labkit.terminal: a lesson's terminal lines, live or replayed from the recording."""
from __future__ import annotations

import json

import pytest

from labkit import hello, oci, terminal
from labkit.show import transcripts


@pytest.fixture()
def recordings(tmp_path, monkeypatch):
    """An empty recordings folder, and lesson "t" in use."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    monkeypatch.setattr(terminal.recording_mod, "RECORDINGS", folder)
    monkeypatch.setattr(terminal, "_lesson", "t")
    return folder


def write_recording(folder, commands, engine=None):
    engine = engine or {"version": "20.10.24", "containerd_store": False, "date": "2026-12-06"}
    (folder / "t.json").write_text(json.dumps({"schema": 1, "engine": engine, "commands": commands}))


@pytest.mark.parametrize("script, expected", [
    ("docker images\n\n  # a comment\ndocker ps", ["docker images", "docker ps"]),
    ("docker run --rm \\\n   --network none x", ["docker run --rm --network none x"]),
    ("docker run \\", ["docker run"]),
    ("", []),
])
def test_lines(script, expected):
    assert terminal.lines(script) == expected


@pytest.mark.parametrize("line, expected", [
    ("docker load -i work/01/empty.tar", ["docker"]),
    ("DOCKER_BUILDKIT=0 docker build -t x .", ["docker"]),
    ("docker save x | tar -tv", ["docker", "tar"]),
    ("truncate -s 1024 a.tar && docker import a.tar x", ["truncate", "docker"]),
    ("echo 'a | b'", ["echo"]),
    ("docker run x 'unbalanced", ["docker"]),
    ("export UPLOAD=$(curl -s -X POST http://$REGISTRY/v2/ | sed -n 's/x//p')", ["curl", "sed"]),
    ("DIGEST=sha256:$(sha256sum f | cut -c1-64)", ["sha256sum", "cut"]),
    ("echo `date`", ["echo", "date"]),
    ("docker export lab-03 | tar -tv", ["docker", "tar"]),        # export: a word, not the keyword
    ("export X=1 && docker ps", ["docker"]),
])
def test_programs(line, expected):
    assert terminal.programs(line) == expected


@pytest.mark.parametrize("line, expected", [
    ("docker build -t a:1 --tag b:2 --tag=c:3 ctx", {"a:1", "b:2", "c:3"}),
    ("DOCKER_BUILDKIT=1 docker image build -t a ctx", {"a"}),
    ("docker import f.tar empty:lab", {"empty:lab"}),
    ("docker import f.tar", set()),
    ("docker commit c snap:1", {"snap:1"}),
    ("docker load -i x.tar", set()),
    ("tar -tvf x.tar", set()),
])
def test_built_by(line, expected):
    assert terminal.built_by(line) == expected


def test_work_files_digests_files_and_folders(tmp_path):
    (tmp_path / "work" / "02" / "ctx").mkdir(parents=True)
    (tmp_path / "work" / "02" / "hello.tar").write_bytes(b"x")
    (tmp_path / "work" / "02" / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    found = terminal.work_files("docker load -i work/02/hello.tar && docker build work/02/ctx "
                                "-o type=tar,dest=work/02/out.tar", tmp_path)
    assert set(found) == {"work/02/hello.tar", "work/02/ctx"}
    assert found["work/02/hello.tar"] == "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    before = found["work/02/ctx"]
    (tmp_path / "work" / "02" / "ctx" / "Dockerfile").write_text("FROM scratch\nCMD [\"/x\"]\n")
    assert terminal.digest_path(tmp_path / "work" / "02" / "ctx") != before


def test_live_without_an_engine_runs_in_one_shell(tmp_path, recordings):
    session = terminal.run("cd /\nX=1\necho $X $(pwd)\nfalse\nprintf 'no newline'", folder=tmp_path)
    assert session.live and session.source == "live on this machine"
    assert [line.run.exit_code for line in session.lines] == [0, 0, 0, 1, 0]
    assert session.lines[2].run.output == "1 /\n"
    assert session.lines[4].run.output == "no newline"


def test_offline_replays_the_recording_and_says_where_it_differs(tmp_path, recordings, monkeypatch):
    monkeypatch.setattr(terminal.engine_mod, "try_connect", lambda *a, **k: None)
    (tmp_path / "work" / "02").mkdir(parents=True)
    mine = tmp_path / "work" / "02" / "hello.tar"
    mine.write_bytes(b"the reference")
    write_recording(recordings, {
        "docker load -i work/02/hello.tar": {"exit_code": 0, "output": "Loaded image: hello:labkit\n",
                                             "inputs": {"work/02/hello.tar": terminal.digest_path(mine)}},
        "docker run --rm --network none hello:labkit": {"exit_code": 0, "output": "Hello from scratch!\n"}})
    cell = "docker load -i work/02/hello.tar\ndocker run --rm --network none hello:labkit\ndocker ps"
    session = terminal.run(cell, folder=tmp_path)
    assert session.source == "recorded on Docker 20.10.24 (2026-12-06)"
    assert "no Docker engine answered" in session.why
    assert [line.note for line in session.lines[:2]] == ["", ""]
    assert session.lines[2].note.startswith("not recorded")
    mine.write_bytes(b"the learner changed it")
    changed = terminal.run(cell, folder=tmp_path)
    assert "your work/02/hello.tar is not the file this was recorded with" in changed.lines[0].note
    assert changed.lines[0].run.output == "Loaded image: hello:labkit\n"     # still the recording, labelled


def test_a_missing_program_replays_with_its_install_line(tmp_path, recordings):
    write_recording(recordings, {"labkit-no-such-program --help": {"exit_code": 0, "output": "help\n"}})
    session = terminal.run("labkit-no-such-program --help", folder=tmp_path)
    assert not session.live
    assert "labkit-no-such-program (apt-get install labkit-no-such-program)" in session.why
    assert session.lines[0].run.output == "help\n"


def test_record_keeps_an_entry_that_only_varies(tmp_path, recordings, monkeypatch):
    class Facts:
        version, containerd_store, storage_driver = "20.10.24+dfsg1", False, "overlay2"

    class Eng:
        facts, cli = Facts(), "/usr/bin/docker"

    line = "docker images x"
    first = terminal.Session("live Docker 20.10.24", (terminal.Line(terminal.CommandRun(
        line, 0, "REPOSITORY  TAG  IMAGE ID  CREATED  SIZE\nx  latest  3ea01432caea  2 seconds ago  170B\n")),),
        frozenset({"3ea01432caea"}))
    path = terminal.record(first, Eng(), tmp_path, "t", [line])
    data = json.loads(path.read_text())
    assert data["engine"]["version"] == "20.10.24" and data["commands"][line]["varying"] == ["3ea01432caea"]
    data["engine"]["date"] = "2026-01-01"
    path.write_text(json.dumps(data))
    again = terminal.Session("live Docker 20.10.24", (terminal.Line(terminal.CommandRun(
        line, 0, "REPOSITORY  TAG  IMAGE ID  CREATED  SIZE\nx  latest  77ab01432cff  5 seconds ago  170B\n")),),
        frozenset({"77ab01432cff"}))
    terminal.record(again, Eng(), tmp_path, "t", [line])
    assert json.loads(path.read_text())["engine"]["date"] == "2026-01-01"     # nothing real changed
    changed = terminal.Session("live Docker 20.10.24", (terminal.Line(terminal.CommandRun(line, 1, "gone\n")),))
    terminal.record(changed, Eng(), tmp_path, "t", [line])
    assert json.loads(path.read_text())["engine"]["date"] != "2026-01-01"


def test_transcript_shades_what_varies_and_shows_notes(tmp_path, recordings, monkeypatch):
    monkeypatch.setattr(terminal.engine_mod, "try_connect", lambda *a, **k: None)
    write_recording(recordings, {"docker history x": {
        "exit_code": 0, "output": "IMAGE  CREATED  CREATED BY\n96639615cde8  56 years ago  labkit build\n"}})
    shown = transcripts.terminal("docker history x\ndocker ps")
    page = shown._repr_html_()
    assert "labkit-varies" in page and "56 years ago" in page
    assert "labkit-why" in page and "not recorded" in page
    assert "not recorded" in str(shown)


def test_the_engine_runs_the_learners_own_file(engine, tmp_path, recordings, monkeypatch):
    monkeypatch.setenv(terminal.RECORD_ENV, "1")
    (tmp_path / "work" / "t").mkdir(parents=True)
    tiny = hello.build("tiny", tmp_path / "work" / "t" / "hello")
    image = oci.Image([[oci.Entry.file("hello", source=tiny, mode=0o755)]], cmd=["/hello"])
    image.write(tmp_path / "work" / "t" / "hello.tar", tag="labkit-terminal-test:one")
    cell = ("docker load -i work/t/hello.tar\n"
            "docker run --rm --network none labkit-terminal-test:one\n"
            "docker image rm labkit-terminal-test:one")
    try:
        session = terminal.run(cell, engine, folder=tmp_path)
    finally:
        engine.docker(["image", "rm", "labkit-terminal-test:one"])
    assert session.live, session
    assert [line.run.output for line in session.lines[:2]] == [
        "Loaded image: labkit-terminal-test:one\n", "Hello from scratch!\n"]
    recorded = json.loads((recordings / "t.json").read_text())["commands"]
    assert recorded["docker load -i work/t/hello.tar"]["inputs"] == {
        "work/t/hello.tar": terminal.digest_path(tmp_path / "work" / "t" / "hello.tar")}


def test_an_id_the_recording_printed_too_is_not_shaded(recordings):
    build = "DOCKER_BUILDKIT=1 docker build -t s:b ctx"
    same = "sha256:" + "71de1148337f" * 5 + "f4d1"
    write_recording(recordings, {build: {"exit_code": 0, "output": f"#3 writing image {same} done\n"}})
    assert terminal.stable_ids([build], "t") == {same[7:], same[7:19]}


def test_a_cell_that_reads_a_variable_nothing_set_replays(tmp_path, recordings, monkeypatch):
    monkeypatch.delenv("LABKIT_TEST_UNSET", raising=False)
    write_recording(recordings, {"echo $LABKIT_TEST_UNSET": {"exit_code": 0, "output": "127.0.0.1:5000\n"}})
    session = terminal.run("echo $LABKIT_TEST_UNSET", folder=tmp_path)
    assert not session.live and "$LABKIT_TEST_UNSET" in session.why
    assert session.lines[0].run.output == "127.0.0.1:5000\n"
    assert terminal.run("export LABKIT_TEST_UNSET=1\necho $LABKIT_TEST_UNSET", folder=tmp_path).live


def test_a_file_this_machine_could_not_make_replays(tmp_path, recordings):
    write_recording(recordings, {
        "docker load -i work/03/dynamic.tar": {"exit_code": 0, "output": "Loaded image: dynamic:lab\n",
                                               "inputs": {"work/03/dynamic.tar": "sha256:00"}},
        "docker save -o work/03/x.tar dynamic:lab": {"exit_code": 0, "output": ""},
        "tar -tf work/03/x.tar": {"exit_code": 0, "output": "manifest.json\n",
                                  "inputs": {"work/03/x.tar": "sha256:11"}}})
    assert terminal.missing_inputs(["docker load -i work/03/dynamic.tar"], tmp_path, "t") == ["work/03/dynamic.tar"]
    session = terminal.run("docker load -i work/03/dynamic.tar", folder=tmp_path)
    assert not session.live and "work/03/dynamic.tar" in session.why
    assert terminal.missing_inputs(["docker save -o work/03/x.tar dynamic:lab", "tar -tf work/03/x.tar"],
                                   tmp_path, "t") == []                     # an earlier line makes it


def test_a_file_the_cell_writes_is_recorded_as_output_so_a_fresh_run_stays_live(tmp_path, recordings,
                                                                               monkeypatch):
    """Recorded with the file there from an earlier cell (``seed``) and the cell writing
    others (``out``, and ``seed2`` rewritten): only the unchanged, earlier file is an input."""
    monkeypatch.setenv(terminal.RECORD_ENV, "1")
    monkeypatch.setattr(terminal.engine_mod, "try_connect", lambda *a, **k: type("E", (), {
        "facts": type("F", (), {"version": "20.10.24", "containerd_store": False, "storage_driver": "overlay2"})(),
        "cli": "/usr/bin/docker"})())
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "seed").write_text("from an earlier cell\n")
    (tmp_path / "work" / "seed2").write_text("old\n")
    cell = "cat work/seed > work/out\necho new > work/seed2\ncat work/out"
    assert terminal.run(cell, folder=tmp_path).live
    entries = json.loads((recordings / "t.json").read_text())["commands"]
    assert list(entries["cat work/seed > work/out"]["inputs"]) == ["work/seed"]
    assert entries["echo new > work/seed2"]["inputs"] == {} and entries["cat work/out"]["inputs"] == {}
    for name in ("out", "seed2"):
        (tmp_path / "work" / name).unlink()
    assert terminal.missing_inputs(terminal.lines(cell), tmp_path, "t") == []
    (tmp_path / "work" / "seed").unlink()
    assert terminal.missing_inputs(terminal.lines(cell), tmp_path, "t") == ["work/seed"]


def test_on_an_engine_a_class_shares_docker_lines_replay(tmp_path, recordings, monkeypatch):
    """hello:labkit would be every learner's name on one engine: the recording, said so."""
    write_recording(recordings, {"docker images hello:labkit": {"exit_code": 0, "output": "REPOSITORY\n"}})
    stub = type("Eng", (), {"cli": "/usr/bin/docker"})()
    monkeypatch.setenv("LABKIT_SHARED_ENGINE", "1")
    session = terminal.run("docker images hello:labkit", engine=stub, folder=tmp_path)
    assert not session.live and "share one Docker engine" in session.why
    assert session.lines[0].run.output == "REPOSITORY\n"
    assert terminal.run("echo mine", folder=tmp_path).live           # no docker: still live
    monkeypatch.setenv("LABKIT_SHARED_ENGINE", "0")
    assert "share" not in terminal.run("docker images hello:labkit", engine=type("E", (), {"cli": None})(),
                                       folder=tmp_path).why


def test_prune_drops_lines_no_cell_types_any_more(tmp_path, recordings):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('work = labkit.lessons.workdir("t")'),
                nbformat.v4.new_code_cell("%%terminal\necho kept")]
    nbformat.write(nb, tmp_path / "t.ipynb")
    write_recording(recordings, {"echo kept": {"exit_code": 0, "output": "kept\n"},
                                 "echo gone": {"exit_code": 0, "output": "gone\n"}})
    assert terminal.recording_mod.prune(tmp_path) == ["t: echo gone"]
    assert list(terminal.recording("t")["commands"]) == ["echo kept"]
