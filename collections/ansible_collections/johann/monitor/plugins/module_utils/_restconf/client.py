# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An asyncio RESTCONF client on httpx: one connection pool per device.

httpx is the client's API (``httpx.Request`` and ``httpx.Response``, its transports and errors); the
bytes go through aiohttp's connection handling and C HTTP parser (``transport.py``) when aiohttp is
installed and no proxy applies, and through httpx's own transport otherwise. One TLS context serves
every device of a process with the same CA bundle and client certificate (``shared_ssl_context``).

It discovers the RESTCONF root (host-meta, falling back to a configured
root), bounds the requests in flight (IOS XE serialises its work and caps
connections) and lowers that bound when the device answers busy, retries
connect failures, 429 and 503 with backoff honouring ``Retry-After``, and
turns every failure into a typed error from ``errors``. It never calls
``fail_json``: the plugins translate errors once, at the edge.

Devices are untrusted: every device is bounded in time and bytes. One
deadline covers its whole read (discovery, every request, retries and their
waits), so no sequence of slow bytes outlives it; each reply is read as a
stream and stopped at ``max_reply_size`` decoded bytes (compressed replies
are inflated here, with the output bounded); replies past ``LARGE_REPLY``
bytes need one of the process's ``LARGE_SLOTS`` slots, so a poller that
reads many devices at once holds at most that many large replies.
"""
from __future__ import annotations

import asyncio
import base64
import collections
import email.utils
import errno
import os
import ssl
import time
import urllib.request
import weakref
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

from ansible_collections.johann.monitor.plugins.module_utils._restconf import decode, transport
from ansible_collections.johann.monitor.plugins.module_utils._restconf.errors import (
    Busy,
    CertificateFailed,
    ConnectFailed,
    DeadlineExceeded,
    DecodeError,
    ProtocolFailure,
    ReplyTooLarge,
    RequestTimeout,
    RestconfError,
    SettingsError,
    StatusError,
    status_error,
)

JSON = "application/yang-data+json"
# RFC 8040's media type first; Cisco NX-OS (an early RESTCONF draft) serves only the dotted one and
# answers 406 to an Accept header without it
ACCEPT_JSON = f"{JSON}, application/yang.data+json;q=0.9"
XRD = "application/xrd+xml"
DEFAULT_ROOT = "/restconf"
USEFUL_HEADERS = ("etag", "last-modified", "content-type")
MIB = 1 << 20
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_REPLY = 64 * MIB   # a 500-interface switch's interfaces-oper is a few MB
ERROR_BODY_MAX = 64 * 1024     # an error reply is read this far: its RFC 8040 errors come first
LARGE_REPLY = 4 * MIB          # past this, a reply waits for one of the process's large-reply slots
LARGE_SLOTS = 2
HEADERS_MAX = 100 * 1024       # httpcore refuses reply headers past this (h11's receive buffer)
ACCEPT_ENCODING = "gzip, deflate"   # inflated here with bounded output; br/zstd are not asked for
USER_AGENT = "johann.monitor"
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


@dataclass
class _Answer:
    """One HTTP exchange, its body read (within the limits) and, for data, decoded."""
    status: int
    headers: Any
    content: bytes
    url: str
    data: Any = None


class _Limiter:
    """The requests in flight to one device; the bound drops when the device answers busy.

    A device that serialises its RESTCONF agent answers 503 (or 429) to the request beyond the
    ones it takes: the bound drops to what it took (down to one), so the device is read
    completely, one request at a time, rather than losing the reads it refused. (A semaphore
    whose bound can drop: a free slot costs no lock and no future.)
    """

    def __init__(self, limit: int) -> None:
        self.initial = self.limit = max(1, limit)
        self.active = 0
        self.busy = 0
        self._waiters: collections.deque = collections.deque()

    async def __aenter__(self) -> None:
        while self.active >= self.limit or self._waiters:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()   # woken, then cancelled: pass the turn on
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if self.active < self.limit:
                break
        self.active += 1

    async def __aexit__(self, *exc_info) -> None:
        self.active -= 1
        self._wake()

    def _wake(self) -> None:
        if self.active < self.limit:
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
                    return

    def refused(self) -> bool:
        """The device answered busy to a request holding a slot: lower the bound if ours was the cause."""
        self.busy += 1
        if self.active <= 1:
            return False
        self.limit = max(1, min(self.limit, self.active) - 1)
        return True


_SLOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _large_slots() -> asyncio.Semaphore:
    """The running loop's large-reply slots (a poller's loop serves every device of a run)."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(LARGE_SLOTS)
    return slots


class _Inflate:
    """gzip or deflate, inflated with the output bounded: a small bomb cannot expand past the limit."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS)
        self._raw_tried = "gzip" in encoding

    @property
    def done(self) -> bool:
        return self._z.eof

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room`` bytes of output (more input left over means the reply is over the limit)."""
        try:
            return self._z.decompress(data, room)
        except zlib.error:
            if self._raw_tried:
                raise
            self._raw_tried = True   # "deflate" sent without its zlib header, as some servers do
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(data, room)


def _size(count: int) -> str:
    return f"{count / MIB:g} MiB" if count >= MIB and count % (MIB // 4) == 0 else f"{count:,} bytes"


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


async def _raw(response):
    """The body as it came off the wire (not decoded by httpx: we inflate it ourselves, bounded)."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _json_data(answer: _Answer, path: str) -> Any:
    """The JSON of a data reply; None for 204 or an empty body."""
    if answer.status == 204 or not answer.content:
        return None
    ctype = answer.headers.get("content-type")
    if not decode.is_json(ctype):
        media = (ctype or "").split(";")[0].strip() or "no content type"
        raise DecodeError(f"the device answered {media} for {path}, not JSON", answer.url, path)
    return decode.decode_json(answer.content, answer.url, path)


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
        self.limiter = _Limiter(settings.max_concurrency)
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
        """The httpx.Request AsyncClient would build: the same URL, query, headers (and their order), timeouts."""
        headers = [*self._headers, ("Accept", accept)]
        if body is not None:
            headers.append(("Content-Type", JSON))
        request = httpx.Request(method, self._base + url, params=params, headers=headers, json=body,
                                cookies=self._cookies or None, extensions={"timeout": self._timeouts})
        if self._auth is not None:   # as the auth flow sets it
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
                                  limit=self.settings.max_reply_size, parse=_json_data)
        headers = {k: answer.headers[k] for k in USEFUL_HEADERS if k in answer.headers}
        return Reply(answer.status, answer.data, headers, answer.url, time.monotonic() - started)

    # ------------------------------------------------------------ transport
    async def _send(self, method: str, url: str, *, accept: str, path: str, params: dict | None = None,
                    body: Any = None, limit: int, truncate: bool = False, parse=None) -> _Answer:
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

    async def _once(self, method, url, accept, path, params, body, limit, truncate, parse) -> tuple[_Answer, bool]:
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
            raise DeadlineExceeded(self._deadline_message(path, progress), url, path) from None
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
        except zlib.error as exc:
            raise DecodeError(f"the compressed reply to {path} is corrupt: {exc}", url, path) from None

    async def _exchange(self, request, path: str, limit: int, truncate: bool, parse, progress: dict
                        ) -> tuple[_Answer, bool]:
        """Send, read the body within the limits, decode it while it may still hold a large-reply slot."""
        response = await self._send_request(request)
        self.answered = True
        progress["received"] = 0
        lowered = response.status_code in (429, 503) and self.limiter.refused()
        slot: list = []
        try:
            error = response.status_code >= 400
            content = await self._body(response, path, ERROR_BODY_MAX if error else limit, truncate or error, slot,
                                       progress)
            answer = _Answer(response.status_code, response.headers, content, str(response.url))
            if parse is not None and not error:
                answer.data = parse(answer, path)
            return answer, lowered
        finally:
            await response.aclose()
            if slot:
                slot[0].release()

    async def _body(self, response, path: str, limit: int, truncate: bool, slot: list, progress: dict) -> bytes:
        """The decoded body, read as a stream: stopped past ``limit`` (an error, or cut with ``truncate``)."""
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if response.is_stream_consumed:   # a response built in memory (httpx.MockTransport): read and decoded
            encoding = "identity"
        inflate = None if encoding in ("", "identity") else self._inflater(encoding, response, path)
        declared = response.headers.get("content-length", "")
        if inflate is None and declared.isdigit():
            progress["announced"] = int(declared)
        if inflate is None and not truncate and declared.isdigit() and int(declared) > limit:
            raise ReplyTooLarge(f"the reply to {path} announces {_size(int(declared))} (Content-Length), over the "
                                f"limit of {_size(limit)} (max_reply_size)", str(response.url), path)
        body = bytearray()
        async for chunk in _raw(response):
            body += inflate.feed(chunk, limit + 1 - len(body)) if inflate else chunk
            progress["received"] = len(body)
            if len(body) > limit:
                if truncate:
                    return bytes(body[:limit])
                raise ReplyTooLarge(f"the reply to {path} is over the limit of {_size(limit)} (max_reply_size): "
                                    "reading stopped there", str(response.url), path)
            if not slot and len(body) > LARGE_REPLY:
                slots = _large_slots()
                await slots.acquire()
                slot.append(slots)
        if inflate is not None and not inflate.done:
            raise DecodeError(f"the compressed reply to {path} ends before its compressed stream does (truncated or "
                              "corrupt)", str(response.url), path)
        return bytes(body)

    def _inflater(self, encoding: str, response, path: str) -> _Inflate:
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise DecodeError(f"the reply to {path} is in {encoding} encoding (Content-Encoding), which was not asked "
                              f"for ({ACCEPT_ENCODING}) and is not decoded", str(response.url), path)
        return _Inflate(encoding)

    def _deadline_message(self, path: str, progress: dict) -> str:
        lead = f"deadline of {self.settings.deadline:g} s reached"
        if not progress["sent"]:
            return f"{lead} before {path} could be sent (waiting for the device's other requests)"
        if progress["received"] < 0:
            return f"{lead} waiting for the reply to {path}"
        announced = f" of {progress['announced']:,}" if progress.get("announced") else ""
        return f"{lead} while reading the reply to {path}: {progress['received']:,}{announced} bytes received"

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

    def _closed_error(self, exc: Exception, url: str, path: str) -> RestconfError:
        """A connection reset or closed mid-exchange; before the device's first reply, most likely a TLS refusal.

        With TLS 1.3 the client's handshake is over before the server checks the client
        certificate, so a device that requires one (or refuses the one given) shows it at the
        first read or write: as its TLS alert (anyio may pass the ``ssl.SSLError`` through
        unwrapped), as a reset (the request reached a closed socket: the alert is lost), or as
        a close without any reply (asyncio servers, the lab among them, never send the alert).
        """
        where, tls = self.settings.authority, exc if isinstance(exc, ssl.SSLError) else _ssl_error(exc)
        if isinstance(exc, transport.HeadersTooLarge) or "buffer too long" in str(exc):   # h11's bound, aiohttp's
            return ReplyTooLarge(f"the reply headers to {path} are over {_size(HEADERS_MAX)}: reading stopped there",
                                 url, path)
        if not self.answered and tls is not None:   # an alert after the handshake: about the client certificate
            # CertificateFailed is not retried: the same certificate gets the same answer
            return CertificateFailed(f"TLS handshake with {where} failed: {_tls_reason(tls)}{self._mtls_hint()}",
                                     url, path)
        reset = _os_errno(exc) == errno.ECONNRESET
        if not self.answered and (reset or "without sending a response" in str(exc)):
            # one message for both: which of the two the client sees is a race, and the same device must
            # give the same error from run to run (a sliced run's report equals the unsliced one)
            return ProtocolFailure(f"connection to {where} closed or reset before any reply: the device may have "
                                   f"refused the TLS handshake{self._mtls_hint()}", url, path)
        detail = f" ({exc})" if str(exc) else ""
        return ProtocolFailure(f"connection reset or closed by the device while reading {path}{detail}", url, path)
