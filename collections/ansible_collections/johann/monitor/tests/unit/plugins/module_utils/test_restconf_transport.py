"""The client's fast path (issue 17): aiohttp's transport and shared TLS contexts.

The parity tests run one misbehaving TLS server per case on 127.0.0.1 and read it twice: through
httpx's own transport (what the client used before) and through the aiohttp transport (what it uses
now); the client must give the same error, class and message, both ways.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import struct
import threading

import httpx
import pytest
from ansible_collections.johann.monitor.plugins.module_utils._restconf import client as client_module
from ansible_collections.johann.monitor.plugins.module_utils._restconf import errors, transport
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import (
    ClientSettings,
    RestconfClient,
    shared_ssl_context,
)

pytestmark = pytest.mark.skipif(transport.AIOHTTP is None, reason="aiohttp 3.10+ is not installed")
JSON_BODY = b'{"m:x": {"a": "1"}}'


# ---------------------------------------------------------------- certificates


def _pki(tmp_path):
    """A CA and a server certificate for 127.0.0.1 (cryptography, as the lab makes them)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def cert(subject, issuer, key, signer, ca):
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("test CA", "test CA", ca_key, ca_key, True)
    leaf = cert("127.0.0.1", "test CA", key, ca_key, False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(leaf.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    other_key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "other-ca.pem").write_bytes(cert("other CA", "other CA", other_key, other_key, True).public_bytes(pem))
    return tmp_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return _pki(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------- a device that misbehaves on purpose


class Device:
    """A blocking TLS server on 127.0.0.1 with one behaviour (a thread per connection)."""

    def __init__(self, pki, behaviour: str) -> None:
        self.behaviour = behaviour
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(pki / "server.pem", pki / "server.key")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.heads: list[bytes] = []
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _address = self.listener.accept()
            except OSError:
                return
            self.open.append(raw)
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        if self.behaviour == "stall":   # TCP only: the TLS handshake is never answered
            return
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
            while True:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                self.heads.append(head.split(b"\r\n\r\n")[0])
                if not self._answer(conn, raw):
                    return
        except OSError:
            return

    def _answer(self, conn, raw) -> bool:
        b = self.behaviour
        if b == "close":
            conn.close()
            return False
        if b in ("reset", "body_reset"):
            if b == "body_reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/yang-data+json\r\nContent-Length: 1000"
                             b"\r\n\r\n{\"m:x\": {")
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
            return False
        if b in ("hang", "lying"):
            if b == "lying":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/yang-data+json\r\nContent-Length: %d\r\n"
                             b"\r\n%s" % (2 * len(JSON_BODY), JSON_BODY))
            threading.Event().wait(5)
            return False
        if b == "headers":
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (120 * 1024) + b"\r\nContent-Length: 0\r\n\r\n")
            return False
        if b == "garbage":
            conn.sendall(b"HELLO THERE\r\n\r\n")
            conn.close()
            return False
        status = b"404 Not Found" if b == "notfound" else b"200 OK"
        body = b'{"ietf-restconf:errors": {"error": [{"error-tag": "invalid-value"}]}}' if b == "notfound" else JSON_BODY
        conn.sendall(b"HTTP/1.1 %s\r\nContent-Type: application/yang-data+json\r\nSet-Cookie: sid=1; Path=/\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (status, len(body), body))
        return True

    def close(self) -> None:
        self.listener.close()
        for raw in self.open:
            raw.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def _read(settings: ClientSettings, via: str, paths=("m:x",)):
    """Read ``paths`` with the client, through httpx's transport or the default (aiohttp) one."""
    async def main():
        given = None
        if via == "httpx":   # what the client built before: AsyncClient's transport with the same context
            given = httpx.AsyncHTTPTransport(verify=client_module.ssl_context(settings),
                                             limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
        async with RestconfClient(settings, transport=given) as client:
            if via == "aiohttp":
                assert isinstance(client._transport, transport.AiohttpTransport)
            try:
                return [await client.get(p) for p in paths]
            except errors.RestconfError as exc:
                return exc

    return asyncio.run(main())


def _outcome(result):
    if isinstance(result, errors.RestconfError):
        return type(result).__name__, str(result)
    return [(r.status, r.data, r.url) for r in result]


CASES = ["ok", "notfound", "close", "reset", "body_reset", "hang", "lying", "headers", "garbage", "stall", "refused",
         "wrong_ca"]


@pytest.mark.parametrize("case", CASES)
def test_the_aiohttp_transport_gives_what_httpx_gave(pki, case):
    device = None if case == "refused" else Device(pki, "ok" if case == "wrong_ca" else case)
    port = _closed_port() if device is None else device.port
    settings = ClientSettings(host="127.0.0.1", port=port, username="u", password="p", root="/restconf",
                              ca_path=str(pki / ("other-ca.pem" if case == "wrong_ca" else "ca.pem")), retries=0,
                              timeout=0.5, connect_timeout=0.5)
    try:
        before, after = _outcome(_read(settings, "httpx")), _outcome(_read(settings, "aiohttp"))
    finally:
        if device:
            device.close()
    assert after == before
    if case == "ok":
        assert after == [(200, {"m:x": {"a": "1"}}, f"https://127.0.0.1:{port}/restconf/data/m:x")]


def test_the_same_request_reaches_the_device_both_ways(pki):
    device = Device(pki, "ok")
    settings = ClientSettings(host="127.0.0.1", port=device.port, username="ü", password="p:w", ca_path=str(pki / "ca.pem"))
    try:
        _read(settings, "httpx", ("m:x=a%2Fb", "m:y"))
        _read(settings, "aiohttp", ("m:x=a%2Fb", "m:y"))
    finally:
        device.close()
    # host-meta, two reads (the second with the cookie the first set), each way: byte for byte the same
    assert len(device.heads) == 6 and device.heads[:3] == device.heads[3:]
    assert b"\r\nCookie: sid=1\r\n" in device.heads[2]


# ---------------------------------------------------------------- one TLS context per settings and files


def test_the_tls_context_is_made_once_per_settings_and_again_when_a_file_changes(pki, tmp_path, monkeypatch):
    monkeypatch.setattr(client_module, "_CONTEXTS", {})
    ca = tmp_path / "ca.pem"
    ca.write_bytes((pki / "ca.pem").read_bytes())
    first = shared_ssl_context(ClientSettings(host="a", ca_path=str(ca)))
    assert shared_ssl_context(ClientSettings(host="b", port=830, ca_path=str(ca))) is first
    assert shared_ssl_context(ClientSettings(host="a", ca_path=str(ca), validate_certs=False)) is not first
    ca.write_bytes((pki / "ca.pem").read_bytes() + (pki / "other-ca.pem").read_bytes())
    changed = shared_ssl_context(ClientSettings(host="a", ca_path=str(ca)))
    assert changed is not first and changed.verify_mode == ssl.CERT_REQUIRED


def test_an_unusable_ca_bundle_is_named_for_every_device(tmp_path, monkeypatch):
    monkeypatch.setattr(client_module, "_CONTEXTS", {})
    (tmp_path / "bad.pem").write_text("not a certificate")
    for path in (tmp_path / "missing.pem", tmp_path / "bad.pem"):
        for _attempt in range(2):
            with pytest.raises(errors.SettingsError, match=f"cannot use the CA bundle {path}"):
                shared_ssl_context(ClientSettings(host="h", ca_path=str(path)))
    assert client_module._CONTEXTS == {}


def test_an_environment_proxy_is_left_to_httpx(monkeypatch, pki):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")

    async def main():
        async with RestconfClient(ClientSettings(host="127.0.0.1", ca_path=str(pki / "ca.pem"))) as client:
            return client._http, client._transport

    http, given = asyncio.run(main())
    assert isinstance(http, httpx.AsyncClient) and given is None
