"""Each fault of the fleet definition does what it says: statuses, headers, timing."""
from __future__ import annotations

import json
import ssl
import stat
import threading
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

HOSTNAME = "/restconf/data/Cisco-IOS-XE-native:native/hostname"


def test_latency_is_fixed_plus_bounded_jitter(lab):
    durations = []
    with lab.client("slow") as client:
        client.get(HOSTNAME)  # connect outside the measurement
        for _ in range(8):
            start = time.monotonic()
            assert client.get(HOSTNAME).status_code == 200
            durations.append(time.monotonic() - start)
    assert min(durations) >= 0.2
    # jitter up to 100 ms, plus slack for a busy machine: every sample but one within it (one may meet a stall of
    # the host's scheduler: CI saw 0.495 s once, on a host with up to 50% steal time), and none near a second
    usual = sorted(durations)[:-1]
    assert max(usual) < 0.2 + 0.1 + 0.15, durations
    assert max(durations) < 1.0, durations
    assert max(durations) - min(durations) > 0.005  # jitter is really there


def test_concurrency_cap_answers_503_with_retry_after(lab):
    replies: list[httpx.Response] = []

    def one():
        with lab.client("capped") as client:
            replies.append(client.get(HOSTNAME))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(200) >= 2 and statuses.count(503) >= 1, statuses
    busy = next(r for r in replies if r.status_code == 503)
    assert busy.headers["retry-after"] == "2"
    assert busy.json()["ietf-restconf:errors"]["error"][0]["error-tag"] == "resource-denied"


def test_wrong_credentials_get_401_with_challenge(lab):
    with lab.client("badpass") as client:
        reply = client.get(HOSTNAME)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == 'Basic realm="restconf"'
    assert reply.json()["ietf-restconf:errors"]["error"][0]["error-tag"] == "access-denied"


def test_missing_credentials_get_401_on_a_healthy_device(lab):
    with lab.client("c9300", auth=None) as client:
        assert client.get(HOSTNAME).status_code == 401


@pytest.mark.parametrize("path", [HOSTNAME, "/restconf", "/.well-known/host-meta"])
def test_restconf_disabled_is_404_everywhere_without_a_restconf_body(lab, path):
    with lab.client("norestconf") as client:
        reply = client.get(path)
    assert reply.status_code == 404 and reply.headers["content-type"].startswith("text/html")


def test_closed_port_refuses_the_connection(lab):
    with lab.client("closed") as client, pytest.raises(httpx.ConnectError, match="refused|failed"):
        client.get(HOSTNAME)


def test_hang_accepts_and_never_answers(lab):
    start = time.monotonic()
    with lab.client("hang", timeout=httpx.Timeout(0.8, connect=2.0)) as client, pytest.raises(httpx.ReadTimeout):
        client.get(HOSTNAME)
    assert 0.7 < time.monotonic() - start < 3


def test_reset_mid_response(lab):
    with lab.client("reset") as client, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get("/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces")


def test_malformed_json_is_200_but_unparseable(lab):
    with lab.client("malformed") as client:
        reply = client.get("/restconf/data/Cisco-IOS-XE-native:native")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/yang-data+json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.content)


def test_error_paths_fail_with_500_and_others_work(lab):
    with lab.client("err500") as client:
        bad = client.get("/restconf/data/Cisco-IOS-XE-environment-oper:environment-sensors")
        good = client.get(HOSTNAME)
    assert bad.status_code == 500
    assert bad.json()["ietf-restconf:errors"]["error"][0]["error-tag"] == "operation-failed"
    assert good.status_code == 200


def test_wrong_certificate_name_fails_verification_only(lab):
    with lab.client("wrongcert") as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get("/restconf/data/ietf-system:system/hostname")
    insecure = ssl.create_default_context(cafile=lab.ca_path)
    insecure.check_hostname = False   # same CA, name not checked: the name is the only fault
    with lab.client("wrongcert", verify=insecure) as client:
        assert client.get("/restconf/data/ietf-system:system/hostname").status_code == 200


def _with_client_cert(lab, maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
                      cert: bool = True) -> ssl.SSLContext:
    context = lab.tls()
    context.maximum_version = maximum
    if cert:
        variables = lab.inventory["all"]["vars"]
        context.load_cert_chain(variables["lab_client_cert"], variables["lab_client_key"])
    return context


def test_client_certificate_required_refuses_a_client_without_one(lab):
    """TLS 1.3: the client's handshake is over before the device checks for a certificate, so the refusal
    shows at the first read; TLS 1.2: at the handshake. The lab closes without a TLS alert either way.
    With TLS 1.3 the client reads the close, or (a race on loopback) its request meets the closed socket: a reset."""
    with lab.client("mtls") as client, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as closed:
        client.get(HOSTNAME)
    if isinstance(closed.value, httpx.RemoteProtocolError):
        assert str(closed.value).startswith("Server disconnected without sending a response"), closed.value
    else:
        assert "Connection reset by peer" in str(closed.value), closed.value
    tls12 = _with_client_cert(lab, ssl.TLSVersion.TLSv1_2, cert=False)
    with lab.client("mtls", verify=tls12) as client, pytest.raises(httpx.ConnectError) as refused:
        client.get(HOSTNAME)
    chain, seen = [], refused.value
    while seen is not None:
        chain.append(repr(seen))
        seen = seen.__cause__ or seen.__context__
    assert any("UNEXPECTED_EOF_WHILE_READING" in link for link in chain), chain


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_client_certificate_required_serves_the_lab_client_certificate(lab, maximum):
    with lab.client("mtls", verify=_with_client_cert(lab, maximum)) as client:
        reply = client.get(HOSTNAME)
    assert reply.status_code == 200 and reply.json() == {"Cisco-IOS-XE-native:hostname": "mtls"}
    with lab.client("c9300", verify=_with_client_cert(lab, maximum)) as client:   # others do not ask, nor mind
        assert client.get(HOSTNAME).status_code == 200


def test_lab_client_certificate_is_a_private_p256_client_auth_certificate_from_the_lab_ca(lab):
    variables = lab.inventory["all"]["vars"]
    cert_path, key_path = Path(variables["lab_client_cert"]), Path(variables["lab_client_key"])
    assert cert_path.is_absolute() and cert_path == lab.state_dir / "client.pem"
    assert key_path.is_absolute() and key_path == lab.state_dir / "client.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(Path(lab.ca_path).read_bytes()))
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp256r1"


def test_hostile_strings_are_served_verbatim(lab):
    with lab.client("hostile") as client:
        hostname = client.get(HOSTNAME).json()["Cisco-IOS-XE-native:hostname"]
        cdp = client.get("/restconf/data/Cisco-IOS-XE-cdp-oper:cdp-neighbor-details").json()
        oper = client.get("/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces").json()
    assert hostname == "<script>window.__johann_xss=1</script>"
    names = [n["device-name"] for n in cdp["Cisco-IOS-XE-cdp-oper:cdp-neighbor-details"]["cdp-neighbor-detail"]]
    assert "<svg/onload=window.__johann_xss=3>" in names
    descriptions = [i.get("description") for i in oper["Cisco-IOS-XE-interfaces-oper:interfaces"]["interface"]]
    assert '"><img src=x onerror="window.__johann_xss=2">' in descriptions


def test_a_faulty_device_does_not_slow_the_others(lab):
    """A hung device holds a connection; a healthy one still answers at once."""
    outcome: list[str] = []

    def hang_once():
        try:
            with lab.client("hang", timeout=httpx.Timeout(1.5, connect=2.0)) as client:
                client.get(HOSTNAME)
            outcome.append("answered")
        except httpx.ReadTimeout:
            outcome.append("timed out")

    hung = threading.Thread(target=hang_once)
    hung.start()
    time.sleep(0.2)
    start = time.monotonic()
    with lab.client("c9300") as client:
        assert client.get(HOSTNAME).status_code == 200
    assert time.monotonic() - start < 1.0
    hung.join()
    assert outcome == ["timed out"]


def test_old_media_type_and_missing_host_meta(lab):
    with lab.client("oldmedia") as client:
        meta = client.get("/.well-known/host-meta")
        data = client.get(HOSTNAME)
    assert meta.status_code == 404
    assert data.headers["content-type"] == "application/vnd.yang.data+json"
    assert data.json() == {"Cisco-IOS-XE-native:hostname": "oldmedia"}
