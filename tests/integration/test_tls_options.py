"""Mutual TLS and the per-host proxy of johann.monitor, through ansible-playbook against the lab.

Host ``mtls`` requires a client certificate from the lab CA (fault ``client_cert_required``);
host ``c9300`` is read through a CONNECT proxy run by this test, which records every target.
"""
from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
from pathlib import Path

import pytest

from lab import pki
from tests.integration.conftest import run_playbook
from tests.lablib import ROOT
from tests.sockets import accept_forever, read_head


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    """Copy bytes until ``src`` closes, then pass the close on (half-close, as a TCP relay does)."""
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


class ConnectProxy:
    """A tiny HTTP CONNECT proxy on 127.0.0.1: tunnels to loopback targets only and records them."""

    def __init__(self, deny_all: bool = False) -> None:
        self.deny_all = deny_all
        self.targets: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        accept_forever(self.listener, self._tunnel)

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = read_head(client)
            if head is None:
                return
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            host, _, port = target.rpartition(":")
            if method != "CONNECT" or not _is_loopback(host) or self.deny_all:
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            with socket.create_connection((host, int(port)), timeout=5) as upstream:
                upstream.settimeout(None)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
                back.start()
                _pipe(client, upstream)
                back.join(10)

    def close(self) -> None:
        self.listener.close()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def proxies():
    running = {"open": ConnectProxy(), "denying": ConnectProxy(deny_all=True)}
    yield running
    for proxy in running.values():
        proxy.close()


@pytest.fixture(scope="module")
def dead_proxy_url() -> str:
    return f"http://127.0.0.1:{_closed_port()}"


@pytest.fixture(scope="module")
def foreign_client_cert(tmp_path_factory) -> tuple[Path, Path]:
    """A client certificate from a CA of its own, which the lab's devices do not trust."""
    state = tmp_path_factory.mktemp("foreign_ca")
    return pki.client_cert_files(pki.load_or_create_ca(state), state)


@pytest.fixture(scope="module")
def results(lab, proxies, dead_proxy_url, foreign_client_cert, tmp_path_factory):
    out = tmp_path_factory.mktemp("tls_options") / "results.json"
    cert, key = foreign_client_cert
    run = run_playbook(lab, ROOT / "tests/integration/tls_options.yml", "-e", f"results_file={out}",
                       "-e", f"foreign_client_cert={cert}", "-e", f"foreign_client_key={key}",
                       "-e", f"proxy_url={proxies['open'].url}", "-e", f"denying_proxy_url={proxies['denying'].url}",
                       "-e", f"dead_proxy_url={dead_proxy_url}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return {name: result["device"] for name, result in json.loads(out.read_text()).items()}


def _authority(lab, host: str) -> str:
    h = lab.host(host)
    return f"{h['ansible_host']}:{h['ansible_port']}"


def _refusals(lab, hint: str) -> set[str]:
    """The two messages a TLS 1.3 refusal of the client certificate can give, and nothing else.

    With TLS 1.3 the server checks the client certificate after the client's handshake is over; the
    lab then closes the connection. Whether the client's request is read as a close without a reply
    or hits the closed socket (a reset) is a race on loopback: both happen (CI saw the reset once).
    """
    where = _authority(lab, "mtls")
    return {f"connection to {where} closed or reset before any reply: the device may have refused the TLS "
            f"handshake{hint}"}


def test_without_a_client_certificate_the_handshake_is_refused(lab, results):
    record = results["no_cert"]
    assert record["status"] == "unreachable" and record["identity"] is None
    # The lab (asyncio) closes without a TLS alert; the client names the likely cause and the fix.
    assert record["message"] in _refusals(lab, "; a device that requires a client certificate (mutual TLS) does "
                                               "this: set client_cert and client_key")


def test_a_client_certificate_from_another_ca_is_refused(lab, results, foreign_client_cert):
    record = results["foreign_cert"]
    assert record["status"] == "unreachable" and record["identity"] is None
    assert record["message"] in _refusals(
        lab, f"; check that the device trusts the CA of the client certificate {foreign_client_cert[0]}")


@pytest.mark.parametrize("case", ["with_cert", "cert_from_inventory"])
def test_with_the_lab_client_certificate_the_device_is_read(results, case):
    record = results[case]
    assert record["status"] == "ok", record["message"]
    assert record["identity"]["hostname"] == "mtls"


def test_the_proxy_tunnels_to_exactly_the_device(lab, results, proxies):
    record = results["proxied"]
    assert record["status"] == "ok", record["message"]
    assert record["identity"]["hostname"] == "c9300"
    assert proxies["open"].targets and set(proxies["open"].targets) == {_authority(lab, "c9300")}


def test_a_proxy_that_is_not_there_is_named(lab, results, dead_proxy_url):
    record = results["dead_proxy"]
    assert record["status"] == "unreachable" and record["identity"] is None
    assert record["message"] == (f"cannot reach {_authority(lab, 'c9300')} through the proxy {dead_proxy_url}: "
                                 "the proxy refused the connection (nothing listens there)")


def test_a_proxy_that_refuses_the_tunnel_is_named(lab, results, proxies):
    record = results["denied"]
    assert record["status"] == "unreachable" and record["identity"] is None
    assert record["message"] == (f"the proxy {proxies['denying'].url} refused the tunnel to "
                                 f"{_authority(lab, 'c9300')}: 403 Forbidden")
    assert proxies["denying"].targets == []
