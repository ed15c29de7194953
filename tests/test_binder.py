"""labkit.binder: links from labkit/binder.json, every badge copy agrees, and one command moves them."""
from __future__ import annotations

import doctest
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import binder, show
from labkit.errors import LabkitError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def first_markdown(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])


@pytest.fixture()
def checkout(tmp_path) -> Path:
    """A copy of what the command rewrites (and labkit itself, so the CLI runs from it)."""
    shutil.copy(ROOT / "README.md", tmp_path)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "labkit", tmp_path / "labkit", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_links_come_from_binder_json():
    config = json.loads((ROOT / "labkit" / "binder.json").read_text())
    assert binder.settings() == config
    url = binder.binder_url("notebooks/02-a-static-hello.ipynb")
    assert url == (f"{config['binder']}/v2/gh/{config['repository']}/{config['ref']}"
                   "?urlpath=lab/tree/notebooks/02-a-static-hello.ipynb")
    assert binder.binder_url() == url.removesuffix("/02-a-static-hello.ipynb")
    assert str(binder.binder_badge("02-a-static-hello.ipynb")) == f"[![Binder]({config['badge']})]({url})"


def test_show_re_exports_the_binder_links_and_binder_never_imports_show():
    assert (show.binder_url, show.binder_badge, show.BinderBadge) == (
        binder.binder_url, binder.binder_badge, binder.BinderBadge)
    done = subprocess.run([sys.executable, "-c", "import sys, labkit.binder; "
                           "assert 'labkit.show' not in sys.modules, sorted(sys.modules)"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_readme_badge_opens_the_lab():
    links = binder.BADGE_LINK.findall((ROOT / "README.md").read_text())
    assert links == [str(binder.binder_badge())]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_badge_opens_that_notebook(notebook):
    assert binder.BADGE_LINK.findall(first_markdown(notebook)) == [str(binder.binder_badge(notebook.name))]
    assert binder.binder_badge(notebook.name).url == binder.binder_url(notebook.name)
    # No other copy of a badge anywhere in the notebook (an output, another cell).
    assert len(binder.BADGE_LINK.findall(notebook.read_text())) == 1


def test_set_repository_rewrites_the_settings_and_only_the_badge_lines(checkout):
    files = [checkout / "README.md", *sorted((checkout / "notebooks").glob("*.ipynb"))]
    before = {p: p.read_bytes() for p in files}
    settings_before = (checkout / "labkit" / "binder.json").read_bytes()
    old = binder.settings(checkout / "labkit" / "binder.json")

    changed = binder.set_repository("my-school/from-scratch-2026", "spring", root=checkout)

    assert changed == [checkout / "labkit" / "binder.json", *before]
    new = binder.settings(checkout / "labkit" / "binder.json")
    assert new == {**old, "repository": "my-school/from-scratch-2026", "ref": "spring"}
    prefix = lambda s: f"{s['binder']}/v2/gh/{s['repository']}/{s['ref']}?"   # noqa: E731
    for path, data in before.items():
        # Byte for byte the old file with the slug and ref swapped in the badge line alone.
        assert path.read_bytes() == data.replace(prefix(old).encode(), prefix(new).encode())
        assert data.count(prefix(old).encode()) == 1
    assert binder.set_repository("my-school/from-scratch-2026", root=checkout) == []   # nothing left to do
    binder.set_repository(old["repository"], old["ref"], root=checkout)                # and back
    assert all(path.read_bytes() == data for path, data in before.items())
    assert (checkout / "labkit" / "binder.json").read_bytes() == settings_before


@pytest.mark.parametrize("repository, ref, words", [
    ("no-slash", None, "not a GitHub repository slug"),
    ("owner/name with space", None, "not a GitHub repository slug"),
    ("owner/name", "main?x=1", "not a branch, tag or commit"),
])
def test_set_repository_refuses_what_is_not_a_slug_or_ref(checkout, repository, ref, words):
    with pytest.raises(LabkitError, match=words):
        binder.set_repository(repository, ref, root=checkout)


def test_set_repository_outside_a_checkout_is_one_clear_error(tmp_path):
    with pytest.raises(LabkitError, match="not a labkit checkout"):
        binder.set_repository("owner/name", root=tmp_path)


def test_cli_points_the_badges_at_a_fork(checkout):
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    run = lambda *args: subprocess.run([sys.executable, "-m", "labkit", "binder", *args],   # noqa: E731
                                       capture_output=True, text=True, env=env, cwd=checkout)
    done = run("--repository", "a-fork/lab", "--ref", "main")
    assert done.returncode == 0, done.stderr
    assert f"updated {checkout / 'README.md'}" in done.stdout and "commit the files above" in done.stdout
    url = "https://mybinder.org/v2/gh/a-fork/lab/main?urlpath=lab/tree/notebooks"
    assert f"]({url})" in (checkout / "README.md").read_text()
    assert f"]({url}/00-start-here.ipynb)" in first_markdown(checkout / "notebooks" / "00-start-here.ipynb")
    assert run().stdout == f"a-fork/lab at main: {url}\n"
    done = run("--repository", "not a slug")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: 'not a slug' is not a GitHub repository slug; write it as OWNER/NAME\n"


def test_the_docstring_examples_run():
    result = doctest.testmod(binder, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed
