"""The widgets in a real browser: JupyterLab + Debian's headless Chromium, driven by Playwright.

Runs ``tests/data/explorer.ipynb`` in JupyterLab, picks a layer in the layer explorer and
an engine in the engine picker, and checks what the page shows. Screenshots go to
``test-output/browser/`` (CI keeps them as artifacts).
"""
from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import install, need

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server"]
SCREENSHOTS = ROOT / "test-output" / "browser"


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def stop(server: subprocess.Popen) -> None:
    """Stop the server and whatever it started, even when it has already exited."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            pass                       # the whole group is gone already
        try:
            server.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    """A JupyterLab on a free port serving a copy of the test notebook: yields its URL."""
    if not installed("jupyterlab"):
        need("browser", "JupyterLab is not installed (make installs it: pip install -e '.[lab,test]')")
    if not CHROMIUM.exists():
        need("browser", f"Debian's chromium is not installed: {install('chromium')}")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "explorer.ipynb", root)
    port, token = free_port(), secrets.token_hex(16)
    state = tmp_path / "jupyter"
    # No "official Jupyter news?" toast over the screenshots.
    (state / "config" / "labconfig").mkdir(parents=True)
    (state / "config" / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}')
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(state / "config"),
           "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
               f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "wb")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-2000:])
                time.sleep(0.5)
        yield f"{base}/lab/tree/explorer.ipynb?token={token}"
    finally:
        stop(server)
        log.close()


@pytest.fixture()
def page(lab):
    """A Chromium page (Debian's binary, no Playwright download) with the notebook open."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("browser", "the playwright package is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(lab)
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   state="attached", timeout=90_000)
            yield page
            shoot(page, "last")  # the final state, whatever happened
        finally:
            browser.close()


def shoot(target, name: str) -> Path:
    """Screenshot of a page or of one element (a Playwright locator)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    target.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def file_rows(page) -> list[tuple[str, str]]:
    rows = page.locator(".labkit-layer-explorer .labkit-layer-files .labkit-file-row")
    return [(r.get_attribute("data-change"), r.get_attribute("data-path")) for r in rows.all()]


def run_all_cells(page) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # A fresh JupyterLab may first ask which kernel to start: take the notebook's own.
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        dialog.wait_for(timeout=15_000)
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        dialog.wait_for(state="detached")
    except PlaywrightTimeout:
        pass
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()


def test_layer_explorer_and_engine_picker_in_chromium(page):
    run_all_cells(page)
    explorer = page.locator(".labkit-layer-explorer")
    explorer.wait_for(timeout=120_000)
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert "2 layers" in explorer.locator(".labkit-explorer-summary").inner_text()

    select = explorer.locator(".labkit-layer-select select")
    options = [o.replace("\xa0", " ").strip() for o in select.locator("option").all_inner_texts()]
    assert [o.split(" · ")[0] for o in options] == ["layer 1", "layer 2"]
    page.wait_for_function("document.querySelectorAll('.labkit-layer-explorer .labkit-file-row').length > 0")
    assert file_rows(page) == [("added", "etc"), ("added", "etc/motd"), ("added", "hello")]
    shoot(explorer, "explorer-layer-0")

    select.select_option(index=1)
    page.wait_for_selector(".labkit-layer-explorer .labkit-file-row[data-change='deleted']")
    assert file_rows(page) == [("added", "etc/issue"), ("deleted", "etc/motd")]
    deleted = explorer.locator(".labkit-file-row[data-change='deleted']").inner_text()
    assert "etc/.wh.motd" in deleted and "8 B" in deleted
    shoot(explorer, "explorer-layer-1")

    picker = page.locator(".labkit-engine-picker")
    view = picker.locator(".labkit-engine-view")
    view.locator("table.labkit-table").wait_for()
    assert view.locator("tbody tr").count() == 2
    picker.locator(".labkit-engine-select select").select_option(index=1)
    page.wait_for_function(
        "document.querySelectorAll('.labkit-engine-view table.labkit-table tbody tr').length === 1")
    assert "28.5.2" in view.locator("tbody").inner_text()
    shoot(picker, "engine-picker")


# Makes `jupyterlab` unimportable in a child Python (PYTHONPATH picks this sitecustomize).
HIDE_JUPYTERLAB = '''import sys
class HideJupyterLab:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] == "jupyterlab":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, HideJupyterLab)
'''


@pytest.mark.parametrize("require", ["", "1"])
def test_without_jupyterlab_it_says_what_is_missing(tmp_path, require):
    (tmp_path / "sitecustomize.py").write_text(HIDE_JUPYTERLAB)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "LABKIT_REQUIRE_BROWSER": require}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rsE",
                           f"{__file__}::test_layer_explorer_and_engine_picker_in_chromium"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "ProcessLookupError" not in done.stdout and "did not start" not in done.stdout, done.stdout[-3000:]
    reason = "JupyterLab is not installed (make installs it: pip install -e '.[lab,test]')"
    if require:
        assert done.returncode == 1 and f"{reason} (LABKIT_REQUIRE_BROWSER=1)" in done.stdout, done.stdout[-3000:]
    else:
        assert done.returncode == 0 and "SKIPPED [1] tests/test_browser.py" in done.stdout, done.stdout[-3000:]
        assert reason in done.stdout
