"""Packaging: conda/Binder and pip users get the same packages; Binder reads what we ship."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from labkit import show

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11+")

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI ones.
CONDA_TO_PYPI = {"docker-py": "docker", "python-isal": "isal"}
NOT_PACKAGES = {"python", "pip"}


def normalized(requirement: str) -> tuple[str, str]:
    """``("docker", ">=7.1")`` from ``docker>=7.1`` or conda's ``docker-py >=7.1``."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*", requirement)
    assert match, f"cannot read requirement {requirement!r}"
    name = re.sub(r"[-_.]+", "-", match[1]).lower()
    return CONDA_TO_PYPI.get(name, name), match[3].replace(" ", "")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = pyproject()["project"]
    wanted = [*project["dependencies"], *(r for group in project["optional-dependencies"].values() for r in group)]
    conda = [d for d in environment()["dependencies"] if isinstance(d, str)]
    listed = dict(normalized(d) for d in conda if normalized(d)[0] not in NOT_PACKAGES)
    assert listed == dict(normalized(r) for r in wanted)


def test_environment_yml_installs_labkit_itself_and_a_python_labkit_supports():
    env = environment()
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert pip == ["-e ."]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    minimum = pyproject()["project"]["requires-python"].removeprefix(">=")
    version = python.split("=")[-1]
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


def test_binder_reads_the_top_level_files():
    # repo2docker: if binder/ or .binder/ exists, configuration at the top level is ignored.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    packages = [line.partition("#")[0].strip() for line in (ROOT / "apt.txt").read_text().splitlines()]
    assert {"busybox-static", "musl-tools", "docker-registry"} <= set(filter(None, packages))


def test_readme_badge_opens_the_lab_on_binder():
    readme = (ROOT / "README.md").read_text()
    assert f"[![Binder]({show.binder_badge().badge})]({show.binder_url()})" in readme
