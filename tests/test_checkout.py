"""The checkout works wherever a user puts it: here, a folder only its owner can enter.

A new user clones into ``mktemp -d`` or ``/root`` (mode 0700) and ``make`` puts the
venv there too. Tests that run labkit as another user must still pass there; this runs
the one that switches user from such a copy, with a venv inside it that borrows this
venv's packages (a ``.pth`` line: no install, no nested ``make``). The borrowed packages
leave out this checkout's editable install, which another user could read.
"""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import need, need_tool

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def private_clone():
    """The checkout's files (what a clone holds, plus uncommitted edits) in a 0700 folder."""
    git = need_tool("git")
    listed = subprocess.run([git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True)
    if listed.returncode != 0:
        need("tools", f"{ROOT} is not a git checkout: {listed.stderr.decode().strip()}")
    private = Path(tempfile.mkdtemp(prefix="labkit-private-"))   # mode 0700, like mktemp -d
    try:
        clone = private / "lab"
        for name in filter(None, listed.stdout.decode().split("\0")):
            if (ROOT / name).is_file():
                (clone / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, clone / name)
        assert private.stat().st_mode & 0o777 == 0o700
        venv = clone / ".venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        (packages,) = venv.glob("lib/python3*/site-packages")
        # Lines of a .pth go on sys.path; the .pth files in them (our editable install) do not run.
        (packages / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
        yield clone
    finally:
        shutil.rmtree(private)


def test_tests_that_switch_user_pass_in_a_folder_only_its_owner_can_enter(private_clone):
    # (Before the fix: "No module named labkit" -- uid 65534 cannot read the checkout.)
    if os.geteuid() == 0:
        need_tool("setpriv")
    python = private_clone / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-rs", "tests/test_fleet.py", "-k", "not_root"],
        cwd=private_clone, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(private_clone)))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"rootdir: {private_clone}\n" in done.stdout          # the copy's tests ran, not this tree's
    assert "1 passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-3000:]
