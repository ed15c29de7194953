"""labkit.fleet: catalog, apt sources, archive layouts, lock, failure paths, and real engines.

Unit tests need nothing. Tests that start an engine from a local archive need root
and Debian's docker.io on this machine (CI has both); the default fleet's tests use the
session ``fleet`` fixture (run only with LABKIT_FLEET=1 or LABKIT_REQUIRE_FLEET=1).
"""
from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from conftest import need
from labkit import fleet as labfleet
from labkit.errors import FleetError
from labkit.fleet import apt, archive, daemon, specs
from labkit.fleet.specs import EngineSpec
from labkit.fleet.fetch import Fetcher, deb_name

REPO = Path(__file__).resolve().parent.parent
DEFAULT = ["20.10.5", "20.10.24", "26.1.5", "28.5.2", "28.5.2-containerd"]
PODMAN = ["podman-4.3.1", "podman-5.4.2"]          # by name only (tests/test_fleet_podman.py)


# --- catalog -------------------------------------------------------------------------
def test_catalog_names_and_default_set():
    cat = specs.load()
    assert list(cat.default) == DEFAULT
    assert [s.name for s in labfleet.catalog()] == DEFAULT + PODMAN


def test_catalog_entries_are_consistent():
    suites = {"20.10.5": "bullseye", "20.10.24": "bookworm", "26.1.5": "trixie",
              "28.5.2": "sid", "28.5.2-containerd": "sid"}
    for spec in labfleet.catalog():
        if spec.engine == "podman":
            continue
        assert spec.kind == "debian" and spec.suite == suites[spec.name]
        assert spec.packages["docker.io"].startswith(spec.version + "+")
        assert {"containerd", "runc"} <= set(spec.packages)
        assert {"tini", "tini-static"} & set(spec.packages), "docker-init comes from tini"
        if "docker-cli" in spec.packages:
            assert spec.packages["docker-cli"] == spec.packages["docker.io"]
        assert len(f"/run/labkit/fleet/{spec.slug}/exec/containerd/containerd.sock") < 100
    by_name = {s.name: s for s in labfleet.catalog()}
    assert by_name["26.1.5"].packages["docker-buildx"].startswith("0.13.1")
    assert by_name["28.5.2"].packages["docker-buildx"].startswith("0.29.1")
    assert not by_name["20.10.24"].buildx
    assert by_name["28.5.2-containerd"].containerd_store
    assert not by_name["28.5.2"].containerd_store
    assert specs.load().runc_fallbacks[0]["suite"] == "bookworm"


def test_resolve_static_and_archive(tmp_path):
    spec = specs.resolve("static:27.3.1")
    assert spec.kind == "static" and spec.version == "27.3.1" and spec.slug == "static-27.3.1"
    assert spec.source.endswith(f"/linux/static/stable/{os.uname().machine}/docker-27.3.1.tgz")
    tgz = tmp_path / "docker-27.3.1.tgz"
    tgz.write_bytes(b"")
    spec = specs.resolve(f"archive:{tgz}")
    assert (spec.kind, spec.version, spec.slug) == ("archive", "27.3.1", "archive-docker-27.3.1")


@pytest.mark.parametrize("name, words", [
    ("no-such-engine", "unknown engine"),
    ("static:latest", "bad static version"),
    ("archive:/nonexistent/docker-1.2.3.tgz", "no archive at"),
])
def test_resolve_refuses(name, words):
    with pytest.raises(FleetError, match=words):
        specs.resolve(name)


@pytest.mark.parametrize("entry, words", [
    ({"kind": "snap"}, "expected kind"),
    ({"kind": "debian", "suite": "sid", "packages": {}}, "docker.io pin"),
    ({"kind": "debian", "suite": "sid", "packages": {"docker.io": "1"}, "colour": 1}, "unknown keys"),
    ({"kind": "archive"}, "path in source"),
])
def test_catalog_refuses_malformed_entries(tmp_path, entry, words):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"engines": {"x": entry}}))
    with pytest.raises(FleetError, match=words):
        specs.load(path)


# --- apt sources ---------------------------------------------------------------------
ONE_LINE = """\
# the main archive
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian/ bookworm main contrib
deb-src http://mirror.example/debian bookworm main   # sources too
deb http://security.example/debian-security bookworm-security main

"""

DEB822 = """\
# a comment before the first stanza
Types: deb deb-src
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# a comment inside a stanza
URIs: http://old.example/debian
Suites: bullseye
Components: main
Enabled: no

Types: deb
URIs: http://inline.example/debian
Suites: trixie
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
"""


def test_parse_one_line_format():
    main, src, security = apt.parse_one_line(ONE_LINE, "x.list")
    assert main.types == ("deb",) and main.uris == ("http://mirror.example/debian/",)
    assert main.suites == ("bookworm",) and main.components == ("main", "contrib")
    assert main.options == {"arch": "amd64",
                            "signed-by": "/usr/share/keyrings/debian-archive-keyring.gpg"}
    assert src.types == ("deb-src",) and src.components == ("main",)
    assert security.suites == ("bookworm-security",)


def test_parse_deb822_format():
    first, disabled, inline = apt.parse_deb822(DEB822, "x.sources")
    assert first.types == ("deb", "deb-src") and first.suites == ("bookworm", "bookworm-updates")
    assert first.options["signed-by"] == "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert first.enabled and not disabled.enabled
    assert inline.options["signed-by"].startswith("\n-----BEGIN")


def test_machine_sources_reads_list_and_sources_files_only(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("# nothing here\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "extra.list").write_text(
        "deb http://extra.example/ubuntu noble main\n")
    (tmp_path / "sources.list.d" / "old.list.disabled").write_text(
        "deb http://disabled.example/debian sid main\n")
    found = apt.machine_sources(tmp_path)
    assert [s.uris[0] for s in found] == ["http://mirror.example/debian",
                                          "http://inline.example/debian",
                                          "http://extra.example/ubuntu"]
    uri, keyring = apt.debian_archive(found)
    assert uri == "http://mirror.example/debian"
    assert keyring in ("/usr/share/keyrings/debian-archive-keyring.gpg", None)


def test_debian_archive_skips_pockets_and_other_distributions():
    sources = apt.parse_one_line("deb http://security.example/debian-security bookworm-security main\n"
                                 "deb http://archive.example/ubuntu noble main\n")
    with pytest.raises(FleetError, match="no Debian archive"):
        apt.debian_archive(sources)


def test_this_machine_has_a_debian_archive():
    if not Path("/etc/apt").is_dir():
        need("fleet", "not a Debian machine")
    uri, keyring = apt.debian_archive(apt.machine_sources())
    assert uri.startswith(("http://", "https://", "file:"))
    assert keyring is None or Path(keyring).is_file()


def test_private_apt_is_private_and_checks_signatures(tmp_path, monkeypatch, caplog):
    calls = []
    monkeypatch.setattr(apt.PrivateApt, "_run", lambda self, tool, *args, cwd=None: calls.append(
        [tool, *self._options(), *args]) or "")
    private = apt.PrivateApt(tmp_path, "http://mirror.example/debian", "/keys/debian.gpg")
    private.update(["sid", "bullseye", "sid"])
    assert private.sourcelist.read_text() == (
        "deb [signed-by=/keys/debian.gpg] http://mirror.example/debian bullseye main\n"
        "deb [signed-by=/keys/debian.gpg] http://mirror.example/debian sid main\n")
    assert private.suites_listed() == {"bullseye", "sid"}
    options = " ".join(calls[0])
    for setting in (f"Dir::Etc::sourcelist={private.sourcelist}", "Dir::Etc::sourceparts=-",
                    f"Dir::State::Lists={tmp_path}/lists", f"Dir::Cache={tmp_path}/cache"):
        assert setting in options
    with caplog.at_level(logging.WARNING, logger="labkit.fleet"):
        apt.PrivateApt(tmp_path, "http://mirror.example/debian", None).update(["sid"])
    assert "[trusted=yes]" in private.sourcelist.read_text() and "NOT checked" in caplog.text


def test_madison_output_becomes_versions_per_suite(tmp_path, monkeypatch):
    madison = (" docker.io | 28.5.2+dfsg4-5 | http://mirror.example/debian sid/main amd64 Packages\n"
               " docker.io | 26.1.5+dfsg1-9 | http://mirror.example/debian trixie/main amd64 Packages\n"
               "      tini |   0.19.0-1 | http://mirror.example/debian bullseye/main amd64 Packages\n")
    monkeypatch.setattr(apt.PrivateApt, "_run", lambda self, tool, *args, cwd=None: madison)
    versions = apt.PrivateApt(tmp_path, "http://x/debian", None).versions(["docker.io", "tini"])
    assert versions == {("docker.io", "sid"): ["28.5.2+dfsg4-5"],
                        ("docker.io", "trixie"): ["26.1.5+dfsg1-9"], ("tini", "bullseye"): ["0.19.0-1"]}


# --- package versions ------------------------------------------------------------------
SPEC = EngineSpec(name="x", kind="debian", suite="sid", version="1", packages={"docker.io": "1+a"})


def test_choose_keeps_the_pin_when_the_suite_has_it():
    assert Fetcher._choose(SPEC, "docker.io", "1+a", ["2+b", "1+a"]) == "1+a"


def test_choose_takes_the_suite_version_when_it_moved(caplog):
    with caplog.at_level(logging.WARNING, logger="labkit.fleet"):
        assert Fetcher._choose(SPEC, "docker.io", "1+a", ["2+b"]) == "2+b"
    assert "gone from Debian sid; taking 2+b" in caplog.text


def test_choose_refuses_a_missing_package_or_an_exact_pin():
    with pytest.raises(FleetError, match="has no package docker.io"):
        Fetcher._choose(SPEC, "docker.io", "1+a", [])
    exact = EngineSpec(name="x", kind="debian", suite="sid", packages={}, exact=True)
    with pytest.raises(FleetError, match=r"docker.io=1\+a is not in Debian sid \(it has 2\+b\)"):
        Fetcher._choose(exact, "docker.io", "1+a", ["2+b"])


def test_a_suite_that_moved_on_downloads_and_records_its_own_version(tmp_path, caplog):
    class FakeApt:
        downloaded = []

        def update(self, suites):
            assert suites == ["sid"]

        def versions(self, packages):
            return {("docker.io", "sid"): ["2+b"]}

        def download(self, pins, dest):
            self.downloaded += pins
            for pin in pins:
                (dest / deb_name(*pin.split("=")).replace("*", "amd64")).write_bytes(b"")

    fetcher = Fetcher(tmp_path)
    fetcher.debs.mkdir(parents=True)
    fetcher._apt = FakeApt()
    with caplog.at_level(logging.WARNING, logger="labkit.fleet"):
        fetcher.download([SPEC])
    assert FakeApt.downloaded == ["docker.io=2+b"]
    assert fetcher._chosen["x"] == {"docker.io": "2+b"}          # what unpack records
    assert "docker.io=1+a is gone from Debian sid; taking 2+b" in caplog.text


def test_deb_file_names_quote_the_epoch():
    assert deb_name("containerd", "1:1.7~ds1") == "containerd_1%3a1.7~ds1_*.deb"


# --- archive layouts -------------------------------------------------------------------
def _fake_archive(path: Path, names=archive.REQUIRED, extra=(), scripts=None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            info = tarfile.TarInfo(f"docker/{name}")
            data = (scripts or {}).get(name, b"#!/bin/sh\necho fake\n")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return path


def test_static_layout_unpacks(tmp_path):
    found = archive.unpack_archive(_fake_archive(tmp_path / "docker-1.2.3.tgz"), tmp_path / "root")
    assert found.root == tmp_path / "root"
    assert found.docker_cli == tmp_path / "root" / "docker" / "docker"
    assert found.path == (tmp_path / "root" / "docker",) and found.buildx is None
    assert os.access(found.docker_cli, os.X_OK)
    assert not (tmp_path / "root.partial").exists()


def test_layout_names_what_is_missing(tmp_path):
    tgz = _fake_archive(tmp_path / "docker-1.2.3.tgz", names=("dockerd", "docker"))
    with pytest.raises(FleetError, match="lacks containerd, containerd-shim-runc-v2, runc, docker-init"):
        archive.unpack_archive(tgz, tmp_path / "root")
    assert not (tmp_path / "root").exists()


def test_archive_refuses_escapes(tmp_path):
    evil = tarfile.TarInfo("../evil")
    tgz = _fake_archive(tmp_path / "docker-1.2.3.tgz", extra=[evil])
    with pytest.raises(FleetError, match="cannot unpack"):
        archive.unpack_archive(tgz, tmp_path / "root")
    assert not (tmp_path / "evil").exists()


def test_static_download_and_unpack(tmp_path):
    # The static kind, with a file:// URL standing in for Docker's download site.
    _fake_archive(tmp_path / "docker-1.2.3.tgz")
    cat = tmp_path / "catalog.json"
    cat.write_text(json.dumps({"engines": {}, "static_url": f"file://{tmp_path}/docker-{{version}}.tgz"}))
    spec = specs.load(cat).resolve("static:1.2.3")
    fetcher = Fetcher(tmp_path / "cache")
    assert fetcher.ready(spec) is None
    fetcher.download([spec])
    assert (tmp_path / "cache" / "static" / "docker-1.2.3.tgz").is_file()
    fetcher.unpack(spec)
    assert fetcher.ready(spec).layout.docker_cli.name == "docker"


def test_archive_whose_runc_cannot_run_here_is_one_clear_error(tmp_path):
    # Before, `up` found the engine "not ready" after unpacking it and crashed on None.
    tgz = _fake_archive(tmp_path / "docker-1.2.3.tgz",
                        scripts={"runc": b"#!/bin/sh\necho 'runc: wrong ELF class' >&2\nexit 1\n"})
    spec = EngineSpec(name="archive:x", kind="archive", source=str(tgz))
    with pytest.raises(FleetError, match=r"archive:x: its runc cannot run here \(runc: wrong ELF class\)"):
        Fetcher(tmp_path / "cache").unpack(spec)


def test_static_download_failure_says_what_to_do(tmp_path):
    spec = EngineSpec(name="static:9.9.9", kind="static", source=f"file://{tmp_path}/none.tgz")
    with pytest.raises(FleetError, match="cannot download .*use archive:<path>"):
        Fetcher(tmp_path / "cache").download([spec])


# --- daemon helpers --------------------------------------------------------------------
def test_log_tail_is_one_line(tmp_path):
    log = tmp_path / "dockerd.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    tail = daemon.log_tail(log)
    assert tail.startswith("line 10 | ") and tail.endswith("line 29") and "\n" not in tail
    assert daemon.log_tail(tmp_path / "none") == "(no log)"


def test_ping_without_engine(tmp_path):
    assert daemon.ping(tmp_path / "none.sock") is False


def test_mountinfo_unescape():
    assert daemon._unescape(r"/a\040b\134c") == "/a b\\c"


def test_table_lists_every_engine():
    rows = [labfleet.EngineStatus(name="26.1.5", up=True, healthy=True, version="26.1.5+dfsg1",
                               api_version="1.45", storage_driver="overlayfs", containerd_store=True,
                               buildkit=True, base_url="unix:///s.sock"),
            labfleet.EngineStatus(name="20.10.5")]
    text = labfleet.table(rows)
    assert "overlayfs (containerd store)" in text and "unix:///s.sock" in text
    assert re.search(r"^20\.10\.5\s+-\s+-\s+-\s+-\s+down$", text, re.M)


# --- root, Linux, lock -------------------------------------------------------------------
def _root():
    if os.geteuid() != 0:
        need("fleet", "starting Docker engines needs root")


def test_not_root_is_one_clear_error(request):
    args = ["-m", "labkit", "fleet", "up", "20.10.24"]
    if os.geteuid() == 0:   # as uid 65534, from a copy of labkit that user can read
        python, env = request.getfixturevalue("as_nobody")
    else:
        python, env = [sys.executable], dict(os.environ, HOME="/nonexistent", PYTHONPATH=str(REPO))
    done = subprocess.run([*python, *args], capture_output=True, text=True, cwd="/", env=env)
    assert done.returncode == 2, done.stderr
    assert re.fullmatch(r"error: starting and stopping Docker engines needs root \(this is uid \d+\); "
                        r"run it with sudo, or read the recorded observations\n", done.stderr)


def test_not_linux_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(FleetError, match="on Linux only"):
        labfleet.require_root()


def test_lock_refuses_a_second_up(tmp_path):
    _root()
    run = Path(tempfile.mkdtemp(prefix="lk", dir="/tmp"))
    try:
        with open(run / ".lock", "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            with pytest.raises(FleetError, match="another `labkit fleet up` or `down` holds"):
                labfleet.Fleet(cache=tmp_path, run=run).up(["20.10.24"], progress=False)
    finally:
        shutil.rmtree(run)


def test_status_of_an_engine_that_stops_answering_mid_way_is_unhealthy(tmp_path, monkeypatch):
    from labkit import engine as engine_mod
    from labkit.errors import EngineError

    class Gone:
        closed = False

        class api:                                        # noqa: N801 - stands in for APIClient
            @staticmethod
            def close():
                Gone.closed = True

        @property
        def facts(self):
            raise EngineError("the engine did not answer")

    monkeypatch.setattr(daemon, "read_pid", lambda dirs, pidfile=None: 4242)
    monkeypatch.setattr(daemon, "ping", lambda sock, timeout=2.0: True)
    monkeypatch.setattr(engine_mod, "try_connect", lambda *a, **k: Gone())
    (row,) = labfleet.Fleet(cache=tmp_path, run=tmp_path / "run").status(["20.10.24"])
    assert row.up and not row.healthy and row.version is None
    assert Gone.closed                                     # its HTTP session is not leaked


def test_cli_list_json(capsys):
    from labkit.cli import main

    assert main(["fleet", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in listed] == DEFAULT + PODMAN
    assert listed[len(DEFAULT) - 1]["containerd_store"] is True and listed[-1]["engine"] == "podman"


def test_status_without_a_fleet(tmp_path):
    empty = labfleet.Fleet(cache=tmp_path, run=tmp_path / "run")
    rows = empty.status()
    assert [r.name for r in rows] == DEFAULT and not any(r.up or r.healthy for r in rows)
    assert empty.endpoints() == {}
    with pytest.raises(FleetError, match="is not up"):
        empty.engine("26.1.5")


# --- a real engine from a local archive (root + Debian's docker.io) ------------------------
SYSTEM_PROGRAMS = {"dockerd": "/usr/sbin/dockerd", "containerd": "/usr/bin/containerd",
                   "containerd-shim-runc-v2": "/usr/bin/containerd-shim-runc-v2",
                   "ctr": "/usr/bin/ctr", "runc": "/usr/sbin/runc",
                   "docker-init": "/usr/bin/docker-init", "docker": "/usr/bin/docker",
                   "docker-proxy": "/usr/sbin/docker-proxy"}


@pytest.fixture(scope="module")
def local_archive(tmp_path_factory):
    """docker-<version>.tar in the static release layout (uncompressed: faster to make and
    unpack), from the installed docker.io package."""
    missing = [p for name, p in SYSTEM_PROGRAMS.items() if name != "ctr" and not Path(p).exists()]
    if missing:
        need("fleet", f"Debian's docker.io is not installed here (no {', '.join(missing)})")
    banner = subprocess.run([SYSTEM_PROGRAMS["dockerd"], "--version"], capture_output=True,
                            text=True).stdout
    version = re.search(r"version (\d+\.\d+\.\d+)", banner).group(1)
    path = tmp_path_factory.mktemp("archive") / f"docker-{version}.tar"
    with tarfile.open(path, "w") as tar:
        for name, program in SYSTEM_PROGRAMS.items():
            if Path(program).exists():
                tar.add(os.path.realpath(program), arcname=f"docker/{name}")
    return path, version


@pytest.fixture
def private_fleet(tmp_path):
    """``make(engines)`` -> a Fleet with that catalog, in temporary directories (a short
    run directory: unix socket paths are limited); everything is downed afterwards."""
    _root()
    run = Path(tempfile.mkdtemp(prefix="lk", dir="/tmp"))
    made = []

    def make(engines: dict):
        (tmp_path / "catalog.json").write_text(json.dumps({"engines": engines, "default": []}))
        made.append(labfleet.Fleet(catalog_path=tmp_path / "catalog.json",
                                   cache=tmp_path / "cache", run=run))
        return made[-1]

    yield make
    for lab in made:
        lab.down()
        assert lab.leftovers() == []
    shutil.rmtree(run)


def test_archive_engine_up_status_down(tmp_path, local_archive, private_fleet):
    path, version = local_archive
    lab = private_fleet({})
    name, slug = f"archive:{path}", f"archive-docker-{version}"
    (row,) = lab.up([name], progress=False)
    assert row.healthy and row.version.startswith(version) and row.storage_driver
    assert row.base_url == f"unix://{lab.run}/{slug}/docker.sock"
    assert lab.up([name], progress=False)[0].healthy               # idempotent
    assert lab.endpoints() == {name: row.base_url}
    eng = lab.engine(name)
    assert eng.facts.version == row.version
    assert Path(eng.docker_cli) == tmp_path / "cache" / "engines" / slug / "root" / "docker" / "docker"
    assert [r.name for r in lab.status()] == [name]
    data = tmp_path / "cache" / "engines" / slug / "data"
    lab.down(keep=True)
    assert lab.leftovers() == [] and data.is_dir()
    lab.down()                                                       # idempotent
    assert not data.exists()


def test_killed_engine_is_cleaned_on_next_up(local_archive, private_fleet):
    path, _ = local_archive
    lab = private_fleet({"local": {"kind": "archive", "source": str(path)}})
    lab.up(["local"], progress=False)
    dirs = lab.dirs(lab.catalog.resolve("local"))
    before = daemon.processes(dirs)
    for pid in before:                     # dockerd and its containerd die without cleaning up
        os.kill(pid, 9)
    (row,) = lab.up(["local"], progress=False)
    assert row.healthy and not set(before) & set(daemon.processes(dirs))


def test_engine_that_fails_to_start_shows_its_log(local_archive, private_fleet):
    path, _ = local_archive
    lab = private_fleet({"bogus": {"kind": "archive", "source": str(path),
                                   "flags": ["--no-such-flag-for-labkit"]}})
    with pytest.raises(FleetError, match=r"dockerd for bogus exited with status \d+: .*no-such-flag-for-labkit"):
        lab.up(["bogus"], progress=False)


# --- the default fleet (LABKIT_FLEET=1 / CI) ------------------------------------------------
@pytest.mark.fleet
def test_default_fleet_answers_with_expected_versions(fleet):
    assert sorted(fleet) == sorted(DEFAULT)
    rows = {r.name: r for r in labfleet.status()}
    for name in DEFAULT:
        row = rows[name]
        assert row.healthy, name
        upstream = row.packages["docker.io"].split("+")[0]
        assert row.version.split("+")[0] == upstream, (name, row.version, row.packages)
        assert row.buildkit, f"{name}: no BuildKit"
    assert rows["28.5.2-containerd"].containerd_store and not rows["28.5.2"].containerd_store


@pytest.mark.fleet
def test_fleet_status_json_lists_sockets(fleet, capsys):
    from labkit.cli import main

    assert main(["fleet", "status", "--json"]) == 0
    listed = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    for name, url in fleet.items():
        assert listed[name]["base_url"] == url and listed[name]["healthy"]
        assert {"name", "version", "base_url", "healthy"} <= set(listed[name])
