# Copyright: johann.monitor contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An httpx transport on aiohttp's connection handling: httpx's API, aiohttp's C HTTP parser.

The RESTCONF client speaks httpx (``httpx.Request`` in, ``httpx.Response`` out, httpx's
exceptions); this transport moves the bytes. Reading 1000 lab devices (12 GETs each over
verified TLS), the whole request path cost about 1.6x aiohttp's own CPU with httpx's transport
(httpcore, h11 and anyio in pure Python) and about 1.1x with this one
(bench/results/2026-12-02-poller.md; bench/poller_profile.py profiles the poller's whole path).

What it keeps of httpx's behaviour, so the client's messages stay the same:

* errors are httpx's: ``ConnectError`` (its text and ``__cause__`` the OSError or ``ssl.SSLError``
  behind it), ``ConnectTimeout`` (TCP connect and TLS handshake), ``ReadTimeout`` (no byte for the
  read timeout, before or inside the reply), ``RemoteProtocolError`` ("Server disconnected without
  sending a response." when the device closes before replying), ``ReadError`` (empty text, the
  reset or TLS error as its cause, as httpcore raises it), ``HeadersTooLarge`` for a status line or
  header past ``max_header_size``, or more than 256 headers (h11 bounded their total at that size);
* no redirects, no cookie jar (the client keeps a device's cookies), no decompression (the client inflates replies itself, bounded), no
  retry of a failed request on a new connection (the client has its own retry policy), no
  environment proxies (the client uses httpx's own transport when a proxy applies);
* the request's timeouts (httpx's ``timeout`` extension: connect, read) per request.
"""
from __future__ import annotations

import errno
import inspect
import ssl
from typing import Any

try:
    import httpx
except ImportError:  # pragma: no cover - reported by the plugins (client.HTTPX_IMPORT_ERROR)
    httpx = None

try:
    import aiohttp
    from aiohttp import http_exceptions
    from yarl import URL
    # 3.10 names its connect and read timeouts apart (ConnectionTimeoutError, SocketTimeoutError)
    AIOHTTP = aiohttp if httpx is not None and hasattr(aiohttp, "ConnectionTimeoutError") else None
except ImportError:   # optional: without it the client uses httpx's own transport
    AIOHTTP = None

NO_REPLY = "Server disconnected without sending a response."   # h11's words, which the client's messages quote


class HeadersTooLarge(httpx.RemoteProtocolError if httpx is not None else Exception):
    """The reply's status line or headers passed the bound (h11 said "Receive buffer too long")."""


def _chain(exc: BaseException):
    seen: BaseException | None = exc
    for _hop in range(8):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def _cause(exc: BaseException, kind: type) -> Any:
    return next((e for e in _chain(exc) if isinstance(e, kind)), None)


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError (or ssl.SSLError) behind an aiohttp error, not aiohttp's own wrapper of it."""
    return next((e for e in _chain(exc) if isinstance(e, OSError) and not isinstance(e, aiohttp.ClientError)), None)


def _translate(exc: Exception, request: httpx.Request, answered: bool, body: str = "") -> httpx.TransportError:
    """The httpx error for an aiohttp one (``answered``: the reply's head had come; ``body``: how much of it)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(exc), request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(exc), request=request)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cause = exc.certificate_error
        return _caused(httpx.ConnectError(str(cause), request=request), cause)
    if isinstance(exc, aiohttp.ClientConnectorError):   # refused, unreachable, no such name, TLS refused
        cause = exc.os_error
        return _caused(httpx.ConnectError(str(cause) or type(cause).__name__, request=request), cause)
    tls = _cause(exc, ssl.SSLError)
    if tls is not None:   # a TLS error after the handshake (TLS 1.3: a refused client certificate)
        return _caused(httpx.ReadError("", request=request), tls)
    if _cause(exc, http_exceptions.LineTooLong) is not None or "Too many headers" in str(exc):
        return HeadersTooLarge("Receive buffer too long", request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError) and not answered:
        return httpx.RemoteProtocolError(NO_REPLY, request=request)
    error = _os_error(exc)
    if error is not None and error.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
        return _caused(httpx.ReadError("", request=request), error)   # httpcore's: no text, the reset as cause
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        return _caused(httpx.RemoteProtocolError("peer closed connection without sending complete message body"
                                                 + (f" ({body})" if body else ""), request=request), error)
    status = _cause(exc, http_exceptions.BadStatusLine)
    if status is not None:   # h11's words; aiohttp's C parser puts the line into its message
        shown = [status.line, *(part.strip() for part in str(status.message).splitlines())]
        line = next((text for text in shown if text.startswith(("b'", 'b"'))), None)
        line = line or repr((status.line or "").encode("latin-1", "replace"))
        return httpx.RemoteProtocolError(f"illegal status line: bytearray({line})", request=request)
    bad = _cause(exc, http_exceptions.HttpProcessingError)
    if bad is not None:   # a header that is not HTTP
        return httpx.RemoteProtocolError(f"invalid HTTP reply: {bad.message or type(bad).__name__}", request=request)
    if error is not None:
        return _caused(httpx.ReadError(str(error), request=request), error)
    return httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request)


def _caused(error: httpx.TransportError, cause: BaseException | None) -> httpx.TransportError:
    error.__cause__ = cause
    return error


class _Body(httpx.AsyncByteStream if httpx is not None else object):
    """The reply body as aiohttp receives it, its errors made httpx's."""

    def __init__(self, response, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self):
        content, received = self._response.content, 0
        try:
            while chunk := await content.readany():
                received += len(chunk)
                yield chunk
        except (aiohttp.ClientError, http_exceptions.HttpProcessingError) as exc:
            raise _translate(exc, self._request, True, self._progress(received))  # noqa: B904 - its own cause

    def _progress(self, received: int) -> str:
        """h11's account of a body cut short."""
        length = self._response.headers.get("Content-Length", "")
        return f"received {received} bytes, expected {length}" if length.isdigit() else "incomplete chunked read"

    async def aclose(self) -> None:
        if self._response.content.is_eof():
            self._response.release()   # read to the end: the connection goes back to the pool
        else:
            self._response.close()     # cut short (a limit, the deadline): the connection is closed


class AiohttpTransport(httpx.AsyncBaseTransport if httpx is not None else object):
    """One device's connection pool: ``max_connections`` keep-alive TLS connections, ``ssl_context`` for all."""

    def __init__(self, ssl_context: ssl.SSLContext | bool, max_connections: int, max_header_size: int) -> None:
        connector = AIOHTTP.TCPConnector(ssl=ssl_context, limit=max(1, max_connections), limit_per_host=0)
        options: dict[str, Any] = {"max_line_size": max_header_size, "max_field_size": max_header_size}
        if "max_headers" in _SESSION_OPTIONS:
            options["max_headers"] = 256
        self._session = AIOHTTP.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=AIOHTTP.DummyCookieJar(), trust_env=False,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            requote_redirect_url=False, timeout=AIOHTTP.ClientTimeout(total=None), **options)
        if "_retry_connection" in getattr(AIOHTTP.ClientSession, "ATTRS", ()):
            # aiohttp sends a GET again on a new connection when the first one closes (3.9+); httpcore did not,
            # and the client decides what is retried: one request is one attempt
            self._session._retry_connection = False
        self._timeouts: dict = {}

    def _timeout(self, request: httpx.Request):
        spec = request.extensions.get("timeout") or {}
        key = (spec.get("connect"), spec.get("read"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = AIOHTTP.ClientTimeout(total=None, sock_connect=key[0], sock_read=key[1])
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = URL(str(request.url), encoded=True)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        body = request.content if request.method not in ("GET", "HEAD") or request.content else None
        try:
            response = await self._session.request(request.method, url, headers=headers, data=body,
                                                   allow_redirects=False, timeout=self._timeout(request))
        except (aiohttp.ClientError, http_exceptions.HttpProcessingError) as exc:
            raise _translate(exc, request, False)  # noqa: B904 - its own cause, set by _translate
        return httpx.Response(response.status, headers=response.raw_headers, stream=_Body(response, request),
                              extensions={"http_version": f"HTTP/{response.version.major}.{response.version.minor}"
                                                          .encode(),
                                          "reason_phrase": (response.reason or "").encode("latin-1", "replace")},
                              request=request)

    async def aclose(self) -> None:
        await self._session.close()


_SESSION_OPTIONS = set(inspect.signature(AIOHTTP.ClientSession).parameters) if AIOHTTP is not None else set()
