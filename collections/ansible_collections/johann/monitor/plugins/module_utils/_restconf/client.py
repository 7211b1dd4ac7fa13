# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An asyncio RESTCONF client on httpx: one connection pool per device.

It discovers the RESTCONF root (host-meta, falling back to a configured
root), bounds the requests in flight (IOS XE serialises its work and caps
connections), retries connect failures, 429 and 503 with backoff honouring
``Retry-After``, and turns every failure into a typed error from ``errors``.
It never calls ``fail_json``: the plugins translate errors once, at the edge.
"""
from __future__ import annotations

import asyncio
import email.utils
import errno
import ssl
import time
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

from ansible_collections.johann.monitor.plugins.module_utils._restconf import decode
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import (
    Busy,
    CertificateFailed,
    ConnectFailed,
    DecodeError,
    ProtocolFailure,
    RequestTimeout,
    StatusError,
    status_error,
)

JSON = "application/yang-data+json"
XRD = "application/xrd+xml"
DEFAULT_ROOT = "/restconf"
USEFUL_HEADERS = ("etag", "last-modified", "content-type")


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
    """Verification on by default; with ``ca_path`` only that CA bundle is trusted."""
    if not settings.validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif settings.ca_path:
        context = ssl.create_default_context(cafile=settings.ca_path)
    else:
        context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.client_cert:
        context.load_cert_chain(settings.client_cert, settings.client_key)
    return context


def _os_errno(exc: BaseException) -> int | None:
    seen = exc
    for _hop in range(8):
        if isinstance(seen, OSError) and seen.errno:
            return seen.errno
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            break
        seen = nxt
    return None


def retry_after(value: str | None, default: float) -> float:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class RestconfClient:
    """Use as ``async with RestconfClient(settings) as client: await client.get(path)``."""

    def __init__(self, settings: ClientSettings, transport: Any = None) -> None:
        self.settings = settings
        self.requests = 0
        self.answered = False   # the device has sent at least one HTTP reply
        self.root_source: str | None = None
        self._root = settings.root.rstrip("/") if settings.root else None
        self._transport = transport
        self._limit = asyncio.Semaphore(max(1, settings.max_concurrency))
        self._root_lock = asyncio.Lock()
        self._http: Any = None

    async def __aenter__(self) -> RestconfClient:
        s = self.settings
        limits = httpx.Limits(max_connections=max(1, s.max_concurrency), max_keepalive_connections=s.max_concurrency)
        kwargs: dict[str, Any] = {
            "base_url": f"https://{s.authority}", "limits": limits,
            "timeout": httpx.Timeout(s.timeout, connect=s.connect_timeout),
            "headers": {"User-Agent": "johann.monitor"}, "follow_redirects": False,
        }
        if s.username is not None:
            kwargs["auth"] = httpx.BasicAuth(s.username, s.password or "")
        if self._transport is not None:
            kwargs["transport"] = self._transport
        else:
            kwargs["verify"] = ssl_context(s)
            if s.proxy:
                kwargs["proxy"] = s.proxy
        self._http = httpx.AsyncClient(**kwargs)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------ public API
    async def root(self) -> str:
        """The RESTCONF root: configured, else from host-meta, else ``/restconf``."""
        async with self._root_lock:
            return await self._discover()

    async def _discover(self) -> str:
        if self._root is None:
            found = None
            try:
                reply = await self._send("GET", "/.well-known/host-meta", accept=XRD, path="/.well-known/host-meta")
                found = decode.restconf_root(reply.content)
            except StatusError as exc:
                if exc.status in (401, 403):
                    raise
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
        response = await self._send(method, url, params=params, accept=JSON, path=path or resource, body=body)
        data = None
        if response.status_code != 204 and response.content:
            ctype = response.headers.get("content-type")
            if not decode.is_json(ctype):
                raise DecodeError(f"the device answered {ctype or 'no content type'} for {path}, not JSON",
                                  str(response.url), path)
            data = decode.decode_json(response.content, str(response.url), path)
        headers = {k: response.headers[k] for k in USEFUL_HEADERS if k in response.headers}
        return Reply(response.status_code, data, headers, str(response.url), time.monotonic() - started)

    # ------------------------------------------------------------ transport
    async def _send(self, method: str, url: str, *, accept: str, path: str, params: dict | None = None,
                    body: Any = None):
        attempt = 0
        while True:
            try:
                response = await self._once(method, url, accept, path, params, body)
            except ConnectFailed as exc:
                if isinstance(exc, CertificateFailed) or attempt >= self.settings.retries:
                    raise
                await asyncio.sleep(self.settings.backoff * 2 ** attempt)
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            error = status_error(response.status_code, str(response.url), path,
                                 decode.parse_errors(response.content, response.headers.get("content-type")),
                                 dict(response.headers))
            if isinstance(error, Busy) and attempt < self.settings.retries:
                delay = retry_after(response.headers.get("retry-after"), self.settings.backoff * 2 ** attempt)
                if delay <= self.settings.max_retry_after:
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
            raise error

    async def _once(self, method, url, accept, path, params, body):
        headers = {"Accept": accept}
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if body is not None:
            headers["Content-Type"] = JSON
            kwargs["json"] = body
        async with self._limit:
            self.requests += 1
            try:
                response = await self._http.request(method, url, **kwargs)
                self.answered = True
                return response
            except httpx.ConnectTimeout:
                raise RequestTimeout(f"timed out after {self.settings.connect_timeout:g} s connecting to "
                                     f"{self.settings.authority}", url, path) from None
            except httpx.TimeoutException:
                raise RequestTimeout(f"timed out after {self.settings.timeout:g} s reading {path}", url, path) from None
            except httpx.ConnectError as exc:
                raise self._connect_error(exc, url, path) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                detail = f" ({exc})" if str(exc) else ""
                raise ProtocolFailure(f"connection reset or closed by the device while reading {path}{detail}",
                                      url, path) from None
            except httpx.ProxyError as exc:
                raise ConnectFailed(f"proxy failed for {self.settings.authority}: {exc}", url, path) from None

    def _connect_error(self, exc: Exception, url: str, path: str) -> ConnectFailed:
        where, text = self.settings.authority, str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            reason = text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0].strip(" :).")
            return CertificateFailed(
                f"TLS certificate verification failed for {where}: {reason}; trust the device's CA with "
                "ca_path, or give the device a certificate for the name or address you use", url, path)
        code = _os_errno(exc)
        if code == errno.ECONNREFUSED or "refused" in text.lower():
            return ConnectFailed(f"connection refused by {where}: nothing listens there "
                                 "(HTTPS server off, wrong port, or an ACL)", url, path)
        if isinstance(exc.__cause__ or exc.__context__, ssl.SSLError) or "SSL" in text:
            return ConnectFailed(f"TLS handshake with {where} failed: {text}", url, path)
        return ConnectFailed(f"cannot connect to {where}: {text or type(exc).__name__}", url, path)
