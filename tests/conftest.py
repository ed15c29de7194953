"""Shared fixtures and the "required in CI" rule for tests that need real parts.

A test marked ``engine``, ``fleet``, ``browser``, ``tools`` or ``classroom`` is skipped with a reason
when that part is missing -- unless ``LABKIT_REQUIRE_<PART>=1`` is set (CI sets all of
them), in which case the missing part is a failure, never a silent skip.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from labkit import lessons

PARTS = ("engine", "fleet", "browser", "tools", "classroom")
REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534


def reference_dockerfile() -> str:
    """The published answer to exercise 2.3 (notebooks/solutions/02-a-static-hello.md):
    gcc on the lab's build base, the program alone in a FROM scratch stage, USER 65534."""
    text = (REPO / "notebooks" / "solutions" / "02-a-static-hello.md").read_text()
    return re.search(r'dockerfile = """\n(.*?)"""', text, re.S).group(1)


def required(part: str) -> bool:
    """True when CI demands ``part`` (``LABKIT_REQUIRE_ENGINE=1`` and so on)."""
    return os.environ.get(f"LABKIT_REQUIRE_{part.upper()}") == "1"


def need(part: str, reason: str):
    """Skip for ``reason`` -- or fail, when ``part`` is required."""
    if required(part):
        pytest.fail(f"{reason} (LABKIT_REQUIRE_{part.upper()}=1)", pytrace=False)
    pytest.skip(reason)


#: The Debian package(s) that install each outside program or file a test asks for (the
#: lessons' own optional programs come from ``labkit.lessons.PACKAGES``): a skip names the
#: one line that installs it. ``.ci/run`` installs them all (tests/test_packaging.py checks).
PACKAGES = {**lessons.PACKAGES,
            "docker": "docker.io", "git": "git", "tar": "tar", "setpriv": "util-linux", "file": "file",
            "openssl": "openssl", "umoci": "umoci", "skopeo": "skopeo", "mmdebstrap": "mmdebstrap",
            "chromium": "chromium", "configurable-http-proxy": "node-configurable-http-proxy",
            "qemu-aarch64-static": "qemu-user-static",
            "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
            "/usr/share/go-1.19/src/archive/tar/testdata": "golang-1.19-src",
            "/usr/lib/python3.11/test": "libpython3.11-testsuite"}


def install(name: str) -> str:
    """``apt-get install PACKAGE...``: the line that installs program (or file) ``name``."""
    return f"apt-get install {PACKAGES.get(name, name)}"


def need_tool(name: str, part: str = "tools") -> str:
    """Path of the program ``name``, or skip (with the line that installs it) / fail as
    ``part`` requires (``LABKIT_REQUIRE_TOOLS``)."""
    path = shutil.which(name)
    if path is None:
        need(part, f"{name} is not installed: {install(name)}")
    return path


def need_path(path: str | Path, package_of: str | None = None) -> Path:
    """``path`` (a file or folder an optional package ships), or skip/fail as ``tools``
    requires; ``package_of``: the ``PACKAGES`` key that installs it (default ``path``)."""
    if not Path(path).exists():
        need("tools", f"{path} is missing: {install(package_of or str(path))}")
    return Path(path)


def need_lesson_tools(*programs: str) -> None:
    """Skip/fail unless this machine has the lessons' optional ``programs`` as they use them
    (``labkit.lessons.have``: a static busybox, gcc that links static and dynamic C)."""
    missing = [p for p in programs if not lessons.have(p)]
    if missing:
        packages = " ".join(dict.fromkeys(PACKAGES[p] for p in missing))
        need("tools", f"{', '.join(missing)} not here: apt-get install {packages}")


@pytest.fixture(scope="session")
def engine():
    """The Docker engine at DOCKER_HOST (or the default socket), or skip/fail."""
    from labkit import engine as engine_mod
    from labkit.errors import LabkitError

    try:
        eng = engine_mod.connect()
    except LabkitError as err:
        need("engine", f"no Docker engine: {err}")
    yield eng
    eng.cleanup()


@pytest.fixture(scope="session")
def fleet():
    """The default fleet (``labkit fleet up``) for the session: name -> base_url.

    Starting five engines is slow, so it runs only with LABKIT_FLEET=1 or
    LABKIT_REQUIRE_FLEET=1 (CI). Use ``labkit.fleet.engine(name)`` for an Engine.
    Teardown: ``down``, then nothing may be left (process, mount or socket).
    """
    from labkit import fleet as fleet_mod
    from labkit.errors import LabkitError

    if not (os.environ.get("LABKIT_FLEET") == "1" or required("fleet")):
        pytest.skip("the fleet is slow to start: set LABKIT_FLEET=1 to run fleet tests")
    try:
        fleet_mod.up(progress=False)
    except LabkitError as err:
        need("fleet", f"the fleet did not come up: {err}")
    yield fleet_mod.endpoints()
    fleet_mod.down()
    assert fleet_mod.leftovers() == []


@pytest.fixture(scope="session")
def podman_fleet():
    """The fleet's Podman 4.3.1 service (``labkit fleet up podman-4.3.1``: Debian's
    podman in an mmdebstrap root) as a ``labkit.engine.Engine`` with its own podman CLI.

    Like ``fleet``: only with LABKIT_FLEET=1 or LABKIT_REQUIRE_FLEET=1 (CI); the first
    ``up`` makes the root (about two minutes). Teardown: ``down``, nothing left behind.
    """
    from labkit import fleet as fleet_mod
    from labkit.errors import LabkitError

    if not (os.environ.get("LABKIT_FLEET") == "1" or required("fleet")):
        pytest.skip("the fleet is slow to start: set LABKIT_FLEET=1 to run fleet tests")
    if os.geteuid() != 0 or shutil.which("mmdebstrap") is None:
        need("fleet", "a Podman fleet engine needs root and mmdebstrap (apt-get install mmdebstrap)")
    try:
        fleet_mod.up(["podman-4.3.1"], progress=False)
        eng = fleet_mod.engine("podman-4.3.1")
    except LabkitError as err:
        need("fleet", f"the Podman fleet engine did not come up: {err}")
    yield eng
    eng.cleanup()
    fleet_mod.down(["podman-4.3.1"])
    assert fleet_mod.leftovers(["podman-4.3.1"]) == []


def _readable_copy(src: Path, dest: Path) -> None:
    """``src`` (a folder or one file) copied to ``dest`` so that every user can read it."""
    if src.is_file():
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o644)
        return
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for folder, _, files in os.walk(dest):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


# Run in a fresh child of this Python: the top-level modules that `import labkit.cli`
# loads from outside the standard library and labkit (docker and what it needs), as paths.
_STARTUP = """
import sys
before = set(sys.modules)
import labkit.cli
for name in sorted({n.split(".")[0] for n in set(sys.modules) - before}
                   - set(sys.stdlib_module_names) - {"labkit"}):
    module = sys.modules[name]
    where = list(getattr(module, "__path__", None) or [getattr(module, "__file__", None)])
    if where and where[0]:
        print(where[0])
"""


def _startup_packages() -> list[Path]:
    """The third-party packages labkit's command line imports before it does anything."""
    done = subprocess.run([sys.executable, "-c", _STARTUP], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"cannot import labkit.cli here: {done.stderr.strip().splitlines()[-1:]}")
    return [Path(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="session")
def as_nobody():
    """``(command prefix, env)`` that run Python as uid 65534 with this labkit importable.

    A checkout may sit in a folder only its owner can enter (a clone in ``mktemp -d`` or
    in ``/root``), where uid 65534 can read neither labkit nor, often, this venv's
    Python and packages. So labkit, and the few packages its command line imports at
    start-up (the docker SDK and what it needs: every labkit import sits at the top of
    its module), are copied into a world-readable temporary folder (``PYTHONPATH``), and
    the interpreter is the first of this venv's, its base one and the system ``python3``
    that uid 65534 can start with ``labkit.cli`` importable: what such a test runs must
    need nothing more (``labkit fleet up`` refuses a non-root user before it imports
    anything else). Needs root and ``setpriv`` (util-linux).

    Example:
        >>> python, env = as_nobody                                    # doctest: +SKIP
        >>> subprocess.run([*python, "-m", "labkit", "fleet", "up"], env=env, cwd="/")  # doctest: +SKIP
    """
    if os.geteuid() != 0:
        pytest.skip("switching to uid 65534 needs root")
    setpriv = need_tool("setpriv")
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    copy = Path(tempfile.mkdtemp(prefix="labkit-nobody-"))
    try:
        _readable_copy(REPO / "labkit", copy / "labkit")
        for package in _startup_packages():
            _readable_copy(package, copy / package.name)
        os.chmod(copy, 0o755)
        env = dict(os.environ, HOME="/nonexistent", PYTHONPATH=str(copy))
        candidates = [sys.executable, os.path.realpath(sys.executable), getattr(sys, "_base_executable", None),
                      shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")]
        for python in dict.fromkeys(c for c in candidates if c):
            probe = subprocess.run([*prefix, python, "-c", "import labkit.cli"], env=env, cwd="/",
                                   capture_output=True, timeout=60)
            if probe.returncode == 0:
                yield [*prefix, python], env
                return
        need("tools", f"no Python that uid {NOBODY} can start with labkit importable "
                      f"(tried {', '.join(dict.fromkeys(c for c in candidates if c))})")
    finally:
        shutil.rmtree(copy)


@pytest.fixture()
def progress_file(tmp_path, monkeypatch):
    """A progress file of the test's own (LABKIT_PROGRESS), and checkers that judge the
    files alone (LABKIT_CHECK_ENGINE=0): the test_checks* modules use it for every test."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LABKIT_PROGRESS", str(path))
    monkeypatch.setenv("LABKIT_CHECK_ENGINE", "0")
    return path
