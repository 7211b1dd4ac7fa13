"""Each fault of the fleet definition does what it says: statuses, headers, timing."""
from __future__ import annotations

import json
import ssl
import threading
import time

import httpx
import pytest

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
    assert max(durations) < 0.2 + 0.1 + 0.15      # jitter up to 100 ms, plus slack for a busy machine
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
