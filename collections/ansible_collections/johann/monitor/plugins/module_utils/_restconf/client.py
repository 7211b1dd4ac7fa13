# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An asyncio RESTCONF client on httpx: one connection pool per device.

httpx is the client's API (``httpx.Request`` and ``httpx.Response``, its transports and errors); the
bytes go through aiohttp's connection handling and C HTTP parser (``transport.py``) when aiohttp is
installed and no proxy applies, and through httpx's own transport otherwise. One TLS context serves
every device of a process with the same CA bundle and client certificate (``shared_ssl_context``).

It discovers the RESTCONF root (host-meta, falling back to a configured
root), bounds the requests in flight and lowers that bound when the device
answers busy (``pacing``), retries connect failures, 429 and 503 with backoff
honouring ``Retry-After``, and turns every failure into a typed error from
``errors`` (the words in ``failures``). It never calls ``fail_json``: the
plugins translate errors once, at the edge.

Devices are untrusted: every device is bounded in time and bytes. One
deadline covers its whole read (discovery, every request, retries and their
waits), so no sequence of slow bytes outlives it; each reply is read within
its byte limits by ``reading``.
"""
from __future__ import annotations

import asyncio
import base64
import os
import ssl
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from typing import Any

try:
    # httpx loads its transport stack (anyio, httpcore) on first use. Loading it here
    # means the controller process, which imports the action plugins once before it
    # forks a worker per host, hands it already loaded to every worker: about 75 ms of
    # CPU saved per host (measured: 29 -> 12 CPU-s for one task over 300 hosts).
    import anyio._backends._asyncio  # noqa: F401  # pylint: disable=unused-import
    import anyio.streams.tls  # noqa: F401  # pylint: disable=unused-import
    import httpcore  # noqa: F401  # pylint: disable=unused-import
    import httpx
    HTTPX_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - reported by the plugins with missing_required_lib
    httpx = None
    HTTPX_IMPORT_ERROR = _exc

from ansible_collections.johann.monitor.plugins.module_utils._restconf import decode, failures, reading, transport
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import (
    Busy,
    CertificateFailed,
    ConnectFailed,
    DeadlineExceeded,
    DecodeError,
    RequestTimeout,
    RestconfError,
    SettingsError,
    StatusError,
    status_error,
)
from ansible_collections.johann.monitor.plugins.module_utils._restconf.failures import HEADERS_MAX, MIB
from ansible_collections.johann.monitor.plugins.module_utils._restconf.pacing import Limiter, retry_after
from ansible_collections.johann.monitor.plugins.module_utils._restconf.reading import ACCEPT_ENCODING, ERROR_BODY_MAX

JSON = "application/yang-data+json"
# RFC 8040's media type first; Cisco NX-OS (an early RESTCONF draft) serves only the dotted one and
# answers 406 to an Accept header without it
ACCEPT_JSON = f"{JSON}, application/yang.data+json;q=0.9"
XRD = "application/xrd+xml"
DEFAULT_ROOT = "/restconf"
USEFUL_HEADERS = ("etag", "last-modified", "content-type")
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_REPLY = 64 * MIB   # a 500-interface switch's interfaces-oper is a few MB
USER_AGENT = "johann.monitor"
_EMPTY = httpx.ByteStream(b"") if httpx is not None else None   # the body of every request without one
CONTEXTS_KEPT = 16                  # TLS contexts kept per process (one per CA bundle and client certificate)


@dataclass(frozen=True)
class ClientSettings:
    """How to reach one device. The password never appears in ``repr``."""

    host: str
    port: int = 443
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    validate_certs: bool = True
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = field(default=None, repr=False)
    proxy: str | None = None
    connect_timeout: float = 5.0
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 30.0
    max_concurrency: int = 2
    root: str | None = None
    deadline: float = DEFAULT_DEADLINE
    max_reply_size: int = DEFAULT_MAX_REPLY

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"


@dataclass
class Reply:
    status: int
    data: Any
    headers: dict[str, str]
    url: str
    elapsed: float


def ssl_context(settings: ClientSettings) -> ssl.SSLContext:
    """Verification on by default; with ``ca_path`` only that CA bundle is trusted.

    A CA bundle or client certificate that cannot be used raises SettingsError naming the file
    and the inventory variable, so the device's record says what to fix.
    """
    if not settings.validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        try:
            context = ssl.create_default_context(cafile=settings.ca_path or None)
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"cannot use the CA bundle {settings.ca_path} (restconf_ca_path, or "
                                f"JOHANN_RESTCONF_CA_PATH) on the controller: {failures.reason(exc)}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.client_cert:
        try:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"cannot use the client certificate {settings.client_cert} with the key "
                                f"{settings.client_key} (restconf_client_cert, restconf_client_key) on the "
                                f"controller: {failures.reason(exc)}") from None
    return context


_CONTEXTS: dict = {}


def _file_key(path: str | None) -> tuple | None:
    if not path:
        return None
    info = os.stat(path)
    return path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def shared_ssl_context(settings: ClientSettings) -> ssl.SSLContext:
    """``ssl_context(settings)``, made once per process for the same settings and files.

    Making a context costs a CA bundle's parse (the system's: tens of milliseconds) and the client
    certificate's; a poller reads every device of a run with the same few. A file that changed
    (its inode, size or modification time) gets a new context; one that cannot be read is not
    kept, so its SettingsError comes again for every device.
    """
    try:
        key = (settings.validate_certs, _file_key(settings.ca_path), _file_key(settings.client_cert),
               _file_key(settings.client_key))
    except OSError:
        return ssl_context(settings)   # it names the file that cannot be used
    context = _CONTEXTS.get(key)
    if context is None:
        context = ssl_context(settings)
        if len(_CONTEXTS) >= CONTEXTS_KEPT:
            del _CONTEXTS[next(iter(_CONTEXTS))]
        _CONTEXTS[key] = context
    return context


def _basic_auth(username: str, password: str) -> str:
    """httpx.BasicAuth's header value (UTF-8, as httpx encodes it)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class RestconfClient:
    """Use as ``async with RestconfClient(settings) as client: await client.get(path)``."""

    def __init__(self, settings: ClientSettings, transport: Any = None) -> None:
        self.settings = settings
        self.requests = 0
        self.answered = False   # the device has sent at least one HTTP reply
        self.root_source: str | None = None
        self._root = settings.root.rstrip("/") if settings.root else None
        self._transport = transport
        self.limiter = Limiter(settings.max_concurrency)
        self._root_lock = asyncio.Lock()
        self._http: Any = None   # an httpx.AsyncClient, only where the environment names a proxy
        self._cookies: Any = None
        self._deadline = 0.0

    async def __aenter__(self) -> RestconfClient:
        """The device's connection pool: requests go straight to an httpx transport.

        httpx.AsyncClient's per-request work (URL merging, the auth flow, cookies, event hooks) cost
        about 6 ms of CPU per device of 12 GETs, a third of the whole request path (over the same
        transport: 1.70x the aiohttp reference's CPU against 1.08x; bench/results/2026-12-02-poller.md);
        what the client needs of it is done here, once per device (the base URL, the headers in
        AsyncClient's order, Basic auth, the timeouts, cookies a device sets), and requests go straight
        to a transport: the one given (tests), httpx's own with a proxy, aiohttp's connection handling
        otherwise (transport.py; httpx's own without aiohttp 3.10+). A proxy named by the environment
        (HTTPS_PROXY, ALL_PROXY, NO_PROXY) is left to AsyncClient, which reads them.
        """
        s = self.settings
        self._base = f"https://{s.authority}"
        self._timeouts = httpx.Timeout(s.timeout, connect=s.connect_timeout).as_dict()
        # AsyncClient's headers, in its order (Accept per request; the auth flow adds Authorization last)
        self._headers = [("Host", httpx.URL(self._base).netloc.decode("ascii")), ("Connection", "keep-alive"),
                         ("User-Agent", USER_AGENT), ("Accept-Encoding", ACCEPT_ENCODING)]
        self._auth = None if s.username is None else _basic_auth(s.username, s.password or "")   # httpx.BasicAuth's
        limits = httpx.Limits(max_connections=max(1, s.max_concurrency), max_keepalive_connections=s.max_concurrency)
        if self._transport is None:
            context = shared_ssl_context(s)
            if s.proxy:   # as httpx.AsyncClient(proxy=...) mounts it
                self._transport = httpx.AsyncHTTPTransport(verify=context, limits=limits, proxy=s.proxy)
            elif urllib.request.getproxies():   # what AsyncClient's trust_env reads
                self._http = httpx.AsyncClient(verify=context, limits=limits, follow_redirects=False)
            elif transport.AIOHTTP is not None:
                self._transport = transport.AiohttpTransport(context, s.max_concurrency, HEADERS_MAX)
            else:
                self._transport = httpx.AsyncHTTPTransport(verify=context, limits=limits)
        self._deadline = asyncio.get_running_loop().time() + s.deadline
        return self

    @property
    def remaining(self) -> float:
        """Seconds left of the device's deadline."""
        return self._deadline - asyncio.get_running_loop().time()

    async def __aexit__(self, *exc_info) -> None:
        await (self._http or self._transport).aclose()

    def _build(self, method: str, url: str, accept: str, params: dict | None, body: Any) -> Any:
        """The httpx.Request AsyncClient would build: the same URL, query, headers (and their order), timeouts.

        A request without a body (every GET) is given its empty stream, already read: httpx then skips encoding
        a body and re-making the headers it has, a third of the request's cost; POST, PUT and PATCH without a
        body go the long way, which adds their ``Content-Length: 0``.
        """
        headers = [*self._headers, ("Accept", accept)]
        if body is not None:
            headers.append(("Content-Type", JSON))
        cookies = self._cookies or None
        if body is None and method not in ("POST", "PUT", "PATCH"):
            request = httpx.Request(method, self._base + url, params=params, headers=headers, stream=_EMPTY,
                                    cookies=cookies, extensions={"timeout": self._timeouts})
            request.read()   # its content is b"", as httpx sets it for a request built without a body
        else:
            request = httpx.Request(method, self._base + url, params=params, headers=headers, json=body,
                                    cookies=cookies, extensions={"timeout": self._timeouts})
        if self._auth is not None:   # last, where the auth flow sets it
            request.headers["Authorization"] = self._auth
        return request

    async def _send_request(self, request) -> Any:
        if self._http is not None:
            response = await self._http.send(request, stream=True)
        else:
            response = await self._transport.handle_async_request(request)
            response.request = request
        if "set-cookie" in response.headers:
            if self._cookies is None:
                self._cookies = httpx.Cookies()
            self._cookies.extract_cookies(response)
        return response

    # ------------------------------------------------------------ public API
    def assume_root(self, root: str) -> None:
        """Use ``root`` (known from before: the discovery cache) without asking host-meta; a configured root stands."""
        if self.settings.root is None:
            self._root, self.root_source = root.rstrip("/") or DEFAULT_ROOT, "cache"

    def forget_root(self) -> None:
        """Drop an assumed root: the next request discovers it again."""
        if self.settings.root is None:
            self._root, self.root_source = None, None

    async def root(self) -> str:
        """The RESTCONF root: configured, else from host-meta, else ``/restconf``."""
        async with self._root_lock:
            return await self._discover()

    async def _discover(self) -> str:
        if self._root is None:
            found = None
            try:
                reply = await self._send("GET", "/.well-known/host-meta", accept=XRD, path="/.well-known/host-meta",
                                         limit=decode.MAX_XML, truncate=True)
                found = decode.restconf_root(reply.content)
            except StatusError as exc:
                if exc.status in (401, 403):
                    raise
            except DecodeError:   # a body in an encoding that cannot be read: as if there were no host-meta
                pass
            self._root = found or DEFAULT_ROOT
            self.root_source = "host-meta" if found else "default"
        else:
            self.root_source = self.root_source or "configured"
        return self._root

    async def get(self, path: str, params: dict | None = None) -> Reply:
        """GET ``{root}/data/{path}``; 204 gives ``data=None``; errors raise."""
        return await self.request("GET", path, params=params)

    async def request(self, method: str, path: str, params: dict | None = None, body: Any = None,
                      resource: str = "data") -> Reply:
        root = await self.root()
        url = f"{root}/{resource}/{path}" if path else f"{root}/{resource}"
        started = time.monotonic()
        answer = await self._send(method, url, params=params, accept=ACCEPT_JSON, path=path or resource, body=body,
                                  limit=self.settings.max_reply_size, parse=reading.json_data)
        headers = {k: answer.headers[k] for k in USEFUL_HEADERS if k in answer.headers}
        return Reply(answer.status, answer.data, headers, answer.url, time.monotonic() - started)

    # ------------------------------------------------------------ transport
    async def _send(self, method: str, url: str, *, accept: str, path: str, params: dict | None = None,
                    body: Any = None, limit: int, truncate: bool = False, parse=None) -> reading.Answer:
        attempt = 0
        while True:
            try:
                answer, lowered = await self._once(method, url, accept, path, params, body, limit, truncate, parse)
            except ConnectFailed as exc:
                if isinstance(exc, CertificateFailed) or attempt >= self.settings.retries:
                    raise
                await self._pause(self.settings.backoff * 2 ** attempt, exc)
                attempt += 1
                continue
            if answer.status < 400:
                return answer
            error = status_error(answer.status, answer.url, path,
                                 decode.parse_errors(answer.content, answer.headers.get("content-type")),
                                 dict(answer.headers))
            if isinstance(error, Busy) and (lowered or attempt < self.settings.retries):
                delay = retry_after(answer.headers.get("retry-after"), self.settings.backoff * 2 ** attempt)
                if delay <= self.settings.max_retry_after:
                    await self._pause(delay, error)
                    attempt += 0 if lowered else 1   # a refusal of our own concurrency is not the device's fault
                    continue
            raise error

    async def _pause(self, delay: float, error: RestconfError) -> None:
        """Wait before a retry, unless the wait would outlive the deadline: then the error stands."""
        if delay >= self.remaining:
            raise error
        await asyncio.sleep(delay)

    async def _once(self, method, url, accept, path, params, body, limit, truncate, parse
                    ) -> tuple[reading.Answer, bool]:
        progress = {"sent": False, "received": -1}
        timer = asyncio.timeout_at(self._deadline)
        try:
            async with timer, self.limiter:
                progress["sent"] = True
                self.requests += 1
                return await self._exchange(self._build(method, url, accept, params, body), path, limit, truncate,
                                            parse, progress)
        except TimeoutError:
            if not timer.expired():
                raise
            raise DeadlineExceeded(failures.deadline_message(self.settings, path, progress), url, path) from None
        except httpx.ConnectTimeout:
            raise RequestTimeout(f"timed out after {self.settings.connect_timeout:g} s connecting to "
                                 f"{self.settings.authority}{failures.via(self.settings)}", url, path) from None
        except httpx.TimeoutException:
            raise RequestTimeout(f"timed out after {self.settings.timeout:g} s reading {path}", url, path) from None
        except httpx.ConnectError as exc:
            raise failures.connect_error(self.settings, exc, url, path) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, ssl.SSLError) as exc:
            raise failures.closed_error(self.settings, self.answered, exc, url, path) from None
        except httpx.ProxyError as exc:
            raise ConnectFailed(f"the proxy {failures.proxy_label(self.settings.proxy or '')} refused the tunnel to "
                                f"{self.settings.authority}: {exc}", url, path) from None   # e.g. 403, 407
        except zlib.error as exc:
            raise DecodeError(f"the compressed reply to {path} is corrupt: {exc}", url, path) from None

    async def _exchange(self, request, path: str, limit: int, truncate: bool, parse, progress: dict
                        ) -> tuple[reading.Answer, bool]:
        """Send, read the body within the limits, decode it while it may still hold a large-reply slot."""
        response = await self._send_request(request)
        self.answered = True
        progress["received"] = 0
        lowered = response.status_code in (429, 503) and self.limiter.refused()
        slot: list = []
        try:
            error = response.status_code >= 400
            content = await reading.read_body(response, path, ERROR_BODY_MAX if error else limit, truncate or error,
                                              slot, progress)
            answer = reading.Answer(response.status_code, response.headers, content, str(response.url))
            if parse is not None and not error:
                answer.data = parse(answer, path)
            return answer, lowered
        finally:
            await response.aclose()
            if slot:
                slot[0].release()
