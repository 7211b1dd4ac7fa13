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
    SettingsError,
    StatusError,
    TransportError,
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


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, ssl.SSLError) \
        else str(exc)


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
                                f"JOHANN_RESTCONF_CA_PATH) on the controller: {_reason(exc)}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.client_cert:
        try:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"cannot use the client certificate {settings.client_cert} with the key "
                                f"{settings.client_key} (restconf_client_cert, restconf_client_key) on the "
                                f"controller: {_reason(exc)}") from None
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


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind an httpx error: httpx keeps OpenSSL's reason only in the cause chain."""
    seen: BaseException | None = exc
    for _hop in range(8):
        if seen is None or isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _tls_code(error: ssl.SSLError) -> str:
    """OpenSSL's reason code, such as ``TLSV13_ALERT_CERTIFICATE_REQUIRED`` (or the whole text, upper-cased)."""
    return (getattr(error, "reason", None) or str(error)).upper()


def _tls_reason(error: ssl.SSLError) -> str:
    """``[SSL: X] tlsv13 alert certificate required (_ssl.c:2580)`` -> ``tlsv13 alert certificate required``."""
    return str(error).split("]", 1)[-1].split("(_ssl")[0].strip() or type(error).__name__


def _proxy_label(proxy: str) -> str:
    """The proxy URL for messages, without any user or password in it."""
    url = httpx.URL(proxy)
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


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
                                     f"{self.settings.authority}{self._via()}", url, path) from None
            except httpx.TimeoutException:
                raise RequestTimeout(f"timed out after {self.settings.timeout:g} s reading {path}", url, path) from None
            except httpx.ConnectError as exc:
                raise self._connect_error(exc, url, path) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, ssl.SSLError) as exc:
                raise self._closed_error(exc, url, path) from None
            except httpx.ProxyError as exc:
                raise ConnectFailed(f"the proxy {_proxy_label(self.settings.proxy or '')} refused the tunnel to "
                                    f"{self.settings.authority}: {exc}", url, path) from None   # e.g. 403, 407

    def _via(self) -> str:
        """Names the proxy in connect errors: with one, the TCP connection is to the proxy."""
        return f" through the proxy {_proxy_label(self.settings.proxy)}" if self.settings.proxy else ""

    def _mtls_hint(self) -> str:
        """What to do when a TLS failure looks like a refused (or missing) client certificate."""
        if self.settings.client_cert:
            return f"; check that the device trusts the CA of the client certificate {self.settings.client_cert}"
        return "; a device that requires a client certificate (mutual TLS) does this: set client_cert and client_key"

    def _connect_error(self, exc: Exception, url: str, path: str) -> ConnectFailed:
        where, text, tls = self.settings.authority, str(exc), _ssl_error(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            reason = text.split("certificate verify failed:", 1)[-1].split("(_ssl")[0].strip(" :).")
            return CertificateFailed(
                f"TLS certificate verification failed for {where}: {reason}; trust the device's CA with "
                "ca_path (inventory: restconf_ca_path), or give the device a certificate for the name or address you "
                "use", url, path)
        if tls is not None or "SSL" in text:   # through a proxy too: TLS runs end to end in the tunnel
            reason = _tls_reason(tls) if tls is not None else text
            rejected = tls is not None and ("ALERT" in _tls_code(tls) or isinstance(tls, ssl.SSLEOFError))
            return ConnectFailed(f"TLS handshake with {where} failed: {reason}"
                                 f"{self._mtls_hint() if rejected else ''}", url, path)
        refused = _os_errno(exc) == errno.ECONNREFUSED or "refused" in text.lower()
        if self.settings.proxy:   # the TCP connection is to the proxy, not to the device
            return ConnectFailed(f"cannot reach {where}{self._via()}: "
                                 + ("the proxy refused the connection (nothing listens there)" if refused
                                    else f"cannot connect to the proxy: {text or type(exc).__name__}"), url, path)
        if refused:
            return ConnectFailed(f"connection refused by {where}: nothing listens there "
                                 "(HTTPS server off, wrong port, or an ACL)", url, path)
        return ConnectFailed(f"cannot connect to {where}: {text or type(exc).__name__}", url, path)

    def _closed_error(self, exc: Exception, url: str, path: str) -> TransportError:
        """A connection reset or closed mid-exchange; before the device's first reply, most likely a TLS refusal.

        With TLS 1.3 the client's handshake is over before the server checks the client
        certificate, so a device that requires one (or refuses the one given) shows it at the
        first read or write: as its TLS alert (anyio may pass the ``ssl.SSLError`` through
        unwrapped), as a reset (the request reached a closed socket: the alert is lost), or as
        a close without any reply (asyncio servers, the lab among them, never send the alert).
        """
        where, tls = self.settings.authority, exc if isinstance(exc, ssl.SSLError) else _ssl_error(exc)
        if not self.answered and tls is not None:   # an alert after the handshake: about the client certificate
            # CertificateFailed is not retried: the same certificate gets the same answer
            return CertificateFailed(f"TLS handshake with {where} failed: {_tls_reason(tls)}{self._mtls_hint()}",
                                     url, path)
        reset = _os_errno(exc) == errno.ECONNRESET
        if not self.answered and (reset or "without sending a response" in str(exc)):
            return ProtocolFailure(f"connection to {where} {'reset' if reset else 'closed'} before any reply"
                                   f"{f' ({exc})' if str(exc) else ''}: the device may have refused the TLS "
                                   f"handshake{self._mtls_hint()}", url, path)
        detail = f" ({exc})" if str(exc) else ""
        return ProtocolFailure(f"connection reset or closed by the device while reading {path}{detail}", url, path)
