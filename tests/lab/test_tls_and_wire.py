"""TLS verification against the lab CA, keep-alive, and the HTTP wire itself."""
from __future__ import annotations

import base64
import socket
import ssl

import httpx
import pytest
from cryptography import x509

HOSTNAME = "/restconf/data/Cisco-IOS-XE-native:native/hostname"


def test_verification_with_the_lab_ca_succeeds_by_ip_and_by_name(lab):
    with lab.client("c9300") as client:
        assert client.get(HOSTNAME).json() == {"Cisco-IOS-XE-native:hostname": "c9300"}
    host = lab.host("c9300")
    context = lab.tls()
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=host["lab_dns_name"]) as tls:
        cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert host["lab_dns_name"] in names.get_values_for_type(x509.DNSName)


def test_without_the_lab_ca_verification_fails(lab):
    with lab.client("c9300", verify=True) as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY"):
        client.get(HOSTNAME)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_below_1_2_is_refused(lab):
    context = lab.tls()
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    host = lab.host("c9300")
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=5) as raw, \
            pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname=host["ansible_host"])


def _request(name: str, host: str, auth: str) -> bytes:
    return (f"GET {HOSTNAME} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n"
            f"Accept: application/yang-data+json\r\nX-Req: {name}\r\n\r\n").encode()


def test_keep_alive_serves_many_requests_on_one_connection(lab):
    host = lab.host("c9300")
    auth = base64.b64encode(":".join(lab.auth).encode()).decode()
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=5) as raw, \
            lab.tls().wrap_socket(raw, server_hostname=host["ansible_host"]) as tls:
        stream = tls.makefile("rb")
        for n in range(5):
            tls.sendall(_request(str(n), host["ansible_host"], auth))
            status = stream.readline()
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            assert status.startswith(b"HTTP/1.1 200") and b'"c9300"' in body
            assert headers.get("connection", "keep-alive").lower() != "close"


def test_garbage_bytes_get_a_400_and_the_device_keeps_serving(lab):
    host = lab.host("csr")
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=5) as raw, \
            lab.tls().wrap_socket(raw, server_hostname=host["ansible_host"]) as tls:
        tls.sendall(b"\x00\xff\x13GARBAGE \r\n\r\n")
        assert tls.recv(100)[:12] in (b"HTTP/1.1 400", b"HTTP/1.0 400")
    with socket.create_connection((host["ansible_host"], host["ansible_port"]), timeout=5) as raw:
        raw.sendall(b"this is not TLS at all\r\n\r\n")   # the handshake fails; the server must survive
        raw.recv(100)
    with lab.client("csr") as client:
        assert client.get(HOSTNAME).status_code == 200
