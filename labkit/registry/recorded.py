"""A real registry's HTTP exchanges, recorded where ``docker-registry`` runs and replayed
where it is not installed -- through the same client code, never a made-up answer.

Recording: with ``LABKIT_RECORD_REGISTRY=FILE`` (``make execute`` sets it), every client a
lesson starts on a live registry (``labkit.registry.start``) keeps each exchange -- method,
path, the request headers that matter and the body's digest, then the status, headers and
body of the answer -- and adds its session to ``FILE`` with the registry's version and the
date. Bodies up to :data:`KEPT` bytes are kept; a larger one only by digest and size (the
project ships no copy of a public program, such as Debian's busybox inside a layer).

Replay: :class:`Replay` is a ``requests`` transport adapter. Each request is matched, in
order, against every recorded session that still agrees with what was asked so far; the
answer is the recorded one. Only upload sessions' random names (the UUID and ``_state`` of
a ``Location``) are not compared. A request no session recorded raises
:class:`NotRecorded`, one line saying how to run it live. An answer whose body was kept only by digest is served only from the
bytes this client itself sent with that digest (content addressing: the same bytes).

Example:
    >>> recorded_file().name
    'exchanges.json'
    >>> normalise("/v2/lab/x/blobs/uploads/0b9d1c5e-55d3-4f21-9e3c-0a1b2c3d4e5f?_state=abc&digest=sha256%3A1")
    '/v2/lab/x/blobs/uploads/UPLOAD?_state=STATE&digest=sha256%3A1'
"""
from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import io
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from labkit.errors import RegistryError

#: Where ``make execute`` records, and replay reads (override: ``LABKIT_REGISTRY_RECORDING``).
RECORDED = Path(__file__).resolve().parents[2] / "data" / "registry" / "exchanges.json"
RECORD_ENV = "LABKIT_RECORD_REGISTRY"
#: Response bodies up to this size are kept in the recording; larger ones by digest only.
KEPT = 64 * 1024
#: Request headers that change the answer (and so are part of what is matched).
MATCHED_HEADERS = ("Accept", "Content-Type")
INSTALL = "install docker-registry (apt-get install docker-registry) to run it live"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STATE = re.compile(r"_state=[^&\s]+")


class NotRecorded(RegistryError):
    """A request the recording does not hold (so no answer is given)."""


def recorded_file() -> Path:
    """The recording replay reads: ``$LABKIT_REGISTRY_RECORDING``, else ``data/registry/exchanges.json``."""
    return Path(os.environ.get("LABKIT_REGISTRY_RECORDING") or RECORDED)


def normalise(path: str) -> str:
    """``path`` with an upload session's random UUID and ``_state`` token replaced."""
    return _STATE.sub("_state=STATE", _UUID.sub("UPLOAD", path))


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _path(url: str) -> str:
    split = urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


def request_key(method: str, url: str, headers, body_digest: str | None) -> str:
    """What a request is matched on: method, normalised path, the headers that matter, body digest."""
    shown = ";".join(f"{h}={headers.get(h, '')}" for h in MATCHED_HEADERS if headers.get(h))
    return f"{method} {normalise(_path(url))} [{shown}] {body_digest or '-'}"


def _body_bytes(request: requests.PreparedRequest) -> bytes | None:
    """The request's body as bytes (a streamed body is read and put back as bytes)."""
    body = request.body
    if body is None:
        return None
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, (bytes, bytearray)):
        body = b"".join(body)
        request.body = body
    return bytes(body)


def _kept_body(data: bytes, content_type: str) -> dict:
    body = {"digest": _digest(data), "size": len(data)}
    if len(data) <= KEPT:
        try:
            if "json" in content_type or "text" in content_type:
                body["text"] = data.decode()
                return body
        except UnicodeDecodeError:
            pass
        body["base64"] = base64.b64encode(data).decode()
    return body


# --- recording ---------------------------------------------------------------------------
class Recorder(HTTPAdapter):
    """An HTTP adapter that sends as usual and keeps each exchange; :meth:`save` writes them."""

    def __init__(self, url: str, version: str, path: str | Path, name: str):
        super().__init__()
        self.path = Path(path)
        self.session = {"name": name, "url": url, "registry": f"docker-registry {version}",
                        "date": datetime.date.today().isoformat(), "exchanges": []}

    def send(self, request, **kwargs):
        sent = _body_bytes(request)
        answer = super().send(request, **kwargs)
        data = answer.content          # read now: a streamed blob is small in a lesson
        self.session["exchanges"].append({
            "request": {"method": request.method, "path": _path(request.url),
                        "headers": {h: request.headers[h] for h in MATCHED_HEADERS if request.headers.get(h)},
                        "body": _digest(sent) if sent else None},
            "response": {"status": answer.status_code, "reason": answer.reason,
                         "headers": {k: v for k, v in answer.headers.items() if k.lower() != "date"},
                         "body": _kept_body(data, answer.headers.get("Content-Type", "")) if data else None}})
        self.save()
        return answer

    def save(self) -> None:
        """Add (or update) this session in the recording file."""
        try:
            recording = json.loads(self.path.read_text())
        except (OSError, ValueError):
            recording = {"sessions": []}
        sessions = [s for s in recording.get("sessions", []) if s.get("name") != self.session["name"]]
        recording["sessions"] = [*sessions, self.session]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(recording, indent=1) + "\n")


def recorder(url: str, version: str, name: str) -> Recorder | None:
    """A :class:`Recorder` when ``$LABKIT_RECORD_REGISTRY`` names a file, else None."""
    target = os.environ.get(RECORD_ENV)
    return Recorder(url, version, target, name) if target else None


# --- replay ------------------------------------------------------------------------------
def load(path: str | Path | None = None) -> list[dict]:
    """The recorded sessions (none when there is no recording)."""
    try:
        return json.loads(Path(path or recorded_file()).read_text()).get("sessions") or []
    except (OSError, ValueError):
        return []


class _Session:
    """One recorded session: for each request key, its answers not given yet, in order."""

    def __init__(self, recorded: dict):
        self.recorded = recorded
        self.left: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        for exchange in recorded.get("exchanges") or []:
            asked = exchange["request"]
            key = request_key(asked["method"], asked["path"], asked.get("headers") or {}, asked.get("body"))
            self.left[key].append(exchange["response"])


class Replay(BaseAdapter):
    """A ``requests`` adapter that answers from recorded sessions (see the module's text).

    Args:
        sessions: recorded sessions (:func:`load`).
    """

    def __init__(self, sessions: list[dict]):
        super().__init__()
        self.sessions = [_Session(s) for s in sessions]
        self.sent: dict[str, bytes] = {}      # digest -> bytes this client uploaded

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = _body_bytes(request)
        digest = _digest(body) if body else None
        if body:
            self.sent[digest] = body
        key = request_key(request.method, request.url, request.headers, digest)
        agree = [s for s in self.sessions if s.left.get(key)]
        if not agree:
            raise NotRecorded(f"not recorded here: {request.method} {normalise(_path(request.url))}",
                              hint=INSTALL)
        answers = [s.left[key].popleft() for s in agree]
        self.sessions = agree
        return self._response(request, answers[0])

    def _response(self, request, answer: dict) -> requests.Response:
        body = answer.get("body")
        data = b""
        if body:
            if "text" in body:
                data = body["text"].encode()
            elif "base64" in body:
                data = base64.b64decode(body["base64"])
            elif body["digest"] in self.sent:
                data = self.sent[body["digest"]]
            else:
                raise NotRecorded(f"not recorded here: the {body['size']:,}-byte body of {request.method} "
                                  f"{normalise(_path(request.url))} (not kept in the recording)", hint=INSTALL)
        response = requests.Response()
        response.status_code = answer["status"]
        response.reason = answer.get("reason", "")
        response.headers = CaseInsensitiveDict(answer.get("headers") or {})
        response.raw = io.BytesIO(data)
        response.url = request.url
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.connection = self
        return response

    def close(self) -> None:
        pass


class Recording:
    """What a replaying client stands for (its ``.server``): the recorded registry.

    Example:
        >>> r = Recording([{"url": "http://127.0.0.1:5000", "registry": "docker-registry 2.8.2+ds1",
        ...                 "date": "2026-12-06", "exchanges": []}])
        >>> r.label, r.host
        ('recorded on docker-registry 2.8.2 (2026-12-06)', '127.0.0.1:5000')
    """

    healthy = running = True

    def __init__(self, sessions: list[dict]):
        first = sessions[0]
        self.url = first["url"]
        self.version = first.get("registry", "docker-registry ?").split()[-1]
        self.date = first.get("date", "?")
        self.sessions = len(sessions)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def label(self) -> str:
        """``recorded on docker-registry 2.8.2 (2026-12-06)``."""
        return f"recorded on docker-registry {self.version.split('+', 1)[0]} ({self.date})"

    def __repr__(self) -> str:
        return f"<Recording of {self.url}, {self.label}>"
