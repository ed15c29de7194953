"""labkit's OCI output accepted by independent tools: umoci and skopeo (Debian packages)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import need_tool
from labkit import oci

pytestmark = pytest.mark.tools


@pytest.fixture
def hello_file(tmp_path):
    path = tmp_path / "hello"
    path.write_bytes(b"#!/hello\n")
    path.chmod(0o755)
    return path


def _build(hello_file, out, fmt):
    subprocess.run([sys.executable, "-m", "labkit", "build", "--add", f"{hello_file}:/hello",
                    "--cmd", "/hello", "--tag", "hello:v1", "--format", fmt, "-o", str(out)],
                   check=True, capture_output=True)
    return out


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_umoci_unpacks_the_oci_dir(tmp_path, hello_file):
    umoci = need_tool("umoci")
    layout = _build(hello_file, tmp_path / "layout", "oci-dir")
    assert "hello" in _run(umoci, "stat", "--image", f"{layout}:v1")
    _run(umoci, "unpack", "--rootless", "--image", f"{layout}:v1", str(tmp_path / "bundle"))
    unpacked = tmp_path / "bundle" / "rootfs" / "hello"
    assert unpacked.read_bytes() == b"#!/hello\n"
    assert json.loads((tmp_path / "bundle" / "config.json").read_text())["process"]["args"] == ["/hello"]


def test_skopeo_reads_and_copies(tmp_path, hello_file):
    skopeo = need_tool("skopeo")
    layout = _build(hello_file, tmp_path / "layout", "oci-dir")
    facts = json.loads(_run(skopeo, "inspect", f"oci:{layout}:v1"))
    assert facts["Os"] == "linux" and len(facts["Layers"]) == 1
    archive = _build(hello_file, tmp_path / "hello.tar", "oci-archive")
    _run(skopeo, "copy", f"oci-archive:{archive}:v1", f"dir:{tmp_path / 'copy'}")
    manifest = json.loads((tmp_path / "copy" / "manifest.json").read_text())
    assert len(manifest["layers"]) == 1


def test_skopeo_recompresses_to_zstd_and_labkit_reads_it(tmp_path, hello_file):
    skopeo = need_tool("skopeo")
    layout = _build(hello_file, tmp_path / "layout", "oci-dir")
    _run(skopeo, "copy", "--dest-compress-format", "zstd", "--dest-compress",
         f"oci:{layout}:v1", f"oci:{tmp_path / 'zstd'}:v1")
    info = oci.inspect(tmp_path / "zstd")
    assert info.layers[0].compression == "zstd"
    assert info.layers[0].diff_id == oci.inspect(layout).layers[0].diff_id
    oci.extract(tmp_path / "zstd", tmp_path / "root")
    assert (tmp_path / "root" / "hello").read_bytes() == b"#!/hello\n"
