"""JupyterHub's REST API, the few calls a class needs: users, their tokens, their servers.

An instructor's script (or the load test) holds the admin service's token
(``run/admin-token``); a learner's own token, made here for them, starts their server
and reaches it at ``/user/<name>/`` -- as a browser would after logging in.
Reference: https://jupyterhub.readthedocs.io/en/stable/reference/rest-api.html

Example:
    >>> hub = Hub("http://127.0.0.1:8000", admin_token)          # doctest: +SKIP
    >>> hub.create_user("labkit-learner-01")                       # doctest: +SKIP
    >>> token = hub.token_for("labkit-learner-01")                 # doctest: +SKIP
    >>> hub.start_server("labkit-learner-01", token)               # doctest: +SKIP
    >>> hub.wait_ready("labkit-learner-01")                        # doctest: +SKIP
"""
from __future__ import annotations

import time

import requests

from labkit.errors import LabkitError


class HubError(LabkitError):
    """The Hub refused or did not answer (its own words in the message)."""


class Hub:
    """The Hub at ``url`` (the proxy's address), spoken to with ``token``.

    Args:
        url: e.g. ``http://127.0.0.1:8000``.
        token: an API token (the admin service's, for user and token calls).
        timeout: seconds one request may take.
    """

    def __init__(self, url: str, token: str, timeout: float = 120):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()

    def call(self, method: str, path: str, *, token: str | None = None, ok=(200, 201, 202, 204),
             **kwargs) -> requests.Response:
        """``method`` ``/hub/api/<path>``; raises :class:`HubError` unless the status is in ``ok``."""
        url = f"{self.url}/hub/api/{path.lstrip('/')}"
        try:
            answer = self.session.request(method, url, timeout=self.timeout,
                                          headers={"Authorization": f"token {token or self.token}"}, **kwargs)
        except requests.RequestException as err:
            raise HubError(f"{method} {url}: no answer ({err.__class__.__name__})",
                           hint="is the classroom up? `labkit classroom status`") from None
        if answer.status_code not in ok:
            try:
                words = answer.json().get("message", answer.text)
            except ValueError:
                words = answer.text
            raise HubError(f"{method} {url}: {answer.status_code} {' '.join(str(words).split())[:200]}")
        return answer

    def user(self, name: str, token: str | None = None) -> dict:
        """The Hub's model of user ``name`` (``servers``, ``admin``, ...)."""
        return self.call("GET", f"users/{name}", token=token).json()

    def create_user(self, name: str) -> None:
        """Create Hub user ``name`` (already there is fine)."""
        self.call("POST", f"users/{name}", ok=(201, 409))

    def token_for(self, name: str, note: str = "labkit", expires_in: int = 4 * 3600) -> str:
        """A new API token of user ``name`` (their own rights: their server, their user)."""
        answer = self.call("POST", f"users/{name}/tokens", json={"note": note, "expires_in": expires_in})
        return answer.json()["token"]

    def start_server(self, name: str, token: str | None = None) -> None:
        """Ask for ``name``'s server (as they would: with their own token); 400 = already up."""
        self.call("POST", f"users/{name}/server", token=token, ok=(201, 202, 400))

    def wait_ready(self, name: str, timeout: float = 900, token: str | None = None) -> float:
        """Wait until ``name``'s server is ready; returns the seconds waited.

        Raises:
            HubError: it stopped (failed to start) or was not ready within ``timeout``.
        """
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            server = self.user(name, token).get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - start
            if not server:
                raise HubError(f"the server of {name} failed to start",
                               hint="see the classroom's run/jupyterhub.log")
            time.sleep(0.5)
        raise HubError(f"the server of {name} was not ready within {timeout:.0f} s")

    def stop_server(self, name: str, timeout: float = 120) -> None:
        """Stop ``name``'s server and wait until it is gone."""
        self.call("DELETE", f"users/{name}/server", ok=(202, 204, 400))
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if "" not in self.user(name).get("servers", {}):
                return
            time.sleep(0.5)
        raise HubError(f"the server of {name} did not stop within {timeout:.0f} s")

    def delete_user(self, name: str) -> None:
        """Remove Hub user ``name`` (missing is fine)."""
        self.call("DELETE", f"users/{name}", ok=(204, 404))

    def server_url(self, name: str) -> str:
        """Where ``name``'s own server answers (behind the proxy)."""
        return f"{self.url}/user/{name}/"
