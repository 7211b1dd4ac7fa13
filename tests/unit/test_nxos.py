"""Cisco NX-OS: a table for each quirk of its RESTCONF agent, the normaliser's readers, and the lab's answers.

No sockets but the client's mock transport: the lab's RESTCONF layer answers in-process.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import pytest
from ansible_collections.johann.monitor.plugins.module_utils import _device_info
from ansible_collections.johann.monitor.plugins.module_utils._normalise import nxos, platforms
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import member, unwrap
from ansible_collections.johann.monitor.plugins.module_utils._restconf.client import (
    ACCEPT_JSON,
    ClientSettings,
    RestconfClient,
)

from lab import restconf
from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock
from lab.profiles.nxos import NXOS

EPOCH = 1795000000.0
DOTTED = "application/yang.data+json"


@pytest.mark.parametrize("value,seconds", [
    ("12:03:04:05.000", ((12 * 24 + 3) * 60 + 4) * 60 + 5),   # DME systemUpTime: days:hh:mm:ss.ms
    ("0:00:05:32", 332),
    ("123:1:2:3.999", ((123 * 24 + 1) * 60 + 2) * 60 + 3),
    ("6 day(s), 0 hour(s), 27 minute(s), 38 second(s)", 6 * 86400 + 27 * 60 + 38),   # kernelUptime, show version
    ("3600", 3600), (86400, 86400),
    ("", None), (None, None), ("soon", None), ("12:03", None),
])
def test_uptime_formats(value, seconds):
    assert nxos.uptime_seconds(value) == seconds


@pytest.mark.parametrize("value,bps", [
    ("25G", 25_000_000_000), ("100G", 100_000_000_000), ("1G", 1_000_000_000), ("100M", 100_000_000),
    ("10g", 10_000_000_000), ("400G", 400_000_000_000), ("2.5G", 2_500_000_000),
    ("auto", None), ("inherit", None), ("unknown", None), ("", None), (None, None), ("10000", None),
])
def test_oper_speed_words(value, bps):
    assert nxos.speed_bps(value) == bps


@pytest.mark.parametrize("value,name", [
    ("eth1/1", "Ethernet1/1"), ("eth1/49/2", "Ethernet1/49/2"), ("Eth1/7", "Ethernet1/7"), ("lo0", "loopback0"),
    ("po10", "port-channel10"), ("vlan20", "Vlan20"), ("mgmt0", "mgmt0"), ("Ethernet1/1", "Ethernet1/1"),
    ("ethernet", "ethernet"), (None, None),
])
def test_dme_interface_ids_become_cli_names(value, name):
    assert nxos.if_name(value) == name


@pytest.mark.parametrize("value,mac", [
    ("00:3A:9C:12:34:56", "00:3a:9c:12:34:56"), ("003a.9c12.3456", "00:3a:9c:12:34:56"),
    ("00-3a-9c-12-34-56", "00:3a:9c:12:34:56"), ("00:00:00:00:00:00", None), ("", None), ("not a mac", None),
])
def test_mac_spellings(value, mac):
    assert nxos.mac(value) == mac


@pytest.mark.parametrize("value,moment", [
    ("2024-05-01T10:20:30.123+00:00", dt.datetime(2024, 5, 1, 10, 20, 30, 123000, dt.UTC)),
    ("2026-04-23T15:25:31.290-04:00", dt.datetime(2026, 4, 23, 19, 25, 31, 290000, dt.UTC)),
    ("1970-01-01T00:00:00.000+00:00", None),   # DME's "never changed"
    ("never", None), (None, None),
])
def test_last_change_times(value, moment):
    assert nxos.changed_at(value) == moment


def test_bare_names_and_xmlns_members_are_read_like_qualified_ones():
    assert unwrap({"PhysIf-list": [{"id": "eth1/1"}]}) == [{"id": "eth1/1"}]
    assert unwrap({"xmlns": "http://openconfig.net/yang/platform", "components": {"component": []}}) == \
        {"component": []}
    assert unwrap({"name": "n9k"}) == "n9k"
    assert unwrap({"xmlns": "x"}) == {"xmlns": "x"}   # nothing but the namespace: left as it is
    oc = {"xmlns": "http://openconfig.net/yang/platform", "component": [
        {"name": "Fan1", "fan": {"xmlns": "http://openconfig.net/yang/platform/fan", "state": {"speed": "6120"}}}]}
    assert member(oc, "component")[0]["fan"]["state"]["speed"] == "6120"
    assert member({"openconfig-platform:components": oc}, "components", "xmlns") == oc["xmlns"]


def test_detected_before_openconfig_and_ietf():
    modules = {"Cisco-NX-OS-device", "openconfig-interfaces", "openconfig-platform", "ietf-interfaces"}
    assert platforms.detect(modules).name == "nxos"
    assert platforms.detect({"ietf-interfaces"}).name == "ietf"
    names = [p.name for p in platforms.PLATFORMS]
    assert names.index("nxos") < names.index("ietf")


def test_identity_from_bare_leaf_replies_with_strings_everywhere():
    raw = {"name": "n9k-01", "serial": "FDO21120U8N", "uptime": "1:02:03:04.500", "clock": "2026-11-18T11:06:40.250+00:00",
           "model": "N9K-C93180YC-FX", "version": {"nxosVersion": "10.3(4a) [Maintenance Release]",
                                                   "biosVersion": "05.47", "lastResetReason": "Reset by installer"}}
    out = nxos.identity(raw, {})
    assert (out["hostname"], out["model"], out["serial"]) == ("n9k-01", "N9K-C93180YC-FX", "FDO21120U8N")
    assert (out["os_version"], out["os_version_full"]) == ("10.3", "10.3(4a)")
    assert out["uptime"] == 93784 and out["current_time"] == "2026-11-18T11:06:40.250Z"
    assert out["boot_time"] == "2026-11-17T09:03:36.250Z"
    assert (out["rommon"], out["last_reboot_reason"], out["reload_history"], out["unsaved_config"]) == \
        ("05.47", "Reset by installer", [], None)


def test_identity_without_clock_or_serial_leaves_them_unknown():
    out = nxos.identity({"name": "n9k", "version": {"nxosVersion": "9.3(3)", "procBoardId": "FDO1"}}, {})
    assert (out["serial"], out["os_version"], out["uptime"], out["boot_time"], out["current_time"]) == \
        ("FDO1", "9.3", None, None, None)


@pytest.mark.parametrize("data,expected", [
    ({"user": "3.21", "kernel": "1.84", "idle": "94.95"}, (5, 3.21, 1.84, 94.95)),
    ({"user": 12, "kernel": 8, "idle": 80}, (20, 12.0, 8.0, 80.0)),
    ({"user": "x"}, (None, None, None, None)),
])
def test_cpu_summary(data, expected):
    out = nxos.cpu({"cpu": data}, {})
    assert (out["five_seconds"], out["user"], out["system"], out["idle"]) == expected
    assert (out["one_minute"], out["five_minutes"], out["per_core"]) == (None, None, [])
    assert (out["average"], out["average_seconds"]) == (None, None)   # one current reading, no average


def test_memory_in_kilobytes_as_strings():
    out = nxos.memory({"memory": {"total": "24632224", "used": "10347528", "free": "14284696"}}, {})
    assert (out["total"], out["used"], out["free"]) == (24632224 * 1024, 10347528 * 1024, 14284696 * 1024)
    assert out["used_percent"] == 42.0 and out["status"] is None
    assert nxos.memory({"memory": None}, {}) is None


def test_interface_entry_counters_as_strings_and_oper_child():
    phys = {"PhysIf-list": [{
        "id": "eth1/7", "descr": "", "adminSt": "up", "mtu": 9216,
        "phys-items": {"operSt": "link-up", "operSpeed": "10G", "operDuplex": "full", "backplaneMac": "00:3A:9C:00:00:07",
                       "lastLinkStChg": "2026-11-18T10:06:40.000+00:00"},
        "dbgIfIn-items": {"octets": "18446744073709551615", "ucastPkts": "12", "errors": "3", "octetRate": "125"},
        "dbgIfOut-items": {"octets": "7", "discards": "0"}}]}
    now = dt.datetime(2026, 11, 18, 11, 6, 40, tzinfo=dt.UTC)
    (entry,) = nxos.interfaces({"phys": phys}, {"now": now})
    assert (entry["name"], entry["description"], entry["oper_status"], entry["speed"]) == \
        ("Ethernet1/7", None, "dormant", 10_000_000_000)
    assert entry["counters"]["in_octets"] == 2 ** 64 - 1 and entry["counters"]["in_crc_errors"] is None
    assert entry["counter_widths"] == {"in_octets": 64, "in_unicast_pkts": 64, "in_errors": 64, "out_octets": 64,
                                       "out_discards": 64}
    assert entry["rates"]["in_bps"] == 1000 and entry["last_change_seconds_ago"] == 3600
    assert (entry["mac"], entry["mtu"], entry["duplex"]) == ("00:3a:9c:00:00:07", 9216, "full")


def test_addresses_give_vrf_and_prefix():
    addresses = {"Dom-list": [{"name": "management", "if-items": {"If-list": [
        {"id": "mgmt0", "addr-items": {"Addr-list": [{"addr": "10.9.0.5/24"}]}}]}}]}
    mgmt = {"MgmtIf-list": [{"id": "mgmt0", "adminSt": "up", "mgmt-items": {"operSt": "up"}}]}
    (entry,) = nxos.interfaces({"phys": {"PhysIf-list": []}, "mgmt": mgmt, "addresses": addresses}, {})
    assert entry["vrf"] == "management"
    assert entry["ipv4"] == [{"address": "10.9.0.5", "netmask": "255.255.255.0", "prefix_length": 24}]
    assert nxos.interfaces({"phys": None}, {}) is None


def test_sensors_native_thresholds_and_openconfig_fans_with_xmlns():
    sensors = {"SupCSlot-list": [{"id": 1, "sensor-items": {"Sensor-list": [
        {"id": 1, "descr": "FRONT", "tempValue": "75", "minorThresh": 70, "majorThresh": 80, "operSt": "minor"}]}}]}
    components = {"xmlns": "http://openconfig.net/yang/platform", "component": [
        {"name": "Fan1", "state": {"type": "openconfig-platform-types:FAN", "oper-status": "ACTIVE"},
         "fan": {"xmlns": "http://openconfig.net/yang/platform/fan", "state": {"speed": 6120}}},
        {"name": "PowerSupply-2", "state": {"type": "POWER_SUPPLY", "oper-status": "INACTIVE"},
         "power-supply": {"xmlns": "http://openconfig.net/yang/platform/psu", "state": {"output-power": "0.00"}}},
        {"name": "cpu0", "cpu": {"utilization": {"xmlns": "x", "state": {"instant": 3}}}}]}
    front, fan, psu = nxos.environment({"sensors": sensors, "components": components}, {})
    assert (front["name"], front["location"], front["reading"], front["state_class"], front["alert"]) == \
        ("FRONT", "module 1", 75.0, "warning", True)
    assert front["thresholds"] == {"low_critical": None, "low_normal": None, "high_normal": 70.0, "high_critical": 80.0}
    assert (fan["kind"], fan["reading"], fan["state_class"], fan["alert"]) == ("fan", 6120.0, "normal", False)
    assert (psu["kind"], psu["reading"], psu["state_class"], psu["alert"]) == ("power", 0.0, "inactive", False)
    assert nxos.environment({"sensors": None, "components": components}, {}) is None


def test_neighbours_and_arp_from_adjacency_lists():
    lldp = {"If-list": [{"id": "eth1/49", "adj-items": {"AdjEp-list": [
        {"id": 1, "sysName": "spine-1", "portIdV": "Ethernet1/11", "mgmtIp": "10.0.0.1", "capability": "router,bridge"}]}},
        {"id": "eth1/1"}]}
    cdp = {"If-list": [{"id": "eth1/49", "adj-items": {"AdjEp-list": [
        {"index": 1, "devId": "spine-1(FDO1)", "portId": "Ethernet1/11", "platId": "N9K-C9336C-FX2",
         "cap": "router,switch", "mgmtaddr-items": {"MgmtAddr-list": [{"addr": "10.0.0.1"}]}}]}}]}
    out = nxos.neighbors({"lldp": lldp, "cdp": cdp}, {})
    assert out["lldp"] == [{"device": "spine-1", "local_interface": "Ethernet1/49", "remote_interface": "Ethernet1/11",
                            "platform": None, "address": "10.0.0.1", "capabilities": ["bridge", "router"]}]
    assert out["cdp"][0]["device"] == "spine-1(FDO1)" and out["cdp"][0]["address"] == "10.0.0.1"
    arp = {"Dom-list": [{"name": "management", "db-items": {"Db-list": [{"type": "ip", "adj-items": {"AdjEp-list": [
        {"ip": "10.9.0.1", "mac": "5254.0000.0001", "ifId": "mgmt0"}]}}]}}]}
    assert nxos.arp({"arp": arp}, {}) == [{"vrf": "management", "address": "10.9.0.1", "mac": "52:54:00:00:00:01",
                                           "interface": "mgmt0", "type": None}]


# ---------------------------------------------------------------- the client and the collector
def _client_run(handler, coro):
    async def main():
        settings = ClientSettings(host="192.0.2.9", username="u", password="p", root="/restconf", retries=0)
        async with RestconfClient(settings, transport=httpx.MockTransport(handler)) as client:
            return await coro(client)
    return asyncio.run(main())


def test_the_client_asks_for_both_media_types_rfc_8040_first():
    seen = []

    def handler(request):
        seen.append(request.headers["accept"])
        return httpx.Response(200, content=b'{"name":"n9k"}', headers={"Content-Type": DOTTED})

    reply = _client_run(handler, lambda c: c.get("Cisco-NX-OS-device:System/name"))
    assert reply.data == {"name": "n9k"} and seen == [ACCEPT_JSON]
    assert ACCEPT_JSON.startswith("application/yang-data+json,") and DOTTED in ACCEPT_JSON
    assert restconf.acceptable(ACCEPT_JSON, NXOS.accept_types)


def test_204_is_absent_with_what_it_means_on_nxos():
    resource = nxos.PLATFORM.resource("lldp")

    async def fetch(client):
        return await _device_info._fetch(client, resource, nxos.PLATFORM.no_content)

    outcome = _client_run(lambda request: httpx.Response(204), fetch)
    assert outcome.status == "absent" and outcome.data is None
    assert outcome.message == f"no data on {resource.path} (204: NX-OS answers 204 No Content for a resource it does " \
                              "not have: not configured, feature off, or not in this release)"


def test_a_library_answering_204_falls_back_to_capability_modules():
    caps = {"capabilities": {"capability": [
        "urn:ietf:params:restconf:capability:depth:1.0",
        "http://cisco.com/ns/yang/cisco-nx-os-device?module=Cisco-NX-OS-device&revision=2023-08-18",
        "http://openconfig.net/yang/platform?revision=2019-04-16&module=openconfig-platform"]}}
    asked = []

    def handler(request):
        asked.append(request.url.path.rsplit("/", 1)[-1])
        if request.url.path.endswith("capabilities"):
            return httpx.Response(200, content=json.dumps(caps).encode(), headers={"Content-Type": DOTTED})
        return httpx.Response(204)

    modules = _client_run(handler, _device_info.probe_modules)
    assert modules == {"Cisco-NX-OS-device", "openconfig-platform"}
    assert asked == ["ietf-yang-library:modules-state", "ietf-yang-library:yang-library", "capabilities"]


# ---------------------------------------------------------------- the lab's nxos answers, in-process
@pytest.fixture(scope="module")
def device():
    fleet = Fleet([DeviceSpec("dut", "nxos")], seed=3)
    (dut,) = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    return dut


def _served(device, path, accept=DOTTED, **query):
    return restconf.served(device, "/restconf/data/" + path, query, EPOCH, accept)


@pytest.mark.parametrize("accept,status", [
    (DOTTED, 200), ("application/yang.data+xml", 200), (ACCEPT_JSON, 200),
    ("application/yang-data+json", 406), ("application/json", 406), ("*/*", 406), (None, 406),
])
def test_lab_accept_header_must_name_the_dotted_type(device, accept, status):
    got, body = _served(device, "Cisco-NX-OS-device:System/name", accept)
    assert got == status
    if status == 406:
        assert "application/yang.data+json" in body.decode()


@pytest.mark.parametrize("path", [
    "Cisco-IOS-XE-native:native", "ietf-interfaces:interfaces", "openconfig-interfaces:interfaces",
    "Cisco-NX-OS-device:System/nope-items", "Cisco-NX-OS-device:System/intf-items/phys-items/PhysIf-list=eth9%2F99",
])
def test_lab_missing_resources_are_204_not_404(device, path):
    assert _served(device, path) == (204, b"")


def test_lab_replies_are_named_by_bare_node_names(device):
    status, body = _served(device, "Cisco-NX-OS-device:System/intf-items/phys-items/PhysIf-list=eth1%2F1")
    (entry,) = json.loads(body)["PhysIf-list"]
    assert status == 200 and entry["id"] == "eth1/1" and isinstance(entry["dbgIfIn-items"]["octets"], str)
    assert list(json.loads(_served(device, "Cisco-NX-OS-device:System")[1])) == ["System"]
    assert list(json.loads(_served(device, "ietf-yang-library:modules-state")[1])) == ["modules-state"]
    components = json.loads(_served(device, "openconfig-platform:components")[1])["components"]
    assert components["xmlns"] == "http://openconfig.net/yang/platform"
    fan = next(c for c in components["component"] if c.get("state", {}).get("type") == "FAN")
    assert fan["fan"]["xmlns"] == "http://openconfig.net/yang/platform/fan"


def test_lab_library_and_capabilities_name_the_native_model(device):
    modules = json.loads(_served(device, "ietf-yang-library:modules-state")[1])["modules-state"]["module"]
    names = {m["name"]: m for m in modules}
    assert names["Cisco-NX-OS-device"]["namespace"] == "http://cisco.com/ns/yang/cisco-nx-os-device"
    assert "openconfig-platform" in names
    caps = json.loads(_served(device, "ietf-restconf-monitoring:restconf-state/capabilities")[1])
    assert _device_info._capability_modules(unwrap(caps)) >= {"Cisco-NX-OS-device", "openconfig-platform"}


def _section(device, name, at):
    raw = {r.key: restconf.get_json(device, r.path, r.params, at)[1] for r in nxos.PLATFORM.resources}
    return next(s for s in nxos.PLATFORM.sections if s.name == name).build(raw, {"now": None})


def test_lab_state_lives_counters_grow_cpu_memory_and_temperatures_move(device):
    before, after = _section(device, "interfaces", EPOCH), _section(device, "interfaces", EPOCH + 600)
    uplink = [i for i in before if i["name"] == "Ethernet1/49"][0]
    later = [i for i in after if i["name"] == "Ethernet1/49"][0]
    grown = later["counters"]["in_octets"] - uplink["counters"]["in_octets"]
    assert grown == pytest.approx(uplink["rates"]["in_bps"] / 8 * 600, rel=0.001)
    cpus = {_section(device, "cpu", EPOCH + 60 * n)["idle"] for n in range(6)}
    memory = {_section(device, "memory", EPOCH + 600 * n)["used"] for n in range(4)}
    temperatures = {_section(device, "environment", EPOCH + 60 * n)[0]["reading"] for n in range(10)}
    assert len(cpus) > 3 and len(memory) > 2 and len(temperatures) > 1


def test_lab_reboot_resets_counters_and_uptime():
    fleet = Fleet([DeviceSpec("rebooted", "nxos")], seed=4)
    (dut,) = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    dut.reboot(EPOCH - 120, "Reset Requested by CLI command reload")
    identity = _section(dut, "identity", EPOCH)
    assert identity["uptime"] == 120 and identity["last_reboot_reason"] == "Reset Requested by CLI command reload"
    eth = next(i for i in _section(dut, "interfaces", EPOCH) if i["name"] == "mgmt0")
    assert eth["counters"]["in_octets"] == pytest.approx(eth["rates"]["in_bps"] / 8 * 120, rel=0.01)
