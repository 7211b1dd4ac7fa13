"""Every path of every profile, answered with the documented shape and the lab's true values."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

JOHANN = [
    "Cisco-IOS-XE-native:native",
    "Cisco-IOS-XE-platform-software-oper:cisco-platform-software",
    "Cisco-IOS-XE-device-hardware-oper:device-hardware-data",
    "Cisco-IOS-XE-platform-oper:components",
    "Cisco-IOS-XE-arp-oper:arp-data",
    "Cisco-IOS-XE-cdp-oper:cdp-neighbor-details",
    "Cisco-IOS-XE-interfaces-oper:interfaces",
    "cisco-smart-license:licensing",
]
EXTRA_IOSXE = [
    "Cisco-IOS-XE-process-cpu-oper:cpu-usage",
    "Cisco-IOS-XE-memory-oper:memory-statistics",
    "Cisco-IOS-XE-environment-oper:environment-sensors",
    "Cisco-IOS-XE-lldp-oper:lldp-entries",
    "ietf-interfaces:interfaces",
    "ietf-interfaces:interfaces-state",
]
COMMON = ["ietf-yang-library:modules-state", "ietf-restconf-monitoring:restconf-state"]
IETF = ["ietf-interfaces:interfaces", "ietf-system:system", "ietf-system:system-state",
        "ietf-hardware:hardware", "ietf-yang-library:yang-library"]

# What each profile answers: 200 with data, 204 (feature not running) or 404 (model absent).
EXPECTED = {
    "c9300": {p: 200 for p in JOHANN + EXTRA_IOSXE + COMMON},
    "c9300x": {p: 200 for p in JOHANN + EXTRA_IOSXE + COMMON},
    "csr": {**{p: 200 for p in JOHANN + EXTRA_IOSXE + COMMON}, "cisco-smart-license:licensing": 404,
            "Cisco-IOS-XE-environment-oper:environment-sensors": 204,
            "Cisco-IOS-XE-lldp-oper:lldp-entries": 204},
    "gx": {**{p: 404 for p in JOHANN + EXTRA_IOSXE}, **{p: 200 for p in IETF + COMMON}},
}
CASES = [(device, path, status) for device, paths in EXPECTED.items() for path, status in paths.items()]


@pytest.mark.parametrize("device,path,status", CASES, ids=[f"{d}-{p.split(':')[1]}" for d, p, _ in CASES])
def test_every_path_answers_with_target_node_name(lab, device, path, status):
    with lab.client(device) as client:
        reply = client.get(f"/restconf/data/{path}")
    assert reply.status_code == status, reply.text[:300]
    if status == 200:
        assert reply.headers["content-type"] == "application/yang-data+json"
        assert list(reply.json()) == [path]
    elif status == 204:
        assert reply.content == b""
    else:
        error = reply.json()["ietf-restconf:errors"]["error"][0]
        assert (error["error-tag"], error["error-message"]) == ("invalid-value", "uri keypath not found")


def _get(lab, device, path, **params):
    with lab.client(device) as client:
        reply = client.get(f"/restconf/data/{path}", params=params)
    assert reply.status_code == 200, reply.text[:300]
    (value,) = reply.json().values()
    return value


def _parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("device,fraction", [("c9300", r"\.\d{3}\+00:00$"), ("c9300x", r"\.\d{6}\+00:00$"),
                                             ("csr", r":\d\d\+00:00$")])
def test_device_hardware_identity_matches_truth(lab, device, fraction):
    truth = lab.truth(device)
    hw = _get(lab, device, "Cisco-IOS-XE-device-hardware-oper:device-hardware-data")["device-hardware"]
    chassis = next(i for i in hw["device-inventory"] if i["hw-type"] == "hw-type-chassis")
    assert chassis["serial-number"] != truth["serial"]          # padded, as devices pad it
    assert chassis["serial-number"].rstrip() == truth["serial"]
    assert chassis["part-number"].rstrip() == truth["model"]
    system = hw["device-system-data"]
    assert re.search(fraction, system["boot-time"]), system["boot-time"]
    assert _parse_time(system["boot-time"]) == pytest.approx(truth["boot_time"], abs=1)
    assert _parse_time(system["current-time"]) == pytest.approx(truth["now"], abs=1)
    assert system["software-version"].startswith(f"Cisco IOS XE Software, Version {truth['os_version_full']}\n")
    assert ("reload-history" in system) is (device != "csr")


def test_native_identity_and_config(lab):
    truth = lab.truth("c9300")
    native = _get(lab, "c9300", "Cisco-IOS-XE-native:native")
    assert native["hostname"] == truth["hostname"] == "c9300"
    assert native["version"] == truth["os_version"] == "17.9"
    assert [u["privilege"] for u in native["username"]] == [15, 15, 1]
    assert native["ntp"]["Cisco-IOS-XE-ntp:server"]["server-list"][0] == {"ip-address": "10.0.0.123"}
    assert native["spanning-tree"]["Cisco-IOS-XE-spanning-tree:mode"] == "rapid-pvst"
    assert native["iox"] == [None]
    csr = _get(lab, "csr", "Cisco-IOS-XE-native:native")
    assert csr["version"] == "16.12" and "iox" not in csr and "boot" not in csr


def test_interfaces_oper_counters_mixed_encodings_and_values(lab):
    truth = lab.truth("c9300")["interfaces"]
    interfaces = _get(lab, "c9300", "Cisco-IOS-XE-interfaces-oper:interfaces")["interface"]
    assert len(interfaces) == len(truth) == 56
    by_name = {i["name"]: i for i in interfaces}
    for name, t in truth.items():
        stats = by_name[name]["statistics"]
        assert isinstance(stats["in-octets"], str) and int(stats["in-octets"]) == t["counters"]["in-octets"]
        assert isinstance(stats["out-octets"], int) and stats["out-octets"] == t["counters"]["out-octets"] % 2 ** 32
        assert stats["out-octets-64"] == str(t["counters"]["out-octets"])
        assert isinstance(stats["in-errors"], int) and stats["in-errors"] == t["counters"]["in-errors"]
        assert by_name[name]["speed"] == str(t["speed"])
        assert (by_name[name]["oper-status"] == "if-oper-state-ready") is t["oper_up"]
        assert (by_name[name]["admin-status"] == "if-state-up") is t["admin_up"]
    assert by_name["GigabitEthernet0/0"]["description"] == "MANAGEMENT"
    csr = _get(lab, "csr", "Cisco-IOS-XE-interfaces-oper:interfaces")["interface"]
    assert all("description" not in i and "out-octets-64" not in i["statistics"] for i in csr)


def test_ietf_interfaces_legacy_numbers_vs_nmda_strings(lab):
    legacy = _get(lab, "csr", "ietf-interfaces:interfaces-state")["interface"]
    assert isinstance(legacy[0]["statistics"]["in-octets"], int)
    assert legacy[0]["type"] == "iana-if-type:ethernetCsmacd" and legacy[0]["oper-status"] in ("up", "down")
    config_only = _get(lab, "csr", "ietf-interfaces:interfaces")["interface"]
    assert "statistics" not in config_only[0] and "enabled" in config_only[0]
    nmda = _get(lab, "gx", "ietf-interfaces:interfaces")["interface"]
    truth = lab.truth("gx")["interfaces"]
    eth0 = next(i for i in nmda if i["name"] == "eth0")
    assert eth0["statistics"]["in-octets"] == str(truth["eth0"]["counters"]["in-octets"])
    assert eth0["description"] == "management" and eth0["ietf-ip:ipv4"]["address"][0]["ip"] == truth["eth0"]["ipv4"][0]
    assert next(i for i in nmda if i["name"] == "eth7")["admin-status"] == "down"


def test_cpu_memory_environment_values(lab):
    truth = lab.truth("c9300")
    cpu = _get(lab, "c9300", "Cisco-IOS-XE-process-cpu-oper:cpu-usage/cpu-utilization")
    assert {k: cpu[k] for k in ("five-seconds", "one-minute", "five-minutes")} == \
        {k: truth["cpu"][k] for k in ("five-seconds", "one-minute", "five-minutes")}
    assert cpu["cpu-usage-processes"]["cpu-usage-process"][0]["name"] == "Chunk Manager"
    pools = _get(lab, "c9300", "Cisco-IOS-XE-memory-oper:memory-statistics")["memory-statistic"]
    processor = next(p for p in pools if p["name"] == "Processor")
    assert isinstance(processor["total-memory"], str)
    used = int(processor["used-memory"]) / int(processor["total-memory"])
    assert used == pytest.approx(truth["memory_used_fraction"], abs=1e-6)
    sensors = _get(lab, "c9300", "Cisco-IOS-XE-environment-oper:environment-sensors")["environment-sensor"]
    inlet = next(s for s in sensors if s["name"] == "Temp: Inlet")
    assert inlet["sensor-units"] == "celsius" and inlet["low-critical-threshold"] == -5
    assert inlet["state"] == "Normal" and inlet["current-reading"] < inlet["high-normal-threshold"]


def test_platform_software_memory_cpu_and_disk(lab):
    data = _get(lab, "c9300", "Cisco-IOS-XE-platform-software-oper:cisco-platform-software")
    proc = data["control-processes"]["control-process"][0]
    assert proc["memory-stats"]["memory-status"] == "Healthy"
    assert isinstance(proc["memory-stats"]["total"], str) and isinstance(proc["memory-stats"]["used-percent"], int)
    cores = proc["per-core-stats"]["per-core-stat"]
    assert len(cores) == 8 and all(re.fullmatch(r"\d+\.\d\d", c["idle"]) for c in cores)
    part = data["q-filesystem"][0]["partitions"][0]
    assert part["name"] == "bootflash:" and int(part["used-size"]) < int(part["total-size"])


def test_smart_licensing_only_on_17(lab):
    lic = _get(lab, "c9300", "cisco-smart-license:licensing")
    info = lic["state"]["state-info"]
    assert info["udi"] == {"pid": "C9300-48P", "sn": lab.truth("c9300")["serial"]}
    assert info["transport"]["transport-type"] == "transport-type-cslu"
    assert {u["name"] for u in info["usage"]} >= {"dna-advantage"}


def test_neighbours_and_arp(lab):
    cdp = _get(lab, "c9300", "Cisco-IOS-XE-cdp-oper:cdp-neighbor-details")["cdp-neighbor-detail"]
    assert cdp[0]["local-intf-name"] == "TenGigabitEthernet1/1/1" and cdp[0]["platform-name"] == "cisco C9500-24Y4C"
    lldp = _get(lab, "c9300", "Cisco-IOS-XE-lldp-oper:lldp-entries")["lldp-entry"]
    assert [e["device-id"] for e in lldp] == [e["device-name"] for e in cdp]
    arp = _get(lab, "c9300", "Cisco-IOS-XE-arp-oper:arp-data")["arp-vrf"]
    assert {v["vrf"] for v in arp} == {"", "Mgmt-vrf"}
    assert all(re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", e["hardware"]) for v in arp for e in v["arp-oper"])


def test_yang_library_and_capabilities(lab):
    mods = {m["name"]: m for m in _get(lab, "c9300", "ietf-yang-library:modules-state")["module"]}
    assert "cisco-smart-license" in mods and mods["Cisco-IOS-XE-native"]["namespace"] == \
        "http://cisco.com/ns/yang/Cisco-IOS-XE-native"
    csr_mods = {m["name"] for m in _get(lab, "csr", "ietf-yang-library:modules-state")["module"]}
    assert "cisco-smart-license" not in csr_mods and "Cisco-IOS-XE-native" in csr_mods
    caps = _get(lab, "c9300", "ietf-restconf-monitoring:restconf-state/capabilities")["capability"]
    assert "urn:ietf:params:restconf:capability:depth:1.0" in caps
    assert "urn:ietf:params:restconf:capability:fields:1.0" in caps
    assert not any("filter" in c for c in caps)


def test_host_meta_root_and_version(lab):
    with lab.client("c9300") as client:
        meta = client.get("/.well-known/host-meta", headers={"Accept": "application/xrd+xml"})
        version = client.get("/restconf/yang-library-version")
    assert meta.headers["content-type"] == "application/xrd+xml"
    links = ET.fromstring(meta.text).findall("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert [(link.get("rel"), link.get("href")) for link in links] == [("restconf", "/restconf")]
    assert version.json() == {"ietf-restconf:yang-library-version": "2016-06-21"}


def test_generic_host_meta_lists_another_link_first_and_custom_root(lab):
    with lab.client("rooted") as client:
        links = ET.fromstring(client.get("/.well-known/host-meta").text)
        assert [link.get("rel") for link in links] == ["author", "restconf"]
        assert links[1].get("href") == "/rest/restconf"
        assert client.get("/restconf/data/ietf-system:system").status_code == 404
        assert client.get("/rest/restconf/data/ietf-system:system/hostname").json() == \
            {"ietf-system:hostname": "rooted"}


def test_ietf_system_and_hardware(lab):
    truth = lab.truth("gx")
    state = _get(lab, "gx", "ietf-system:system-state")
    assert _parse_time(state["clock"]["boot-datetime"]) == pytest.approx(truth["boot_time"], abs=0.01)
    assert state["platform"]["os-release"] == "4.2.1"
    hw = _get(lab, "gx", "ietf-hardware:hardware")["component"]
    chassis = next(c for c in hw if c["class"] == "iana-hardware:chassis")
    assert chassis["serial-num"] == truth["serial"] and chassis["model-name"] == "GX-2400"
    temp = next(c for c in hw if c["name"] == "temp-cpu")["sensor-data"]
    assert temp["value-type"] == "celsius" and 30 <= temp["value"] <= 50
