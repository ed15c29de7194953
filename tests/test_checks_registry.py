"""labkit.checks, notebook 06: the digest no compressor changes (06.1), the pull size read
from the registry (06.2), a second image that shares a layer (06.3), unknown/unknown (06.4).
06.2 and 06.3 run against a real registry (Debian's docker-registry), as the notebook does."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from labkit import checks, oci
from labkit.checks import registry as checks_registry
from labkit.scenarios import hello_image


#: A progress file of the test's own; the checkers judge files alone (no engine).
pytestmark = pytest.mark.usefixtures("progress_file")


BASE = [oci.Entry.dir("bin"), oci.Entry.file("bin/base", b"base layer\n" * 400, mode=0o755)]
TRIMMED = oci.Image([BASE, [oci.Entry.whiteout("bin/base")]], cmd=["/bin/base"])


@pytest.fixture
def notebook_registry(tmp_path, monkeypatch):
    """The registry as notebook 06 leaves it: in work/06/registry, with its pushes."""
    from conftest import need_tool
    from labkit import registry
    need_tool("docker-registry")
    monkeypatch.chdir(tmp_path)
    with registry.local(tmp_path / "work" / "06" / "registry") as reg:
        pushes = {"hello": registry.push(reg, hello_image(), "lab/hello:1"),
                  "base": registry.push(reg, oci.Image([BASE], cmd=["/bin/base"]), "lab/busybox:base"),
                  "trimmed": registry.push(reg, TRIMMED, "lab/busybox-trimmed:1")}
        yield reg, pushes


def test_06_2_reads_the_registry(notebook_registry):
    reg, pushes = notebook_registry
    right = pushes["trimmed"].pull_size
    stored = checks_registry._pull_sizes(reg)["lab/busybox-trimmed:1"]
    assert stored[0] == right
    for answer in (right, float(right), np.int64(right), Decimal(right), str(right), f"{right:,}", f"{right} B"):
        verdict = checks.check_06_2(answer)
        assert verdict.passed, (answer, verdict)
    assert "config and the manifest" in checks.check_06_2(right + stored[1]).message
    assert "lab/busybox:base" in checks.check_06_2(pushes["base"].pull_size).message
    assert "uncompressed" in checks.check_06_2(sum(TRIMMED.layer_sizes) * 3).message
    assert "not the sum" in checks.check_06_2(right - 1).message
    assert "whole number" in checks.check_06_2(right + 0.5).message
    assert "truth value" in checks.check_06_2(True).message


def test_06_2_with_no_registry_is_unverified(tmp_path, monkeypatch, progress_file):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(checks_registry, "_registries", lambda: [])
    verdict = checks.check_06_2(1234)
    assert verdict.passed is None and verdict.unverified and "Not built here" in verdict.message
    assert "06.2" in checks.record.unverified() and "06.2" not in checks.record.passed()


def test_06_3_judges_the_layers_so_a_rerun_still_passes(notebook_registry, tmp_path):
    from labkit import registry
    reg, _ = notebook_registry
    mine = oci.Image([BASE, [oci.Entry.file("etc/motd", b"mine\n")]], cmd=["/bin/base"])
    pushed = registry.push(reg, mine, "lab/mine:1")
    first = checks.check_06_3(pushed)
    assert first.passed and "mounted from the notebook's repository" in first.message, first
    again = checks.check_06_3(registry.push(reg, mine, "lab/mine:1"))       # the cell run twice
    assert again.passed and "already there" in again.message, again
    elsewhere = checks.check_06_3(registry.push(reg, mine, "lab/elsewhere:2"))   # the same image, another name
    assert elsewhere.passed, elsewhere
    alone = checks.check_06_3(registry.push(reg, oci.Image([BASE], cmd=["/bin/base"]), "lab/same:1"))
    assert alone.passed is False and "1 layer(s)" in alone.message
    other = oci.Image([[oci.Entry.file("a", b"a")], [oci.Entry.file("b", b"b")]], cmd=["/a"])
    fresh = checks.check_06_3(registry.push(reg, other, "lab/other:1"))
    assert fresh.passed is False and "shares nothing" in fresh.message
    pulled = checks.check_06_3(registry.pull(reg, "lab/mine:1", tmp_path / "layout"))
    assert pulled.passed is False and "pull" in pulled.message
    copied = checks.check_06_3(registry.push(reg, TRIMMED, "lab/copy:1"))        # the notebook's image, renamed
    assert copied.passed is False and "none of them is yours" in copied.message, copied
    copied_again = checks.check_06_3(registry.push(reg, TRIMMED, "lab/copy:1"))  # ... and pushed twice
    assert copied_again.passed is False and "none of them is yours" in copied_again.message
    theirs = checks.check_06_3(registry.push(reg, mine, "lab/busybox-trimmed:1"))   # the notebook's repository
    assert theirs.passed is False and "notebook's own repository" in theirs.message
    assert "not a push result" in checks.check_06_3(3).message
    assert "not a push result" in checks.check_06_3(pushed.to_dict()).message


BUSYBOX_LAYER = oci.Image([checks_registry.busybox_layer(
    checks_registry.machine.busybox(checks_registry.machine.target(None).arch).source("/tmp"))]).diff_ids[0]


@pytest.mark.parametrize("answer, passed", [
    (BUSYBOX_LAYER, True), (" " + BUSYBOX_LAYER.upper(), True), (BUSYBOX_LAYER.encode(), True),
    (BUSYBOX_LAYER[7:], False), (BUSYBOX_LAYER[:19], False), (hello_image("modern").diff_ids[0], False),
    ("sha256:" + "0" * 64, False), (1, False)])
def test_06_1_the_diff_id(answer, passed):
    assert checks.check_06_1(answer).passed is passed


@pytest.mark.parametrize("answer, passed", [
    ("b", True), (" B ", True), ("(b)", True), ("b.", True), ("an attestation manifest", True),
    ("provenance", True), ("SLSA provenance", True), ("a", False), ("c", False), ("d", False),
    ("another CPU architecture", False), ("not an attestation", False), ("an arm image", False),
    ("a failed push", False), ("b or c", False), (2, False), (["b"], False)])
def test_06_4_a_choice(answer, passed):
    assert checks.check_06_4(answer).passed is passed


def test_06_1_says_what_a_close_answer_is():
    assert "first digits" in checks.check_06_1(BUSYBOX_LAYER[:19]).message
    assert "hello layer" in checks.check_06_1(hello_image("20.10").diff_ids[0]).message
