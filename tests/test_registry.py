"""labkit.registry: the docker-registry process, push and pull over the distribution API,
checked against the real registry and against skopeo."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import need, need_tool
from labkit import cli, oci, observe, registry, scenarios
from labkit.errors import BadImage, MissingTool, RegistryError
from labkit.registry import auth, server

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "registry"


def _image(extra: bytes = b"") -> oci.Image:
    layer = [oci.Entry.dir("etc"), oci.Entry.file("etc/motd", b"hello registry\n" * 50 + extra, mode=0o644),
             oci.Entry.file("hello", scenarios.hello_image().layers[0][0].data, mode=0o755),
             oci.Entry.symlink("bin", "hello")]
    return oci.Image([layer, [oci.Entry.file("second", b"two" * 1000)]], cmd=["/hello"])


# --- unit ----------------------------------------------------------------------------
def test_references_and_repository_names():
    assert registry.split_reference("lab/a:1") == ("lab/a", "1")
    assert registry.split_reference("lab/a") == ("lab/a", "latest")
    assert registry.split_reference("lab/a@sha256:00") == ("lab/a", "sha256:00")
    with pytest.raises(RegistryError, match="expected a repository name"):
        registry.check_repository("Lab/Upper")


def test_only_registries_on_this_machine():
    assert registry.connect("127.0.0.1:5000").url == "http://127.0.0.1:5000"
    with pytest.raises(RegistryError, match="only to registries on this machine"):
        registry.connect("http://10.0.0.1:5000")


def test_compression_is_reproducible_and_names_no_file_or_time():
    import io
    a, b = io.BytesIO(), io.BytesIO()
    first = registry.compress(lambda out: _image().write_layer(0, out), a)
    assert registry.compress(lambda out: _image().write_layer(0, out), b) == first
    assert a.getvalue() == b.getvalue()
    header = a.getvalue()[:10]
    assert header[3] == 0 and header[4:8] == bytes(4)      # no FNAME flag, mtime 0
    assert first[2] == _image().diff_ids[0]


def test_status_and_down_of_nothing(tmp_path):
    assert registry.status(tmp_path / "none") is None
    assert registry.down(tmp_path / "none") is False


def test_missing_docker_registry_names_the_package(monkeypatch):
    monkeypatch.setattr(server.shutil, "which", lambda name: None)
    monkeypatch.setattr(server.os, "access", lambda path, mode: False)
    with pytest.raises(MissingTool, match="apt-get install docker-registry"):
        server.binary()


def test_cli_push_without_a_registry_is_one_error_line(tmp_path, capsys):
    assert cli.main(["registry", "push", "x.tar", "lab/x:1", "--root", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no labkit registry runs in") and err.count("\n") == 1


def test_export_puts_the_address_into_the_environment(monkeypatch):
    monkeypatch.delenv("LOCKED", raising=False)
    line = registry.export("http://127.0.0.1:5001", "LOCKED")
    assert line == "export LOCKED=127.0.0.1:5001" and repr(line) == str(line)
    assert os.environ["LOCKED"] == "127.0.0.1:5001"
    with pytest.raises(RegistryError, match="shell variable name"):
        registry.export("127.0.0.1:5001", "NOT A NAME")


def _bcrypt_here():
    try:
        return auth.bcrypt("let-me-in")
    except MissingTool as err:
        need("tools", str(err))


def test_htpasswd_lines_hold_a_bcrypt_hash_of_the_password(tmp_path):
    hashed = _bcrypt_here()
    assert hashed.startswith("$2") and len(hashed) == 60 and hashed != _bcrypt_here()     # salted
    if auth._libcrypt() is not None:
        assert auth.verify("let-me-in", hashed) and not auth.verify("let-me-out", hashed)
    path = auth.write_htpasswd(tmp_path / "htpasswd", {"student": "let-me-in", "teacher": "x"})
    assert [line.split(":")[0] for line in path.read_text().splitlines()] == ["student", "teacher"]
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(RegistryError, match="user name"):
        auth.htpasswd_line("a:b", "x")


# --- against the real registry ---------------------------------------------------------
@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    need_tool("docker-registry")
    with registry.local(tmp_path_factory.mktemp("registry") / "r", replay=False) as client:
        yield client


def test_round_trip_keeps_config_bytes_diff_ids_and_files(reg, tmp_path):
    image = _image()
    pushed = registry.push(reg, image, "lab/round:1")
    assert [b.kind for b in pushed.blobs] == ["layer", "layer", "config", "manifest"]
    assert [b.diff_id for b in pushed.blobs if b.kind == "layer"] == image.diff_ids
    assert all(b.digest != b.diff_id for b in pushed.blobs if b.kind == "layer")   # compressed
    pulled = registry.pull(reg, "lab/round:1", tmp_path / "layout")
    assert pulled.digest == pushed.digest
    info = oci.inspect(tmp_path / "layout")
    assert info.config_digest == image.config_digest
    assert (tmp_path / "layout/blobs/sha256" / image.config_digest[7:]).read_bytes() == image.config_bytes()
    assert [l.diff_id for l in info.layers] == image.diff_ids
    assert all(l.compression == "gzip" for l in info.layers)
    expected = {"etc/motd": 750, "hello": 170, "second": 3000}
    assert info.files == expected


def test_a_second_push_uploads_no_blob(reg):
    image = _image(b"again")
    first = registry.push(reg, image, "lab/twice:1")
    assert {b.action for b in first.blobs if b.kind != "manifest"} <= {"uploaded", "mounted"}
    start = len(reg.log)
    second = registry.push(reg, image, "lab/twice:1")
    assert {b.action for b in second.blobs if b.kind != "manifest"} == {"exists"}
    assert second.digest == first.digest
    methods = [(x.method, x.path.split("/")[-2]) for x in reg.log[start:]]
    assert ("POST", "uploads") not in methods and all(m in ("HEAD", "PUT") for m, _ in methods)


def test_chunked_upload_in_order(reg, tmp_path):
    image = _image(os.urandom(20_000))
    pushed = registry.push(reg, image, "lab/chunked:1", chunk_size=4096)
    layer = pushed.blobs[0]
    assert layer.action == "uploaded" and layer.requests == -(-layer.size // 4096) > 1
    patches = [x for x in reg.log if x.method == "PATCH"]
    assert patches[0].request_headers["Content-Range"] == "0-4095"
    registry.pull(reg, "lab/chunked:1", tmp_path / "l")
    assert [l.diff_id for l in oci.inspect(tmp_path / "l").layers] == image.diff_ids


def test_cross_repository_mount(reg):
    image = _image(b"shared")
    registry.push(reg, image, "lab/source:1")
    fresh = registry.Registry(reg.url)            # knows nothing: told where to mount from
    mounted = registry.push(fresh, image, "lab/target:1", mount_from=["lab/source"])
    assert {b.action for b in mounted.blobs if b.kind != "manifest"} == {"mounted"}
    posts = [x for x in fresh.log if x.method == "POST"]
    assert posts and all("mount=sha256" in x.path and "from=lab%2Fsource" in x.path and x.status == 201
                         for x in posts)
    again = registry.push(reg, _image(b"shared"), "lab/third:1")   # this client remembers
    assert {b.action for b in again.blobs if b.kind != "manifest"} == {"mounted"}


def test_every_format_labkit_reads_pushes(reg, tmp_path):
    image = _image(b"formats")
    for fmt in ("docker-archive", "oci-archive", "oci-dir"):
        path = image.write(tmp_path / f"img-{fmt}", format=fmt, tag="x:1")
        pushed = registry.push(reg, path, f"lab/{fmt}:1", manifest_format="docker")
        tree = registry.describe(reg, f"lab/{fmt}:1")
        assert tree.media_type == registry.DOCKER_MANIFEST
        assert {l.media_type for l in tree.image.layers} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}
        assert tree.image.config.digest == image.config_digest
        assert tree.pull_size == sum(b.size for b in pushed.blobs if b.kind == "layer")


def test_a_pre_1_10_tarball_is_refused(reg, tmp_path):
    path = scenarios.hello_image("1.4").write(tmp_path / "v1.tar")
    with pytest.raises(BadImage, match="no config to push"):
        registry.push(reg, path, "lab/v1:1")


def test_an_engines_push_replays_byte_for_byte_with_its_attestation(reg, tmp_path):
    layout = FIXTURES / "28.5.2-containerd-buildkit"
    top = json.loads((layout / "index.json").read_text())["manifests"][0]
    pushed = registry.push(reg, layout, "lab/replay:1")
    assert pushed.digest == top["digest"] and pushed.media_type == registry.OCI_INDEX
    tree = registry.describe(reg, "lab/replay:1")
    assert tree.platforms == ["linux/amd64", "unknown/unknown"]
    assert tree.attestations[0].attestation_for == tree.image.digest
    assert tree.attestations[0].layers[0].media_type == "application/vnd.in-toto+json"
    registry.pull(reg, "lab/replay:1", tmp_path / "back")
    assert sorted(p.name for p in (tmp_path / "back/blobs/sha256").iterdir()) == \
        sorted(p.name for p in (layout / "blobs/sha256").iterdir())


def test_a_missing_tag_is_the_registrys_own_error(reg):
    with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN"):
        registry.describe(reg, "lab/round:nope")


def test_pull_fetches_only_what_the_layout_lacks(reg, tmp_path):
    base = _image(b"pull-dedupe")
    bigger = oci.Image(base.layers + [[oci.Entry.file("third", b"3")]], cmd=["/hello"])
    registry.push(reg, base, "lab/p1:1")
    registry.push(reg, bigger, "lab/p2:1")
    registry.pull(reg, "lab/p1:1", tmp_path / "shared")
    second = registry.pull(reg, "lab/p2:1", tmp_path / "shared")
    actions = {b.kind: b.action for b in second.blobs if b.kind == "layer" and b.action == "present"}
    assert [b.action for b in second.blobs if b.kind == "layer"] == ["present", "present", "downloaded"]
    assert actions


@pytest.mark.tools
def test_skopeo_reads_and_copies_what_labkit_pushed(reg, tmp_path):
    skopeo = need_tool("skopeo")
    image = _image(b"skopeo")
    pushed = registry.push(reg, image, "lab/skopeo:1")
    ref = f"docker://{reg.host}/lab/skopeo:1"
    seen = json.loads(subprocess.run([skopeo, "inspect", "--tls-verify=false", ref], check=True,
                                     capture_output=True, text=True).stdout)
    assert seen["Digest"] == pushed.digest and seen["Layers"] == [b.digest for b in pushed.blobs if b.kind == "layer"]
    subprocess.run([skopeo, "copy", "-q", "--src-tls-verify=false", ref, f"oci:{tmp_path / 'sk'}:1"], check=True)
    assert [l.diff_id for l in oci.inspect(tmp_path / "sk").layers] == image.diff_ids
    subprocess.run([skopeo, "copy", "-q", "--dest-tls-verify=false", f"oci:{tmp_path / 'sk'}:1",
                    f"docker://{reg.host}/lab/from-skopeo:1"], check=True)
    assert registry.describe(reg, "lab/from-skopeo:1").image.config.digest == image.config_digest


# --- recorded where docker-registry runs, replayed where it does not -----------------------
def _no_docker_registry(monkeypatch):
    def missing():
        raise MissingTool("docker-registry is not installed", hint="apt-get install docker-registry")
    monkeypatch.setattr(server, "binary", missing)


def test_without_docker_registry_the_lesson_replays_the_committed_recording(tmp_path, monkeypatch, capsys):
    """A step of the registry lesson (another engine's push, byte for byte), answered as the
    real registry answered -- no tool needed -- and a request never recorded refused."""
    _no_docker_registry(monkeypatch)
    monkeypatch.delenv("LABKIT_REGISTRY_RECORDING", raising=False)
    monkeypatch.delenv("REGISTRY", raising=False)
    reg = registry.start(tmp_path / "registry")
    said = capsys.readouterr().out
    assert said.count("\n") == 1 and "recorded on docker-registry 2.8" in said
    assert "apt-get install docker-registry" in said
    assert isinstance(reg.server, registry.Recording)
    assert str(registry.export(reg)).startswith("# REGISTRY is not set") and "REGISTRY" not in os.environ
    pushed = registry.push(reg, FIXTURES / "28.5.2-containerd-buildkit", "lab/from-28:buildkit")
    assert [b.action for b in pushed.blobs].count("uploaded") == 4 and pushed.blobs[-1].action == "put"
    data, media_type, digest = reg.manifest("lab/from-28", "buildkit")
    assert digest == pushed.digest and media_type == registry.OCI_INDEX
    with pytest.raises(registry.NotRecorded, match=r"^not recorded here: GET /v2/lab/never/tags/list; "
                                                   r"install docker-registry \(apt-get install docker-registry\)"):
        reg.tags("lab/never")
    with pytest.raises(MissingTool):
        registry.start(tmp_path / "live-only", replay=False)


def test_a_recording_replays_the_same_push_pull_and_tree(tmp_path, monkeypatch, capsys):
    """Record a live session, then replay it with docker-registry gone: the same answers,
    the layer bytes served only because this client sent them; anything else is refused."""
    need_tool("docker-registry")
    recording = tmp_path / "exchanges.json"
    monkeypatch.setenv("LABKIT_RECORD_REGISTRY", str(recording))
    image = _image(os.urandom(100_000))            # a layer over 64 KiB: kept by digest only
    with registry.local(tmp_path / "live") as live:
        assert isinstance(live.server, registry.Server)
        first = registry.push(live, image, "lab/rec:1")
        again = registry.push(live, image, "lab/rec:1")
        pulled = registry.pull(live, "lab/rec:1", tmp_path / "live-layout")
        tree = registry.describe(live, "lab/rec:1")
    monkeypatch.delenv("LABKIT_RECORD_REGISTRY")
    session = json.loads(recording.read_text())["sessions"][0]
    assert session["registry"].startswith("docker-registry 2.") and session["date"]
    big = [e for e in session["exchanges"] if (e["response"]["body"] or {}).get("size", 0) > 64 * 1024]
    assert big and all("base64" not in e["response"]["body"] and "text" not in e["response"]["body"] for e in big)

    _no_docker_registry(monkeypatch)
    monkeypatch.setenv("LABKIT_REGISTRY_RECORDING", str(recording))
    with registry.local(tmp_path / "replayed") as reg:
        assert "recorded on docker-registry" in capsys.readouterr().out
        assert registry.push(reg, image, "lab/rec:1").to_dict() == {**first.to_dict(), "reference": first.reference}
        assert [b.action for b in registry.push(reg, image, "lab/rec:1").blobs] == [b.action for b in again.blobs]
        replayed = registry.pull(reg, "lab/rec:1", tmp_path / "replayed-layout")
        assert [b.to_dict() for b in replayed.blobs] == [b.to_dict() for b in pulled.blobs]
        assert oci.inspect(tmp_path / "replayed-layout").files == oci.inspect(tmp_path / "live-layout").files
        assert registry.describe(reg, "lab/rec:1") == tree
        with pytest.raises(registry.NotRecorded):
            registry.push(reg, _image(b"never pushed live"), "lab/rec:2")   # never a made-up answer
    with registry.local(tmp_path / "fresh-client") as reg:   # a new client, no bytes sent: the big blob is not kept
        assert registry.describe(reg, "lab/rec:1") == tree
        with pytest.raises(registry.NotRecorded, match="not kept in the recording"):
            registry.pull(reg, "lab/rec:1", tmp_path / "no-bytes")


def test_without_docker_registry_the_engines_registry_scenarios_are_the_recorded_ones(tmp_path, monkeypatch):
    _no_docker_registry(monkeypatch)
    lab = scenarios.Lab(None, tmp_path, "registry-push")
    for name in ("registry-push", "registry-pull"):
        cases = scenarios.get(name).func(lab)
        assert cases and all(c.extra[scenarios.NOT_HERE].startswith("docker-registry is not installed")
                             for c in cases.values())


# --- the process -----------------------------------------------------------------------
def test_up_status_down_leaves_nothing_it_did_not_own(tmp_path):
    need_tool("docker-registry")
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("the learner's own file")
    started = registry.up(root)
    assert registry.answers(started.url) and registry.status(root).healthy
    assert registry.up(root).pid == started.pid                    # reused, not a second one
    assert registry.down(root) is True
    assert not Path(f"/proc/{started.pid}").exists() or not server._alive(started.pid, root / "config.yml")
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    assert registry.status(root) is None


def test_a_locked_registry_asks_for_basic_credentials(tmp_path):
    need_tool("docker-registry")
    _bcrypt_here()
    root = tmp_path / "locked"
    reg = registry.start(root, users={"student": "let-me-in"})
    try:
        assert reg.server.locked and registry.status(root).healthy and registry.status(root).locked
        with pytest.raises(RegistryError, match="401 Unauthorized: UNAUTHORIZED"):
            reg.ping()
        challenge = reg.log[-1]
        assert challenge.status == 401
        assert challenge.response_headers["Www-Authenticate"] == 'Basic realm="labkit"'
        with pytest.raises(RegistryError, match="401"):
            registry.connect(reg.server).login("student", "wrong").ping()
        assert reg.login("student", "let-me-in").ping()["Docker-Distribution-Api-Version"] == "registry/2.0"
        done = registry.push(reg, _image(), "lab/locked:1")
        assert [b.action for b in done.blobs] == ["uploaded", "uploaded", "uploaded", "put"]
    finally:
        reg.close()
        registry.down(root)
    assert not root.exists()


def test_cli_up_status_down(tmp_path, capsys):
    need_tool("docker-registry")
    root = tmp_path / "cli-registry"
    assert cli.main(["registry", "up", "--root", str(root), "--json"]) == 0
    up = json.loads(capsys.readouterr().out)
    assert up["healthy"] and up["detached"] and up["url"].startswith("http://127.0.0.1:")
    assert cli.main(["registry", "status", "--root", str(root)]) == 0
    assert capsys.readouterr().out.startswith(f"registry: up at {up['url']}")
    image = _image(b"cli").write(tmp_path / "img.tar")
    assert cli.main(["registry", "push", str(image), "lab/cli:1", "--root", str(root)]) == 0
    assert "lab/cli:1: sha256:" in capsys.readouterr().out
    assert cli.main(["registry", "pull", f"{up['host']}/lab/cli:1", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert cli.main(["registry", "down", "--root", str(root)]) == 0
    assert capsys.readouterr().out.strip() == "registry: stopped and removed"
    assert not root.exists()


# --- what engines pushed (recorded) ------------------------------------------------------
def test_every_recorded_engine_pushed_and_pulled():
    for obs in observe.recorded():
        push = obs["registry-push"]
        for name in ("legacy", "buildkit", "busybox", "busybox-trimmed"):
            case = push[name]
            assert case.ok, (obs.name, name, case.error)
            assert case.extra["manifest"]["media_type"] in registry.MANIFEST_TYPES
            assert case.extra["layers"] and all(l["size"] > 0 for l in case.extra["layers"])
            assert case.extra["cli"]["push"]["command"].startswith("docker push 127.0.0.1:PORT/")
        assert "Mounted from labkit-observe/busybox" in push["busybox-trimmed"].extra["push_statuses"]
        for case in obs["registry-pull"].cases.values():
            assert case.ok, (obs.name, case.error)


@pytest.mark.fleet
def test_fleet_pushes_are_recorded_and_reproduce(fleet):
    """Every default fleet engine's registry scenarios, fresh, equal the committed recording
    (the Podman engines' own: tests/test_fleet_podman.py, which observes every scenario)."""
    from labkit import fleet as fleet_mod

    recorded = {p.stem for p in observe.DATA_DIR.glob("*.json")}
    for name in sorted(n for n in recorded if not n.startswith("podman-")):
        if name not in fleet:
            need("fleet", f"fleet engine {name} is not up")
        eng = fleet_mod.engine(name)
        try:
            fresh = observe.observe(eng, ["registry-push", "registry-pull"], name=name,
                                    endpoint=f"fleet:{name}")
        finally:
            eng.cleanup()
        committed = observe.load(observe.DATA_DIR / f"{name}.json")
        committed.results = {k: v for k, v in committed.results.items() if k in fresh.results}
        assert observe.differences(observe.deterministic(fresh), observe.deterministic(committed)) == []
