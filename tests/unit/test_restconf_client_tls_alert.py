"""Unit test of the RESTCONF client (module_utils._restconf) over real sockets and real TLS: a device that
sends the TLS alert when it requires a client certificate, as real devices do.

A unit test of the client's own error naming: the lab's devices (asyncio) close without the alert, so
ansible-playbook against the lab cannot show this case (tests/integration/test_tls_options.py has the
mutual-TLS cases through device_info).
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from pathlib import Path

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._restconf import errors
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import ClientSettings, RestconfClient

from lab import pki
from tests.sockets import accept_forever


class AlertingServer:
    """A blocking OpenSSL server that requires a client certificate, as a real device's does.

    Unlike the lab's asyncio servers, it sends the TLS alert (``certificate required`` in TLS 1.3)
    before it closes, so the client meets what real devices send.
    """

    def __init__(self, cert: Path, key: Path, ca: Path) -> None:
        self.context = pki.server_context(cert, key, client_ca=ca)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusals: list[str] = []
        accept_forever(self.listener, self._handshake)

    def _handshake(self, raw: socket.socket) -> None:
        with raw, contextlib.suppress(OSError):
            try:
                self.context.wrap_socket(raw, server_side=True).close()
            except ssl.SSLError as exc:
                self.refusals.append(exc.reason or str(exc))

    def close(self) -> None:
        self.listener.close()

    def wait_for_refusals(self, count: int, seconds: float = 10.0) -> list[str]:
        """The refusals once ``count`` are in: the server notes one after its alert is sent, so the
        client may have read the alert before the server's thread gets to noting it."""
        deadline = time.monotonic() + seconds
        while len(self.refusals) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.refusals)


def test_a_device_that_sends_the_tls_alert_is_named(tmp_path):
    """The alert is read, or lost to a reset (it varies from run to run): either way the message names the cause."""
    ca = pki.load_or_create_ca(tmp_path)
    cert, key = pki.device_cert_files(ca, tmp_path, "alerting.lab.johann.test", "127.0.0.1")
    server = AlertingServer(cert, key, ca.path)

    async def attempt() -> errors.RestconfError:
        settings = ClientSettings(host="127.0.0.1", port=server.port, username="u", password="p",
                                  ca_path=str(ca.path), retries=0, timeout=5)
        async with RestconfClient(settings) as client:
            with pytest.raises(errors.TransportError) as caught:
                await client.get("ietf-system:system")
        return caught.value

    try:
        failures = [asyncio.run(attempt()) for _ in range(8)]
    finally:
        server.close()
    assert server.wait_for_refusals(8) == ["PEER_DID_NOT_RETURN_A_CERTIFICATE"] * 8
    where, hint = f"127.0.0.1:{server.port}", ("; a device that requires a client certificate (mutual TLS) does "
                                               "this: set client_cert and client_key")
    alert_read = f"TLS handshake with {where} failed: tlsv13 alert certificate required{hint}"
    alert_lost = (f"connection to {where} closed or reset before any reply: the device may have refused the TLS "
                  f"handshake{hint}")
    for failure in failures:   # the alert, or a reset when the request met the closed socket first
        assert (type(failure), str(failure)) in {(errors.CertificateFailed, alert_read),
                                                 (errors.ProtocolFailure, alert_lost)}, repr(failure)
