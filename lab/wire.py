"""Connection-level tricks of the lab's devices: replies written on the raw transport, TCP resets,
a TLS handshake that never completes, and how to tell that a client has left.

lab/server.py's DeviceServer uses them for its faults.
"""
from __future__ import annotations

import asyncio
import socket
import struct
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from lab.server import DeviceServer

TCP_CLOSE_WAIT = 8   # tcpi_state of Linux's TCP_INFO once the peer has sent its FIN


class AlreadySent(web.StreamResponse):
    """A reply the handler wrote on the transport itself: aiohttp must not write one more."""

    def __init__(self, keep_alive: bool) -> None:
        super().__init__()
        # aiohttp reads this to decide whether to wait for another request on the connection; the
        # public API only offers force_close(), and prepare() (which would set it) must not run.
        self._keep_alive = keep_alive

    async def prepare(self, request: web.BaseRequest) -> None:
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None


class StalledHandshake(asyncio.Protocol):
    """``tls_stall``: a plain TCP listener that reads the ClientHello and never answers it."""

    def __init__(self, server: DeviceServer) -> None:
        self.server = server
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.server.streams.add(transport)
        self.server.stats["tls_stall"] += 1

    def data_received(self, data: bytes) -> None:
        """Read and drop: the client's bytes are consumed, so it waits on the handshake, not on a full window."""

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.streams.discard(self.transport)


async def hard_reset(transport: asyncio.BaseTransport | None) -> None:
    """Reset the TCP connection (RST, not FIN) once what was written has left: SO_LINGER 0, then abort."""
    for _ in range(40):   # what TLS still buffers goes to the socket first (bounded: a reader may be stuck)
        if transport is None or transport.is_closing() or not transport.get_write_buffer_size():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.05)  # let TLS flush what was written before the reset
    sock = transport.get_extra_info("socket") if transport else None
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if transport is not None:
        transport.abort()


def gone(request: web.BaseRequest, transport: asyncio.BaseTransport) -> bool:
    """The client left: aiohttp has seen the connection lost, the transport is closing, or the peer's FIN came."""
    return request.transport is None or transport.is_closing() or peer_closed(transport)


def peer_closed(transport: asyncio.BaseTransport) -> bool:
    """The peer sent its FIN (the socket is in CLOSE_WAIT).

    uvloop's TLS layer then drops whatever the application writes, without an error and without pausing,
    until it has flushed and closed the socket, which a client that stopped reading may never let it do:
    a stream would write into the void for ever.  Linux only (TCP_INFO); elsewhere, never.
    """
    sock = transport.get_extra_info("socket")
    tcp_info = getattr(socket, "TCP_INFO", None)
    if sock is None or tcp_info is None:
        return False
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, tcp_info, 1)[0] == TCP_CLOSE_WAIT
    except OSError:
        return False
