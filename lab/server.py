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
import random
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from lab import restconf
from lab.encoding import RestconfError
from lab.model import Clock, Device

DISABLED_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"


@dataclass
class DeviceServer:
    """One device on the wire and what its faults make it do."""

    device: Device
    clock: Clock
    stopping: asyncio.Event
    inflight: int = 0
    stats: Counter = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.device.seed)
        self.faults = self.device.faults
        self.root = self.faults.get("root", "/restconf")
        self.cap = int(self.faults.get("max_concurrent", 0))
        self.auth = self._expected_auth()

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
        rule = self.faults.get(name)
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
        if self.faults.get("restconf_disabled"):
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
        body, ctype = restconf.render(reply, accept, self.faults.get("media_type", self.device.profile.media_type))
        self.stats[str(reply.status)] += 1
        if reply.status == 200 and ctype and "json" in ctype and self._path_fault("malformed_json", path):
            body = body[: max(1, len(body) * 2 // 3)] + b',"'
        if self._path_fault("reset", path) and len(body) > 1:
            return await self._reset(request, reply.status, body, ctype)
        headers = dict(reply.headers)
        if ctype:
            headers["Content-Type"] = ctype
        return web.Response(status=reply.status, body=body or None, headers=headers)

    def _error(self, err: RestconfError, accept: str | None) -> web.Response:
        body, ctype = restconf.error_body(err, accept)
        return web.Response(status=err.status, body=body, headers=dict(err.headers, **{"Content-Type": ctype}))

    async def _reset(self, request, status: int, body: bytes, ctype: str | None) -> web.StreamResponse:
        """Send the headers and half the body, then reset the TCP connection."""
        response = web.StreamResponse(status=status, headers={"Content-Type": ctype or "text/plain"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await asyncio.sleep(0.05)  # let TLS flush what was written before the reset
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if transport is not None:
            transport.abort()
        self.stats["reset"] += 1
        return response


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Split a raw query string on ``&`` only (``fields`` uses ``;``)."""
    pairs = []
    for part in raw.split("&") if raw else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs
