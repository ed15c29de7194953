"""The OCI distribution API over HTTP, one request per method, every request logged.

Built on ``requests`` (already installed: the docker SDK uses it). oras-py was
considered and not used: its monolithic upload reads the whole blob into memory, its
``upload_manifest`` re-serialises the manifest and always sends the OCI manifest media
type (so a Docker manifest or an index cannot be pushed byte for byte, and the digest
changes), ``get_manifest`` returns parsed JSON (the bytes the digest names are lost), and
it has no cross-repository mount. The spec quoted above each check is
https://github.com/opencontainers/distribution-spec/blob/main/spec.md.

Example:
    >>> reg = Registry("http://127.0.0.1:5000")                        # doctest: +SKIP
    >>> reg.blob_size("hello", "sha256:5d9c...")                        # doctest: +SKIP
    190
    >>> print(reg.log[-1])                                              # doctest: +SKIP
    > HEAD /v2/hello/blobs/sha256:5d9c... HTTP/1.1
    < HTTP/1.1 200 OK
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import BinaryIO, Iterable
from urllib.parse import urljoin, urlsplit

import requests

from labkit.errors import DigestMismatch, RegistryError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
READ_SIZE = 1 << 20
TIMEOUT = 60
#: Headers an exchange shows (the rest -- Date, X-Content-Type-Options -- say nothing here).
SHOWN_HEADERS = ("Accept", "Content-Type", "Content-Length", "Content-Range", "Range", "Location",
                 "Docker-Content-Digest", "Docker-Upload-Uuid", "Docker-Distribution-Api-Version",
                 "Www-Authenticate")
_REPO = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*")


@dataclasses.dataclass
class Exchange:
    """One HTTP request and its answer, as ``curl -v`` would show them (bodies as sizes).

    Attributes:
        method, path: the request line (``path`` with its query).
        status, reason: the answer.
        request_headers, response_headers: the headers that matter here.
        sent, received: body bytes each way; ``body``: the answer's text when it is JSON.
    """

    method: str
    path: str
    status: int
    reason: str
    request_headers: dict
    response_headers: dict
    sent: int = 0
    received: int = 0
    body: str | None = None

    def curl(self, base: str = "") -> str:
        """The ``curl`` command that makes this request (without a body file)."""
        flag = {"HEAD": "-I", "GET": ""}.get(self.method, f"-X {self.method}")
        headers = "".join(f" -H '{k}: {v}'" for k, v in self.request_headers.items()
                          if k in ("Accept", "Content-Type"))
        return " ".join(f"curl -s {flag}{headers} '{base}{self.path}'".split())

    def __str__(self) -> str:
        lines = [f"> {self.method} {self.path} HTTP/1.1"]
        lines += [f"> {k}: {v}" for k, v in self.request_headers.items()]
        if self.sent:
            lines.append(f"> ({self.sent:,} bytes of body)")
        lines.append(f"< HTTP/1.1 {self.status} {self.reason}")
        lines += [f"< {k}: {v}" for k, v in self.response_headers.items()]
        if self.body is not None:
            lines.append(self.body)
        elif self.received and self.method != "HEAD":
            lines.append(f"< ({self.received:,} bytes of body)")
        return "\n".join(lines)


def check_repository(name: str) -> str:
    """``name`` if it is a valid repository name, else ``RegistryError``.

    Example:
        >>> check_repository("labkit/hello")
        'labkit/hello'
    """
    # spec: <name> MUST match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*
    if not _REPO.fullmatch(name or ""):
        raise RegistryError(f"expected a repository name such as labkit/hello, got {name!r}",
                            hint="lower-case letters, digits and . _ - separators, / between parts")
    return name


class Registry:
    """A client of one registry (``http://127.0.0.1:PORT``); ``log`` lists every exchange.

    Args:
        url: the registry's base URL.
        keep_log: record each request in :attr:`log` (bodies are never kept, only sizes
            and JSON answers).
    """

    def __init__(self, url: str, keep_log: bool = True):
        self.url = url.rstrip("/")
        self.host = urlsplit(self.url).netloc
        self.session = requests.Session()
        self.log: list[Exchange] = []
        self.keep_log = keep_log
        #: blob digest -> a repository of this registry that has it (pushes fill it; a
        #: later push to another repository mounts from there instead of uploading).
        self.known: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Registry {self.url}>"

    def close(self) -> None:
        self.session.close()

    def login(self, user: str, password: str) -> "Registry":
        """Send ``user`` and ``password`` with every request from now on (basic
        authentication: ``Authorization: Basic <base64 of user:password>``); returns self."""
        self.session.auth = (user, password)
        return self

    # --- one request ---------------------------------------------------------------------
    def request(self, method: str, path: str, *, headers: dict | None = None, data=None,
                params: dict | None = None, ok: Iterable[int] = (200,), stream: bool = False,
                sent: int = 0) -> requests.Response:
        """One HTTP request to ``path`` (relative to the registry, or a Location it gave).

        Raises:
            RegistryError: no answer, or a status not in ``ok`` (with the registry's own
                error code and message).
        """
        url = urljoin(self.url + "/", path)
        try:
            answer = self.session.request(method, url, headers=headers, data=data, params=params,
                                          stream=stream, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as err:
            raise RegistryError(f"no answer from the registry at {self.url}: {type(err).__name__}",
                                hint="is it running? `labkit registry status`") from None
        if self.keep_log:
            self.log.append(self._exchange(answer, sent, stream))
        if answer.status_code not in tuple(ok):
            raise RegistryError(f"{method} {urlsplit(answer.url).path} answered "
                                f"{answer.status_code} {answer.reason}: {_errors(answer)}")
        return answer

    def _exchange(self, answer: requests.Response, sent: int, stream: bool) -> Exchange:
        request = answer.request
        split = urlsplit(answer.url)
        path = split.path + (f"?{split.query}" if split.query else "")
        body = None
        if not stream and request.method != "HEAD" and "json" in answer.headers.get("Content-Type", ""):
            body = answer.text.strip()[:4000] or None
        show = lambda headers: {k: v for k, v in headers.items()
                                if k.title() in SHOWN_HEADERS and v != "*/*"}
        return Exchange(request.method, path, answer.status_code, answer.reason,
                        show(request.headers), show(answer.headers), sent,
                        int(answer.headers.get("Content-Length") or 0), body)

    # --- reading -------------------------------------------------------------------------
    def ping(self) -> dict:
        """``GET /v2/``: the registry speaks the distribution API (its headers)."""
        return dict(self.request("GET", "/v2/").headers)

    def catalog(self) -> list[str]:
        """``GET /v2/_catalog``: every repository (a distribution extension, not in the OCI spec)."""
        return self.request("GET", "/v2/_catalog").json().get("repositories") or []

    def tags(self, repository: str) -> list[str]:
        """``GET /v2/<name>/tags/list``."""
        return self.request("GET", f"/v2/{check_repository(repository)}/tags/list").json().get("tags") or []

    def blob_size(self, repository: str, digest: str) -> int | None:
        """``HEAD /v2/<name>/blobs/<digest>``: its size when the repository has it, else None."""
        answer = self.request("HEAD", f"/v2/{check_repository(repository)}/blobs/{digest}", ok=(200, 404))
        return int(answer.headers.get("Content-Length", 0)) if answer.status_code == 200 else None

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """``GET /v2/<name>/manifests/<reference>``: ``(bytes, media type, digest)``.

        Raises:
            DigestMismatch: the bytes do not hash to the digest asked for or announced.
        """
        answer = self.request("GET", f"/v2/{check_repository(repository)}/manifests/{reference}",
                              headers={"Accept": ", ".join(MANIFEST_TYPES)})
        data = answer.content
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        # spec: "the client SHOULD verify the returned manifest content against the digest".
        for promised in (reference if reference.startswith("sha256:") else None,
                         answer.headers.get("Docker-Content-Digest")):
            if promised and promised != digest:
                raise DigestMismatch(f"manifest {repository}@{reference}: expected {promised}, got {digest}")
        return data, answer.headers.get("Content-Type", "").split(";")[0], digest

    def blob(self, repository: str, digest: str, out: BinaryIO) -> int:
        """``GET /v2/<name>/blobs/<digest>`` streamed into ``out``, verified; returns its size.

        Raises:
            DigestMismatch: the bytes do not hash to ``digest`` (``out`` holds them anyway:
                the caller discards it).
        """
        answer = self.request("GET", f"/v2/{check_repository(repository)}/blobs/{digest}", stream=True)
        hasher, size = hashlib.sha256(), 0
        with answer:
            for chunk in answer.iter_content(READ_SIZE):
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
        got = "sha256:" + hasher.hexdigest()
        if got != digest:
            raise DigestMismatch(f"blob {repository}@{digest}: got {got}")
        return size

    # --- writing -------------------------------------------------------------------------
    def mount(self, repository: str, digest: str, source: str) -> str | None:
        """``POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<source>``.

        Returns:
            None when the registry mounted the blob (201), else the Location of the upload
            session it opened instead (202), to upload into.
        """
        answer = self.request("POST", f"/v2/{check_repository(repository)}/blobs/uploads/",
                              params={"mount": digest, "from": check_repository(source)}, ok=(201, 202))
        # spec: "If the registry does not support cross-repository mounting or is unable to
        # mount the requested blob, it SHOULD return a 202" (and start an upload session).
        return None if answer.status_code == 201 else answer.headers["Location"]

    def start_upload(self, repository: str) -> str:
        """``POST /v2/<name>/blobs/uploads/``: the Location of a new upload session."""
        answer = self.request("POST", f"/v2/{check_repository(repository)}/blobs/uploads/", ok=(202,))
        return answer.headers["Location"]

    def upload(self, location: str, blob: BinaryIO, digest: str, size: int,
               chunk_size: int | None = None) -> int:
        """Upload ``size`` bytes of ``blob`` into the session at ``location``; returns the
        number of requests that carried data.

        Monolithic (default): one ``PUT <location>?digest=<digest>`` with the whole body.
        Chunked (``chunk_size``): ``PATCH`` requests with ``Content-Range: <start>-<end>``,
        then a ``PUT ?digest=`` with no body.
        """
        if not chunk_size:
            self.request("PUT", location, params={"digest": digest}, data=_Body(blob, size),
                         headers={"Content-Type": "application/octet-stream",
                                  "Content-Length": str(size)}, ok=(201,), sent=size)
            return 1
        start, requests_sent = 0, 0
        while start < size:
            chunk = blob.read(min(chunk_size, size - start))
            if not chunk:
                raise RegistryError(f"the blob {digest} ended after {start} of {size} bytes")
            # spec: chunks MUST be uploaded in order; Content-Range is inclusive.
            answer = self.request("PATCH", location, data=chunk, ok=(202,), sent=len(chunk), headers={
                "Content-Type": "application/octet-stream", "Content-Length": str(len(chunk)),
                "Content-Range": f"{start}-{start + len(chunk) - 1}"})
            location = answer.headers["Location"]
            start += len(chunk)
            requests_sent += 1
        self.request("PUT", location, params={"digest": digest}, ok=(201,),
                     headers={"Content-Length": "0"})
        return requests_sent

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        """``PUT /v2/<name>/manifests/<reference>`` with ``Content-Type: media_type``;
        returns the digest the registry answers with (checked against the bytes)."""
        answer = self.request("PUT", f"/v2/{check_repository(repository)}/manifests/{reference}",
                              data=data, headers={"Content-Type": media_type}, ok=(201,), sent=len(data))
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if answer.headers.get("Docker-Content-Digest", digest) != digest:
            raise DigestMismatch(f"the registry stored {repository}:{reference} as "
                                 f"{answer.headers['Docker-Content-Digest']}, expected {digest}")
        return digest


class _Body:
    """``size`` bytes from a file object, read in 1 MiB pieces (requests streams it)."""

    def __init__(self, blob: BinaryIO, size: int):
        self.blob, self.left = blob, size

    def __len__(self) -> int:
        return self.left

    def __iter__(self):
        while self.left > 0:
            chunk = self.blob.read(min(READ_SIZE, self.left))
            if not chunk:
                raise RegistryError("a blob ended early while it was uploaded")
            self.left -= len(chunk)
            yield chunk


def _errors(answer: requests.Response) -> str:
    """The registry's own error codes and messages (spec: ``{"errors": [{code, message}]}``)."""
    try:
        errors = answer.json().get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or answer.text[:200]
    except ValueError:
        return " ".join(answer.text.split())[:200] or "(no body)"
