"""johann.monitor.device_info against the lab: values equal the ground truth; faults are named."""
from __future__ import annotations

import datetime as dt

import pytest

HEALTHY = ["c9300", "c9300x", "csr", "gx"]


def _record(run, host):
    return run["results"][host]["device"]


def _epoch(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("host", HEALTHY)
def test_identity_equals_ground_truth(lab, device_info_run, host):
    record, truth = _record(device_info_run, host), lab.truth(host)
    assert record["status"] == "ok" and record["message"] is None
    ident = record["identity"]
    assert ident["hostname"] == truth["hostname"] == host
    assert ident["serial"] == truth["serial"]            # padded on the wire, stripped here
    assert ident["model"] == truth["model"]
    assert ident["os_version"] == truth["os_version"]
    assert ident["os_version_full"] == truth["os_version_full"]
    assert abs(ident["uptime"] - truth["uptime"]) <= 1   # 16.12 timestamps have whole seconds
    assert _epoch(ident["boot_time"]) == pytest.approx(truth["boot_time"], abs=1.0)
    assert record["platform"] == truth["platform"]
    assert all(s["status"] in ("ok", "absent") for s in record["sections"].values())


@pytest.mark.parametrize("host", HEALTHY)
def test_interfaces_equal_ground_truth(lab, device_info_run, host):
    record, truth = _record(device_info_run, host), lab.truth(host)["interfaces"]
    interfaces = {i["name"]: i for i in record["interfaces"]}
    assert set(interfaces) == set(truth)
    for name, t in truth.items():
        got = interfaces[name]
        assert (got["oper_status"] == "up") is t["oper_up"], name
        assert (got["admin_status"] == "up") is t["admin_up"], name
        assert got["mac"] == t["mac"]
        assert got["description"] == t["description"]
        assert got["speed"] == (t["speed"] or None)
        assert got["counters"]["in_octets"] == t["counters"]["in-octets"]
        assert got["counters"]["in_errors"] == t["counters"]["in-errors"]
        width = got["counter_widths"]["out_octets"]
        assert got["counters"]["out_octets"] == t["counters"]["out-octets"] % 2 ** width
        if t["ipv4"]:
            assert got["ipv4"][0]["address"] == t["ipv4"][0]
        assert _epoch(got["last_change"]) == pytest.approx(t["last_change_epoch"], abs=1.0)


def test_release_differences_show_in_the_record(device_info_run):
    csr, c9300 = _record(device_info_run, "csr"), _record(device_info_run, "c9300")
    assert csr["interfaces"][0]["counter_widths"]["out_octets"] == 32     # 16.12 has no out-octets-64
    assert c9300["interfaces"][0]["counter_widths"]["out_octets"] == 64
    # 16.12 omits description in interfaces-oper: it comes from the native configuration instead
    assert csr["interfaces"][0]["name"] == "GigabitEthernet1" and csr["interfaces"][0]["description"] == "MANAGEMENT"
    assert csr["licensing"] is None and csr["sections"]["licensing"]["status"] == "absent"
    assert "not in the device's YANG library" in csr["sections"]["licensing"]["message"]
    assert csr["sections"]["environment"]["status"] == "absent"
    assert "204" in csr["sections"]["environment"]["message"]
    assert c9300["licensing"]["udi"]["serial"] == c9300["identity"]["serial"]
    assert len(c9300["identity"]["reload_history"]) == 2 and csr["identity"]["reload_history"] == []


def test_cpu_memory_environment_equal_ground_truth(lab, device_info_run):
    record, truth = _record(device_info_run, "c9300"), lab.truth("c9300")
    assert {k: record["cpu"][k] for k in ("five_seconds", "one_minute", "five_minutes")} == \
        {k.replace("-", "_"): v for k, v in truth["cpu"].items() if k != "five-seconds-intr"}
    assert len(record["cpu"]["per_core"]) == 8
    assert (record["cpu"]["average"], record["cpu"]["average_seconds"]) == (None, None)   # IOS XE: 1 and 5 min
    assert record["memory"]["used_percent"] == pytest.approx(100 * truth["memory_used_fraction"], abs=0.06)
    assert record["memory"]["status"] == "Healthy"
    inlet = next(s for s in record["environment"] if s["name"] == "Temp: Inlet")
    assert inlet["kind"] == "temperature" and inlet["unit"] == "celsius" and inlet["alert"] is False
    assert inlet["thresholds"]["high_normal"] == 46
    assert record["storage"]["partitions"][0]["name"] == "bootflash:"
    assert record["config"]["snmp"]["communities"] == [{"name": "********", "permission": "ro"}]
    assert record["neighbors"]["cdp"][0]["local_interface"] == "TenGigabitEthernet1/1/1"


def test_generic_ietf_device(lab, device_info_run):
    record, truth = _record(device_info_run, "gx"), lab.truth("gx")
    assert record["identity"]["vendor"] == "Generic Networks"
    assert record["sections"]["cpu"]["status"] == "absent"
    temps = [s for s in record["environment"] if s["kind"] == "temperature"]
    assert temps and all(isinstance(s["reading"], float) for s in temps)
    assert record["config"]["ntp_servers"] == ["10.0.0.123"]
    assert record["interfaces"][0]["counters"]["in_octets"] == \
        truth["interfaces"][record["interfaces"][0]["name"]]["counters"]["in-octets"]


FAULTS = [
    ("badpass", "auth_failed", "authentication failed: 401 access-denied"),
    ("closed", "unreachable", "connection refused by 127."),
    ("hang", "unreachable", "timed out after 2 s reading /.well-known/host-meta"),
    ("reset", "error", "connection reset or closed by the device while reading"),
    ("malformed", "error", "malformed JSON from the device on ietf-yang-library:modules-state"),
    ("err500", "degraded", "environment: device error: 500 operation-failed"),
    ("wrongcert", "unreachable", "TLS certificate verification failed for 127."),
    ("norestconf", "error", "RESTCONF not enabled: 404 on /restconf (the HTTPS server answered but RESTCONF did "
                            "not: `restconf` is not configured); on IOS XE, enable it over SSH: ansible-playbook "
                            "playbooks/enable_restconf.yml --limit norestconf"),
    ("mtls", "unreachable", "the device may have refused the TLS handshake; a device that requires a client "
                            "certificate (mutual TLS) does this: set client_cert and client_key"),
]


@pytest.mark.parametrize("host,status,message", FAULTS, ids=[f[0] for f in FAULTS])
def test_faults_are_named(device_info_run, host, status, message):
    record = _record(device_info_run, host)
    assert record["status"] == status
    assert message in record["message"]
    assert device_info_run["results"][host].get("failed") is not True   # fail_on_error is off by default


def test_hang_returns_within_its_timeout(device_info_run):
    assert 1.9 <= _record(device_info_run, "hang")["duration"] < 4


@pytest.mark.parametrize("host", ["slow", "capped", "rooted", "oldmedia", "hostile"])
def test_quirky_but_working_devices_are_ok(device_info_run, host):
    record = _record(device_info_run, host)
    assert record["status"] == "ok", record["message"]
    if host == "rooted":
        assert (record["restconf_root"], record["root_source"]) == ("/rest/restconf", "host-meta")
    if host == "oldmedia":
        assert (record["restconf_root"], record["root_source"]) == ("/restconf", "default")
    if host == "hostile":
        assert record["identity"]["hostname"] == "<script>window.__johann_xss=1</script>"


def test_concurrency_cap_respected_with_retries(device_info_run):
    record = _record(device_info_run, "capped")
    assert record["requests"] >= 13   # every resource read; 503s retried after Retry-After when they happen


def test_healthy_devices_are_not_slowed_by_faulty_ones(device_info_run):
    for host in HEALTHY:
        assert _record(device_info_run, host)["duration"] < 1.5


def test_restconf_root_is_cached_as_a_fact(device_info_run):
    assert device_info_run["results"]["c9300"]["ansible_facts"] == {"johann_restconf_root": "/restconf"}


def test_secrets_never_appear_in_output_or_results(lab, device_info_run):
    password = lab.auth[1]
    communities = [c["name"] for c in lab.truth("c9300")["config"]["Cisco-IOS-XE-native:native"]["snmp-server"]
                   ["Cisco-IOS-XE-snmp:community-config"]]
    haystack = device_info_run["stdout"] + device_info_run["stderr"] + device_info_run["file"].read_text()
    assert "c9300" in haystack and len(haystack) > 10000    # the haystack is the real, verbose output
    for secret in [password, *communities]:
        assert secret not in haystack
