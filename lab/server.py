"""The wire: one aiohttp low-level server per device, TLS, Basic auth, faults.

aiohttp is the server library: it is asyncio-native, well maintained, has a
C HTTP parser, keeps HTTP/1.1 connections alive by default and lets one
event loop own many listening sockets with a TLS context each.  Its
low-level ``web.Server`` skips the router, which a device with one handler
does not need.
"""
from __future__ import annotations

import asyncio
import base64
import hmac
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

from aiohttp import web

from lab import hostile, restconf, wire
from lab.encoding import RestconfError, dump_json
from lab.model import Clock, Device

DISABLED_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"
# What a captive proxy in front of the device answers instead of RESTCONF (the ``not_json`` fault).
PROXY_LOGIN_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Web Authentication</title></head>\n<body>"
                    b"<h1>Authentication required</h1><p>Log in to continue to the requested page.</p>\n"
                    b'<form method="post" action="/login.html"><input name="username">'
                    b'<input name="password" type="password"><input type="submit" value="Log in"></form>'
                    b"</body></html>\n")
# Faults that replace a 200 answer to a GET of the paths they name, checked in this order.
HOSTILE_FAULTS = ("drip_headers", "drip_body", "lying_length", "reset_after", "endless_body", "gzip_bomb",
                  "nesting_bomb", "not_json", "bad_json")


@dataclass
class DeviceServer:
    """One device on the wire and what its faults make it do."""

    device: Device
    clock: Clock
    stopping: asyncio.Event
    inflight: int = 0
    stats: Counter = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)
    # Connections a hostile reply (or a stalled handshake) holds: cut at once when the lab stops, since
    # a client that stopped reading would otherwise keep a write waiting until aiohttp's shutdown timeout.
    streams: set[asyncio.BaseTransport] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.device.seed)
        self.faults = self.device.faults
        self.root = self.faults.get("root", "/restconf")
        self.cap = int(self.faults.get("max_concurrent", 0))
        self.auth = self._expected_auth()
        self._stop_waiter: asyncio.Future | None = None

    def abort_streams(self) -> None:
        """The lab is stopping: reset every connection still held by a hostile reply or a stalled handshake."""
        for transport in list(self.streams):
            transport.abort()
        self.streams.clear()

    def _expected_auth(self) -> bytes:
        token = f"{self.device.username}:{self.device.password}".encode()
        return b"Basic " + base64.b64encode(token)

    # ------------------------------------------------------------ faults
    async def _latency(self) -> None:
        fixed = float(self.faults.get("latency_ms", 0)) / 1000
        jitter = float(self.faults.get("jitter_ms", 0)) / 1000
        delay = fixed + (self.rng.uniform(0, jitter) if jitter else 0.0)
        if delay > 0:
            await asyncio.sleep(delay)

    def _path_fault(self, name: str, path: str) -> bool:
        """``true``: every ``/data`` path; a list: the paths containing one of its parts."""
        rule = self.faults.get(name)
        if name == "bad_json":
            rule = self.faults.get("bad_json_paths", True) if rule else None
        elif name == "reset_after":
            rule = True if rule else None
        if rule is True:
            return "/data" in path
        return bool(rule) and any(part in unquote(path) for part in rule)

    async def _hang(self) -> web.StreamResponse:
        await self.stopping.wait()
        raise asyncio.CancelledError

    # ------------------------------------------------------------ handling
    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.stats["requests"] += 1
        if self.faults.get("hang"):
            return await self._hang()
        accept = request.headers.get("Accept")
        if self.cap and self.inflight >= self.cap:
            self.stats["503"] += 1
            err = RestconfError(503, "resource-denied", "too many concurrent requests, retry later",
                                headers={"Retry-After": str(self.faults.get("retry_after", 1))})
            return self._error(err, accept)
        self.inflight += 1
        try:
            await self._latency()
            return await self._answer(request, accept)
        finally:
            self.inflight -= 1

    async def _answer(self, request: web.BaseRequest, accept: str | None) -> web.StreamResponse:
        if not self.device.profile.restconf_enabled(self.device):   # the fault, or `no restconf` over SSH
            self.stats["404"] += 1
            return web.Response(status=404, body=DISABLED_PAGE, content_type="text/html")
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), self.auth):
            self.stats["401"] += 1
            err = RestconfError(401, "access-denied", "access denied", "protocol",
                                headers={"WWW-Authenticate": 'Basic realm="restconf"'})
            return self._error(err, accept)
        path = request.rel_url.raw_path
        if path == "/.well-known/host-meta" and self.faults.get("no_host_meta"):
            self.stats["404"] += 1
            return web.Response(status=404, body=DISABLED_PAGE, content_type="text/html")
        if request.method in ("GET", "HEAD") and self._path_fault("error_paths", path):
            self.stats["500"] += 1
            return self._error(RestconfError(500, "operation-failed", "application communication failure"),
                               accept)
        req = restconf.Request(
            method=request.method, path=path, query=parse_query(request.rel_url.raw_query_string),
            accept=accept, content_type=request.headers.get("Content-Type"),
            body=await request.read(), if_none_match=request.headers.get("If-None-Match"))
        reply = restconf.dispatch(self.device, req, self.clock.now(), self.root)
        profile = self.device.profile
        body, ctype = restconf.render(reply, accept, self.faults.get("media_type", profile.media_type),
                                      profile.xml_media_type)
        self.stats[str(reply.status)] += 1
        fault = self._hostile_fault(request.method, reply.status, path)
        if fault:
            self.stats[fault] += 1
            return await getattr(self, "_" + fault)(request, reply, body, ctype)
        if reply.status == 200 and ctype and "json" in ctype and self._path_fault("malformed_json", path):
            body = body[: max(1, len(body) * 2 // 3)] + b',"'
        if self._path_fault("reset", path) and len(body) > 1:
            return await self._reset(request, reply.status, body, ctype)
        headers = dict(reply.headers)
        if ctype:
            headers["Content-Type"] = ctype
        return web.Response(status=reply.status, body=body or None, headers=headers)

    def _error(self, err: RestconfError, accept: str | None) -> web.Response:
        body, ctype = restconf.error_body(err, accept, self.device.profile.media_type, self.device.profile.xml_media_type)
        return web.Response(status=err.status, body=body, headers=dict(err.headers, **{"Content-Type": ctype}))

    async def _reset(self, request, status: int, body: bytes, ctype: str | None) -> web.StreamResponse:
        """Send the headers and half the body, then reset the TCP connection."""
        response = web.StreamResponse(status=status, headers={"Content-Type": ctype or "text/plain"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await wire.hard_reset(request.transport)
        self.stats["reset"] += 1
        return response

    # ------------------------------------------------------------ hostile replies (issue 12)
    def _hostile_fault(self, method: str, status: int, path: str) -> str | None:
        """The hostile fault that takes over this answer: only GETs the device would answer with 200."""
        if method != "GET" or status != 200 or self.stopping.is_set():
            return None
        return next((name for name in HOSTILE_FAULTS if self._path_fault(name, path)), None)

    async def _pause(self, seconds: float) -> bool:
        """Sleep, cut short when the lab stops (so a slow drip never delays the stop); True when stopping."""
        if self._stop_waiter is None:
            self._stop_waiter = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({self._stop_waiter}, timeout=seconds)
        return self.stopping.is_set()

    def _json_type(self) -> str:
        return self.faults.get("media_type", self.device.profile.media_type)

    async def _hold(self, request: web.BaseRequest, response: web.StreamResponse,
                    work: Callable[[asyncio.BaseTransport], Awaitable[bool]]) -> web.StreamResponse:
        """Run a long reply on the request's connection, registered so that the lab's stop can cut it.

        ``work`` says whether the reply was complete.  A client that leaves shows as a ConnectionError from
        a write or as ``wire.gone`` (which the loops check); either way, and when the lab stops, the reply ends
        and the connection is cut rather than kept alive with a reply cut short.
        """
        transport = request.transport
        complete = False
        if transport is not None and not transport.is_closing():
            self.streams.add(transport)
            try:
                complete = await work(transport)
            except ConnectionError:
                pass
            finally:
                self.streams.discard(transport)
        if not complete:
            response.force_close()
            if transport is not None and not transport.is_closing():
                transport.abort()
        return response

    async def _trickle(self, request: web.BaseRequest, transport: asyncio.BaseTransport, data: bytes) -> bool:
        """Write ``data`` one byte per ``drip_interval_ms``; False when the client or the lab quits first."""
        interval = float(self.faults.get("drip_interval_ms", 200)) / 1000
        for i in range(len(data)):
            if wire.gone(request, transport) or self.stopping.is_set():
                return False
            transport.write(data[i:i + 1])
            if i + 1 < len(data) and await self._pause(interval):
                return False
        return not wire.gone(request, transport)

    async def _drip(self, request: web.BaseRequest, reply: restconf.Reply, body: bytes, ctype: str | None,
                    slow_head: bool) -> web.StreamResponse:
        """A reply written by hand on the raw (TLS) transport, so that even the header bytes can be spaced.

        aiohttp's writer would send the head in one piece; the transport below it takes single bytes,
        each going out as its own TLS record, so every read of the client returns one byte.  A reply
        that got through whole leaves the connection alive, as a slow but honest device would.
        """
        head = _raw_head(200, _reply_headers(reply, ctype, len(body), request.keep_alive))

        async def work(transport: asyncio.BaseTransport) -> bool:
            if slow_head:
                done = await self._trickle(request, transport, head)
                if done:
                    transport.write(body)
                return done
            transport.write(head)
            return await self._trickle(request, transport, body)

        return await self._hold(request, wire.AlreadySent(request.keep_alive), work)

    async def _drip_headers(self, request, reply, body, ctype) -> web.StreamResponse:
        return await self._drip(request, reply, body, ctype, slow_head=True)

    async def _drip_body(self, request, reply, body, ctype) -> web.StreamResponse:
        return await self._drip(request, reply, body, ctype, slow_head=False)

    async def _lying_length(self, request, reply, body, ctype) -> web.StreamResponse:
        """Announce twice the body's length, send the body, then say nothing until the client gives up."""
        response = web.StreamResponse(status=200, headers=_reply_headers(reply, ctype, None, True))
        response.content_length = 2 * len(body)

        async def work(transport: asyncio.BaseTransport) -> bool:
            await response.prepare(request)
            await response.write(body)
            while not wire.gone(request, transport) and not await self._pause(0.25):
                pass
            return False

        return await self._hold(request, response, work)

    async def _reset_after(self, request, reply, body, ctype) -> web.StreamResponse:
        """The head and the first ``reset_after`` bytes of the body, then a TCP reset."""
        response = web.StreamResponse(status=200, headers=_reply_headers(reply, ctype, None, True))
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: int(self.faults["reset_after"])])
        await wire.hard_reset(request.transport)
        return response

    async def _stream(self, request: web.BaseRequest, headers: dict[str, str], chunks: Iterator[bytes],
                      length: int | None = None) -> web.StreamResponse:
        """Write chunks as the client reads them: ``write`` drains, so a slow reader holds the producer back
        and the lab never holds more than a chunk and the transport's buffer."""
        response = web.StreamResponse(status=200, headers=headers)
        if length is None:
            response.enable_chunked_encoding()
        else:
            response.content_length = length

        async def work(transport: asyncio.BaseTransport) -> bool:
            await response.prepare(request)
            for chunk in chunks:
                await response.write(chunk)
                # Always give the loop a turn: ``write`` only waits when the transport is paused, so a fast
                # reader would starve the other devices, and once the peer's FIN reaches uvloop's TLS layer
                # it drops writes silently (no pause, no error) until a callback closes the connection,
                # which a loop that never yields would never let run: the lab would hang, spinning.
                await asyncio.sleep(0)
                if wire.gone(request, transport) or self.stopping.is_set():
                    return False
            await response.write_eof()
            return True

        return await self._hold(request, response, work)

    async def _endless_body(self, request, reply, body, ctype) -> web.StreamResponse:
        """The opening of the real JSON reply up to its first string, then that string forever (chunked)."""
        chunks = hostile.endless(hostile.string_opening(reply.document))
        return await self._stream(request, {"Content-Type": self._json_type()}, chunks)

    async def _gzip_bomb(self, request, reply, body, ctype) -> web.StreamResponse:
        """The real JSON reply without its closing brace, then endless spaces, gzipped as the client reads."""
        prefix = dump_json(reply.document)[:-1] if isinstance(reply.document, dict) else b'{"x":'
        headers = {"Content-Type": self._json_type(), "Content-Encoding": "gzip"}
        return await self._stream(request, headers, hostile.gzip_bomb(prefix))

    async def _nesting_bomb(self, request, reply, body, ctype) -> web.StreamResponse:
        """``{"<top member>": [[[...]]]}`` nested ``nesting_depth`` deep, written in chunks (never held whole)."""
        depth = int(self.faults.get("nesting_depth", 300000))
        head = b"{" + json.dumps(hostile.top_member(reply.document)).encode() + b":"
        chunks = hostile.nesting(head, depth)
        return await self._stream(request, {"Content-Type": self._json_type()}, chunks,
                                  length=len(head) + 2 * depth + 1)

    async def _not_json(self, request, reply, body, ctype) -> web.StreamResponse:
        """A captive proxy's login page, 200 text/html, where the JSON reply should be."""
        return web.Response(status=200, body=PROXY_LOGIN_PAGE, content_type="text/html", charset="utf-8")

    async def _bad_json(self, request, reply, body, ctype) -> web.StreamResponse:
        """The real reply with one hostile defect (``bad_json`` kind); XML replies are left alone."""
        if ctype and "json" in ctype and isinstance(reply.document, dict):
            body = hostile.hostile_json(reply.document, self.faults["bad_json"])
        headers = _reply_headers(reply, ctype, None, True)
        return web.Response(status=200, body=body, headers=headers)


def _reply_headers(reply: restconf.Reply, ctype: str | None, length: int | None, keep_alive: bool) -> dict[str, str]:
    """The headers the device would send with this reply (ETag, Last-Modified, type, length)."""
    headers = {"Date": formatdate(usegmt=True), **reply.headers}
    if ctype:
        headers["Content-Type"] = ctype
    if length is not None:
        headers["Content-Length"] = str(length)
    if not keep_alive:
        headers["Connection"] = "close"
    return headers


def _raw_head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Split a raw query string on ``&`` only (``fields`` uses ``;``)."""
    pairs = []
    for part in raw.split("&") if raw else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs
