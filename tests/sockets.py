"""Socket helpers for the small servers tests run on 127.0.0.1 (a CONNECT proxy, devices that misbehave)."""
from __future__ import annotations

import socket
import threading
from collections.abc import Callable


def read_head(conn: socket.socket) -> bytes | None:
    """What ``conn`` sends up to the end of an HTTP head (a blank line), with any bytes of the same reads after
    it; None when the peer closes before that."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        head += chunk
    return head


def accept_forever(listener: socket.socket, handle: Callable[[socket.socket], None]) -> None:
    """Accept on ``listener`` until it is closed, each connection handled by ``handle`` on a thread of its own
    (a daemon thread: a test's server never keeps the run alive)."""
    def accept() -> None:
        while True:
            try:
                conn, _address = listener.accept()
            except OSError:   # the listener was closed
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
