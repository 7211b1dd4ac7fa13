# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A circuit breaker for ARA's HTTP client: a hung ARA server costs a run one timeout, not one per result.

ARA's callback sends every result to its API server, one request after another in Ansible's
main process, each waiting up to ARA's ``api_timeout`` (30 s here). A server that accepts
connections but does not answer (stopped, swapping, a dead database behind it) would hold a
1000-device run for hours. Mounted on the session of ARA's active client, the breaker lets
the first failure happen as usual (timeout or refused connection), then fails ARA's requests
at once for ``COOL_DOWN_S``; after that one request goes through with a short timeout, and if
the server answers, recording goes on. ARA's callback reports the failed requests as callback
warnings (Ansible shows each distinct one once); the run and its report go on, and the report
says its history is missing.
"""
from __future__ import annotations

import threading
import time
from typing import Any

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:   # ARA not installed: nothing to guard
    requests = None
    HTTPAdapter = object

COOL_DOWN_S = 30.0   # after a failure, ARA's requests fail at once for this long
PROBE_TIMEOUT_S = 2.0   # then one request may try, with this timeout


class Breaker(HTTPAdapter):
    """An HTTPAdapter that stops waiting for a server that failed to answer."""

    def __init__(self, endpoint: str, on_open=None) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.on_open = on_open
        self.opened_at: float | None = None
        self.why = ""
        self.failures = 0
        self._lock = threading.Lock()

    def send(self, request, timeout=None, **kwargs: Any):  # pylint: disable=arguments-differ
        probing = False
        with self._lock:
            if self.opened_at is not None:
                if time.monotonic() - self.opened_at < COOL_DOWN_S:
                    raise requests.ConnectionError(f"ARA's API server {self.endpoint} did not answer "
                                                   f"({self.why}); not waiting for it again for now")
                probing, timeout = True, PROBE_TIMEOUT_S
        try:
            response = super().send(request, timeout=timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self._open(exc)
            raise
        if probing:
            with self._lock:
                self.opened_at = None
        return response

    def _open(self, exc: Exception) -> None:
        self.trip("timed out" if isinstance(exc, requests.Timeout) else "connection failed")

    def trip(self, why: str) -> None:
        """Stop waiting for the server from now on (the first time, ``on_open`` says so)."""
        with self._lock:
            first = self.opened_at is None and not self.failures
            self.failures += 1
            self.opened_at = time.monotonic()
            self.why = why
        if first and self.on_open is not None:
            self.on_open(self)


def guard(client: Any, on_open=None) -> Breaker | None:
    """Mount a breaker on ARA's http client (``ara.clients.http.AraHttpClient``); None when there is none."""
    session = getattr(getattr(client, "client", None), "http", None)
    endpoint = getattr(client, "endpoint", None)
    if requests is None or not isinstance(session, requests.Session) or not endpoint:
        return None
    breaker = Breaker(endpoint, on_open)
    session.mount(endpoint.rstrip("/") + "/", breaker)
    return breaker
