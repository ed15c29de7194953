"""Run a notebook top to bottom through a learner's own Jupyter server, as they would.

The notebook is read from their server (contents API), a session starts a kernel in
the notebook's folder (sessions API: the kernel runs as the learner's system user, with
their environment), and each code cell is sent over the kernel's websocket as an
``execute_request`` (Jupyter messaging protocol 5.3); the first cell whose reply is an
error ends the run, as ``jupyter nbconvert --execute`` does. The session is deleted
afterwards, which stops the kernel. Nothing is written back into the notebook.

Example:
    >>> run = run_notebook(hub.server_url(name), token, "notebooks/00-start-here.ipynb")  # doctest: +SKIP
    >>> run.ok, run.cells                                                                  # doctest: +SKIP
    (True, 5)
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import time
import uuid

import requests

from labkit.errors import LabkitError

CELL_TIMEOUT = 600          # seconds one cell may run (a build on a busy engine)


@dataclasses.dataclass
class NotebookRun:
    """How one notebook run ended.

    Attributes:
        path: the notebook, relative to the server's root.
        seconds: from starting its kernel to the last reply.
        cells: code cells run.
        error: ``None``, or the first error (cell number, exception name and value).
        reconnects: times the kernel's websocket had to be opened again before the first
            cell (JupyterLab reconnects too); a connection lost during a cell is an error.
    """

    path: str
    seconds: float = 0.0
    cells: int = 0
    error: str | None = None
    reconnects: int = 0

    @property
    def ok(self) -> bool:
        """True when every code cell ran without an error."""
        return self.error is None


def _message(msg_type: str, content: dict, session: str, channel: str = "shell") -> dict:
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session,
                       "username": "labkit", "version": "5.3",
                       "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel,
            "buffers": []}


class _Kernel:
    """One kernel's websocket: send a request, wait for its reply and its idle status."""

    def __init__(self, ws_url: str, token: str):
        import websocket  # websocket-client, which jupyter_server itself needs

        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(f"{ws_url}?session_id={self.session}",
                                              header=[f"Authorization: token {token}"],
                                              timeout=CELL_TIMEOUT)

    def request(self, msg_type: str, content: dict, timeout: float = CELL_TIMEOUT) -> tuple[dict, list[dict]]:
        """Send one shell request; return its reply and the error outputs it produced."""
        message = _message(msg_type, content, self.session)
        msg_id = message["header"]["msg_id"]
        self.ws.send(json.dumps(message))
        reply, idle, errors = None, False, []
        deadline = time.monotonic() + timeout
        while reply is None or not idle:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {msg_type} within {timeout:.0f} s")
            incoming = json.loads(self.ws.recv())
            if incoming.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = incoming.get("msg_type") or incoming.get("header", {}).get("msg_type") or ""
            if incoming.get("channel") == "shell" and kind.endswith("_reply"):
                reply = incoming["content"]
            elif kind == "status" and incoming["content"].get("execution_state") == "idle":
                idle = True
            elif kind == "error":
                errors.append(incoming["content"])
        return reply, errors

    def close(self) -> None:
        self.ws.close()


def _connect(url: str, token: str, timeout: float, run: NotebookRun, attempts: int = 3) -> _Kernel:
    """The kernel's websocket, answering ``kernel_info``; opened again (as JupyterLab
    does) when it closes before that, up to ``attempts`` times (counted in ``run``)."""
    for attempt in range(1, attempts + 1):
        kernel = None
        try:
            kernel = _Kernel(url, token)
            kernel.request("kernel_info_request", {}, timeout=timeout)
            return kernel
        except Exception:  # noqa: BLE001 - a refused or dropped websocket: try again
            if kernel is not None:
                kernel.close()
            if attempt == attempts:
                raise
            run.reconnects += 1
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def run_notebook(server_url: str, token: str, path: str, kernel_name: str = "python3",
                 timeout: float = 120) -> NotebookRun:
    """Run every code cell of ``path`` on the server at ``server_url`` (``.../user/<name>/``).

    Args:
        server_url: the learner's server, behind the Hub's proxy.
        token: the learner's API token.
        path: the notebook, relative to the server's root (``notebooks/01-....ipynb``).
        kernel_name: the kernel to start.
        timeout: seconds each REST call may take (cells get ``CELL_TIMEOUT``).

    Returns:
        A :class:`NotebookRun`; a failing cell is a result (``error``), not an exception.

    Raises:
        LabkitError: the server refused to read the notebook or to start a kernel.
    """
    api = server_url.rstrip("/") + "/api"
    http = requests.Session()
    http.headers["Authorization"] = f"token {token}"
    run = NotebookRun(path)
    start = time.monotonic()
    answer = http.get(f"{api}/contents/{path}", params={"content": 1}, timeout=timeout)
    if answer.status_code != 200:
        raise LabkitError(f"cannot read {path} from {server_url}: {answer.status_code}")
    cells = [c for c in answer.json()["content"]["cells"] if c["cell_type"] == "code"]
    answer = http.post(f"{api}/sessions", timeout=timeout, json={
        "path": path, "name": path.rsplit("/", 1)[-1], "type": "notebook", "kernel": {"name": kernel_name}})
    if answer.status_code not in (200, 201):
        raise LabkitError(f"cannot start a kernel for {path}: {answer.status_code} {answer.text[:200]}")
    session = answer.json()
    ws_url = api.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    kernel = None
    try:
        kernel = _connect(f"{ws_url}/kernels/{session['kernel']['id']}/channels", token, timeout, run)
        for number, cell in enumerate(cells, 1):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            reply, errors = kernel.request("execute_request", {
                "code": source, "silent": False, "store_history": True, "user_expressions": {},
                "allow_stdin": False, "stop_on_error": True})
            run.cells = number
            if reply.get("status") != "ok" or errors:
                first = errors[0] if errors else reply
                run.error = f"cell {number}: {first.get('ename', reply.get('status'))}: {first.get('evalue', '')}"
                break
    except Exception as err:  # noqa: BLE001 - a dropped websocket or a timeout is this run's error
        run.error = f"cell {run.cells + 1}: {err.__class__.__name__}: {err}"
    finally:
        if kernel is not None:
            kernel.close()
        http.delete(f"{api}/sessions/{session['id']}", timeout=timeout)
    run.seconds = time.monotonic() - start
    return run
