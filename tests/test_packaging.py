"""Packaging: Binder gets the pinned packages CI tests, from pip names only; Binder reads what we ship."""
from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11+")

ROOT = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def pip_list() -> list[str]:
    """environment.yml's ``pip:`` list, as written."""
    return next(d["pip"] for d in environment()["dependencies"] if isinstance(d, dict) and "pip" in d)


def requirements(lines) -> dict[str, SpecifierSet]:
    """``{"docker": SpecifierSet("==7.2.0")}`` from requirement strings (names normalised)."""
    found = {}
    for line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in found, f"{name} is listed twice"
        found[name] = req.specifier
    return found


def test_conda_provides_only_python_and_pip():
    # Any other conda name depends on the channel (conda-forge's docker is "docker-py",
    # its playwright "playwright-python"): pip names are the same everywhere.
    conda = [d for d in environment()["dependencies"] if isinstance(d, str)]
    assert [re.split(r"[=<>!~ ]", d)[0] for d in conda] == ["python", "pip"]


def test_environment_pip_list_is_runtime_plus_lab_dependencies_then_labkit():
    project = pyproject()["project"]
    runtime = requirements(project["dependencies"])
    lab = requirements(project["optional-dependencies"]["lab"])
    *packages, labkit = pip_list()
    assert labkit == "-e ."
    # One specifier per package: the lab pin where there is one (inside the runtime range),
    # else the runtime range.
    for name, pin in lab.items():
        if name in runtime:
            (version,) = [s.version for s in pin if s.operator == "=="]
            assert version in runtime[name], f"lab pins {name}=={version}, outside {runtime[name]}"
    assert requirements(packages) == {**runtime, **lab}


def test_learners_get_the_lab_packages_pinned_and_nothing_test_only():
    project = pyproject()["project"]
    lab = requirements(project["optional-dependencies"]["lab"])
    assert {"jupyterlab", "ipywidgets", "docker", "matplotlib", "nbval"} <= set(lab)
    assert set(requirements(project["dependencies"])) <= set(lab), "pin labkit's own dependencies too"
    assert all(len(spec) == 1 and next(iter(spec)).operator == "==" for spec in lab.values()), lab
    test_only = requirements(project["optional-dependencies"]["test"])
    assert {"pytest", "playwright"} <= set(test_only)
    assert not set(test_only) & set(requirements(pip_list()[:-1]))


def test_this_venv_runs_the_pinned_versions():
    # `make` installs '.[lab,test]': what these tests run on is what learners get.
    for name, spec in requirements(pyproject()["project"]["optional-dependencies"]["lab"]).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is not installed: run `make` (it installs '.[lab,test]')")
        assert installed in spec, f"{name} {installed} is installed, pyproject pins {spec}: run `make`"


def test_environment_yml_uses_a_python_labkit_supports():
    python = next(d for d in environment()["dependencies"] if isinstance(d, str) and d.startswith("python"))
    minimum = pyproject()["project"]["requires-python"].removeprefix(">=")
    version = python.split("=")[-1]
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


def test_binder_like_installs_environment_yml_pip_list_and_nothing_else():
    script = ROOT / ".ci" / "binder-like"
    done = subprocess.run([str(script), "--requirements"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == pip_list()
    text = script.read_text()
    assert "pip install --quiet -r" in text and ".[" not in text  # no pyproject extras


def test_binder_reads_the_top_level_files():
    # repo2docker: if binder/ or .binder/ exists, configuration at the top level is ignored.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    packages = [line.partition("#")[0].strip() for line in (ROOT / "apt.txt").read_text().splitlines()]
    assert {"busybox-static", "musl-tools", "docker-registry"} <= set(filter(None, packages))


def test_the_class_server_extra_is_pinned_and_not_for_learners():
    # `make classroom` installs '.[lab,classroom]' into the class's own venv; Binder and
    # learners' laptops never need JupyterHub.
    extras = pyproject()["project"]["optional-dependencies"]
    classroom = requirements(extras["classroom"])
    assert "jupyterhub" in classroom
    assert all(len(spec) == 1 and next(iter(spec)).operator == "==" for spec in classroom.values()), classroom
    assert not set(classroom) & set(requirements(extras["lab"])), "a package pinned twice"
    assert not set(classroom) & set(requirements(extras["test"]))
    assert not set(classroom) & set(requirements(pip_list()[:-1])), "environment.yml is for learners"


def _packages(text: str) -> set[str]:
    return {word for line in text.splitlines() for word in line.partition("#")[0].split()}


def test_every_package_a_test_or_lesson_names_is_installed_by_ci_and_apt_txt_makes_every_step_live():
    """One list each, none drifting: conftest.PACKAGES (what a skip says to install) and
    labkit.lessons.PACKAGES (what a lesson step uses) against .ci/run's PKGS and apt.txt."""
    from conftest import PACKAGES
    from labkit import lessons, terminal

    ci = (ROOT / ".ci" / "run").read_text()
    installed = _packages(ci.split('PKGS="', 1)[1].split('"', 1)[0])
    wanted = {p for value in PACKAGES.values() for p in value.split()} - {"util-linux", "tar"}  # essential
    assert wanted <= installed, f".ci/run does not install {sorted(wanted - installed)}"
    notebooks = sorted((ROOT / "notebooks").glob("**/[0-9a-z]*.ipynb"))
    used = {p for n in notebooks for p in lessons.assumes(n)}
    lesson = {pkg for p in used for pkg in (lessons.PACKAGES.get(p) or terminal.PACKAGES.get(p, p)).split()}
    assert lesson <= _packages((ROOT / "apt.txt").read_text()) <= installed


def test_a_missing_tool_skips_with_the_line_that_installs_it_and_fails_where_required(monkeypatch):
    import conftest

    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)
    monkeypatch.delenv("LABKIT_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^umoci is not installed: apt-get install umoci$"):
        conftest.need_tool("umoci")
    with pytest.raises(pytest.skip.Exception, match=r"is missing: apt-get install golang-1.19-src$"):
        conftest.need_path("/nonexistent/go-1.19/testdata", "/usr/share/go-1.19/src/archive/tar/testdata")
    monkeypatch.setenv("LABKIT_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install umoci \(LABKIT_REQUIRE_TOOLS=1\)"):
        conftest.need_tool("umoci")
