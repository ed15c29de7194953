"""A fake Docker engine on a unix socket, answering from a fixture of tests/data/engines/.

It serves ``/_ping``, ``/version`` and ``/info`` (unversioned and ``/v1.NN/...``) and,
like Docker 29.0-29.2, refuses every versioned request below its ``MinAPIVersion`` with
the daemon's own message (moby #51186). Enough for the docker SDK's version
negotiation and for a real docker CLI's ``docker version``; nothing is built or run.
"""
from __future__ import annotations

import http.server
import json
import re
import socketserver
import threading
from pathlib import Path

ENGINES = Path(__file__).resolve().parent / "data" / "engines"


def fixture(name: str) -> dict:
    """``{"version": ..., "info": ...}`` of ``tests/data/engines/<name>.json``."""
    return json.loads((ENGINES / f"{name}.json").read_text())


def _tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    answers: dict = {}

    def handle_error(self, request, client_address) -> None:
        pass                                    # a client that hangs up after a 400 is fine


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:      # quiet (and unix sockets have no address)
        pass

    def _send(self, status: int, body: dict | str, head: bool = False) -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        version = self.server.answers["version"]
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
        self.send_header("Api-Version", version["ApiVersion"])
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:                            # a HEAD answer has headers only
            self.wfile.write(data)

    def do_HEAD(self) -> None:                 # noqa: N802 - http.server's name
        self._send(200, "OK", head=True)

    def do_GET(self) -> None:                  # noqa: N802
        answers = self.server.answers
        match = re.match(r"^/v(\d+\.\d+)(/.*)$", self.path)
        path = self.path.split("?")[0]
        if match:
            asked, path = match.group(1), match.group(2).split("?")[0]
            floor = answers["version"].get("MinAPIVersion", "1.12")
            if _tuple(asked) < _tuple(floor):
                self._send(400, {"message": f"client version {asked} is too old. Minimum supported "
                                            f"API version is {floor}, please upgrade your client "
                                            "to a newer version"})
                return
        if path == "/_ping":
            self._send(200, "OK")
        elif path == "/version":
            self._send(200, answers["version"])
        elif path == "/info":
            self._send(200, answers["info"])
        else:
            self._send(404, {"message": f"page not found (fake engine: {path})"})


class FakeEngine:
    """``with FakeEngine(tmp_path, "desktop-29-arm64") as url:`` -- a socket answering as it."""

    def __init__(self, folder: Path, name: str):
        self.socket = Path(folder) / "fake-docker.sock"
        self.server = _Server(str(self.socket), _Handler)
        self.server.answers = fixture(name)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"unix://{self.socket}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
