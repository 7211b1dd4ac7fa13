"""OpenConfig devices: one table per quirk of what OpenConfig servers send (EOS, NX-OS, the model itself).

Every reply goes through ``unwrap`` first, as device_info does with what a GET returns.
"""
from __future__ import annotations

import base64
import struct

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._normalise import openconfig as oc
from ansible_collections.johann.monitor.plugins.module_utils._normalise import openconfig_interfaces as oc_ifs
from ansible_collections.johann.monitor.plugins.module_utils._normalise import openconfig_values as oc_values
from ansible_collections.johann.monitor.plugins.module_utils._normalise import platforms
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import iso, unwrap

# GET .../interface=Ethernet1/state on EOS, as captured (../shared/VENDORS.md): the state's children, prefixed
EOS_STATE = {
    "openconfig-interfaces:admin-status": "UP",
    "openconfig-interfaces:counters": {"in-broadcast-pkts": "0", "in-discards": "0", "in-errors": "0",
                                       "in-fcs-errors": "0", "in-multicast-pkts": "972", "in-octets": "116602",
                                       "in-unicast-pkts": "131", "out-broadcast-pkts": "1", "out-discards": "0",
                                       "out-errors": "0", "out-multicast-pkts": "1761", "out-octets": "199997",
                                       "out-unicast-pkts": "122"},
    "openconfig-interfaces:description": "restconf_test", "openconfig-interfaces:enabled": True,
    "openconfig-platform-port:hardware-port": "Port1", "openconfig-interfaces:ifindex": 1,
    "arista-intf-augments:inactive": False, "openconfig-interfaces:last-change": "1624966430515012864",
    "openconfig-interfaces:loopback-mode": False, "openconfig-interfaces:mtu": 0,
    "openconfig-interfaces:name": "Ethernet1", "openconfig-interfaces:oper-status": "UP",
    "openconfig-vlan:tpid": "openconfig-vlan-types:TPID_0X8100",
    "openconfig-interfaces:type": "iana-if-type:ethernetCsmacd",
}
ENTRY = {"name": "Ethernet1", "state": {k.split(":")[1] if k.startswith("openconfig-interfaces:") else k: v
                                        for k, v in EOS_STATE.items()}}


def _bare(value):
    """The same tree with every member's module prefix dropped."""
    if isinstance(value, dict):
        return {k.rsplit(":", 1)[-1]: _bare(v) for k, v in value.items()}
    return [_bare(v) for v in value] if isinstance(value, list) else value


def _xmlns(value, ns="http://openconfig.net/yang/interfaces"):
    """The same tree with an ``xmlns`` member in every object, as NX-OS sends OpenConfig."""
    if isinstance(value, dict):
        return {"xmlns": ns, **{k: _xmlns(v, ns) for k, v in value.items()}}
    return [_xmlns(v, ns) for v in value] if isinstance(value, list) else value


INTERFACE_REPLIES = {
    "wrapped (RFC 8040)": {"openconfig-interfaces:interfaces": {"interface": [ENTRY]}},
    "children (EOS)": {"openconfig-interfaces:interface": [ENTRY]},
    "bare names": _bare({"openconfig-interfaces:interfaces": {"interface": [ENTRY]}}),
    "xmlns members (NX-OS)": {"interfaces": _xmlns({"interface": [ENTRY]})},
    "xmlns beside the top member": {"xmlns": "http://openconfig.net/yang/interfaces",
                                    "openconfig-interfaces:interfaces": {"interface": [ENTRY]}},
}


@pytest.mark.parametrize("reply", list(INTERFACE_REPLIES.values()), ids=list(INTERFACE_REPLIES))
def test_interfaces_read_the_same_from_every_reply_shape(reply):
    (eth1,) = oc_ifs.interfaces({"interfaces": unwrap(reply)}, {"now": None})
    assert (eth1["name"], eth1["description"], eth1["type"]) == ("Ethernet1", "restconf_test", "ethernet")
    assert (eth1["admin_status"], eth1["oper_status"], eth1["mtu"]) == ("up", "up", None)   # mtu 0: the default
    assert eth1["counters"]["in_octets"] == 116602 and eth1["counters"]["out_multicast_pkts"] == 1761
    assert eth1["counters"]["in_crc_errors"] == 0 and eth1["counters"]["in_unknown_protos"] is None
    assert eth1["counter_widths"]["in_octets"] == 64 and "in_unknown_protos" not in eth1["counter_widths"]
    assert eth1["last_change"] == "2021-06-29T11:33:50.515Z"
    assert eth1["rates"] == {"in_bps": None, "out_bps": None, "in_pps": None, "out_pps": None}


SYSTEM_STATE = {"hostname": "DC1-LEAF1A", "software-version": "4.30.2F", "boot-time": "1624966430515012864",
                "current-datetime": "2021-06-30T11:33:50Z"}
SYSTEM_REPLIES = {
    "wrapped": {"openconfig-system:state": SYSTEM_STATE},
    "children, prefixed (EOS)": {f"openconfig-system:{k}": v for k, v in SYSTEM_STATE.items()},
    "children, bare": dict(SYSTEM_STATE),
    "the whole system": {"openconfig-system:system": {"config": {"hostname": "x"}, "state": SYSTEM_STATE}},
    "xmlns beside": {"xmlns": "http://openconfig.net/yang/system", "openconfig-system:state": SYSTEM_STATE},
    "boot-time as a number": {"openconfig-system:state": dict(SYSTEM_STATE, **{"boot-time": 1624966430515012864})},
    "times in RFC 3339": {"openconfig-system:state": dict(SYSTEM_STATE, **{
        "boot-time": "2021-06-29T11:33:50.515+00:00", "current-datetime": "2021-06-30T13:33:50+02:00"})},
}


@pytest.mark.parametrize("reply", list(SYSTEM_REPLIES.values()), ids=list(SYSTEM_REPLIES))
def test_identity_from_every_system_state_shape(reply):
    out = oc.identity({"system": unwrap(reply), "components": None}, {})
    assert (out["hostname"], out["os_version"], out["os_version_full"]) == ("DC1-LEAF1A", "4.30", "4.30.2F")
    assert (out["boot_time"], out["current_time"]) == ("2021-06-29T11:33:50.515Z", "2021-06-30T11:33:50.000Z")
    assert out["uptime"] == 86399 and out["platform"] == "openconfig"
    # what neither the reply nor the model has is null, never invented
    assert (out["model"], out["serial"], out["vendor"], out["unsaved_config"]) == (None, None, None, None)
    assert out["reload_history"] == []


@pytest.mark.parametrize("value,expected", [
    ("1624966430515012864", "2021-06-29T11:33:50.515Z"),       # EOS: nanoseconds, a string (uint64)
    (1624966430515012864, "2021-06-29T11:33:50.515Z"),
    ("2021-06-29T11:33:50.515Z", "2021-06-29T11:33:50.515Z"),
    ("2021-06-29T13:33:50+02:00", "2021-06-29T11:33:50.000Z"),
    ("0", None), (0, None),                                     # NX-OS: "last-change": "0" (never)
    ("1624966430", None),                                       # seconds are not timeticks64: unknown, not 1970
    ("9" * 30, None), ("soon", None), (None, None), ({"x": 1}, None),
])
def test_times_in_nanoseconds_or_rfc3339(value, expected):
    assert iso(oc_values.moment(value)) == expected


@pytest.mark.parametrize("identity,bits", [
    ("openconfig-if-ethernet:SPEED_10MB", 10 ** 7), ("openconfig-if-ethernet:SPEED_100MB", 10 ** 8),
    ("openconfig-if-ethernet:SPEED_1GB", 10 ** 9), ("openconfig-if-ethernet:SPEED_2500MB", 25 * 10 ** 8),
    ("openconfig-if-ethernet:SPEED_5GB", 5 * 10 ** 9), ("SPEED_10GB", 10 ** 10),
    ("openconfig-if-ethernet:SPEED_25GB", 25 * 10 ** 9), ("oc-eth:SPEED_40GB", 40 * 10 ** 9),
    ("openconfig-if-ethernet:SPEED_100GB", 10 ** 11), ("openconfig-if-ethernet:SPEED_400GB", 4 * 10 ** 11),
    ("openconfig-if-ethernet:SPEED_UNKNOWN", None), ("", None), (None, None), ("10G", None),
])
def test_speed_identities(identity, bits):
    assert oc_values.speed_bits(identity) == bits


@pytest.mark.parametrize("ether,speed", [
    ({"negotiated-port-speed": "openconfig-if-ethernet:SPEED_10GB", "port-speed": "openconfig-if-ethernet:SPEED_25GB"},
     10 ** 10),                                                  # what was negotiated wins
    ({"negotiated-port-speed": "openconfig-if-ethernet:SPEED_UNKNOWN",
      "port-speed": "openconfig-if-ethernet:SPEED_25GB"}, 25 * 10 ** 9),   # a down port: its configured speed
    ({"effective-speed": 1000}, 10 ** 9),                        # Mbps, where a model has it
    ({}, None),
])
def test_speed_of_an_interface(ether, speed):
    entry = {"name": "Ethernet1", "state": {"name": "Ethernet1"}, "openconfig-if-ethernet:ethernet": {"state": ether}}
    assert oc_ifs.interface(entry, None)["speed"] == speed


@pytest.mark.parametrize("counters", [{"in-octets": "18446744073709551615", "in-errors": "3"},
                                      {"in-octets": 18446744073709551615, "in-errors": 3}], ids=["strings", "numbers"])
def test_uint64_as_strings_or_numbers(counters):
    out = oc_ifs.interface({"name": "e", "state": {"counters": counters}}, None)
    assert (out["counters"]["in_octets"], out["counters"]["in_errors"]) == (2 ** 64 - 1, 3)


def test_crc_from_the_ethernet_counters_when_the_interface_has_no_fcs_errors():
    entry = {"name": "e", "state": {"counters": {"in-octets": "5"}},
             "openconfig-if-ethernet:ethernet": {"state": {"counters": {"in-crc-errors": "7"}}}}
    assert oc_ifs.interface(entry, None)["counters"]["in_crc_errors"] == 7


def test_addresses_flaps_and_clear_time():
    sub = {"index": 0,
           "openconfig-if-ip:ipv4": {"addresses": {"address": [
               {"ip": "10.0.0.0", "state": {"ip": "10.0.0.0", "prefix-length": 31}}]}},
           "openconfig-if-ip:ipv6": {"addresses": {"address": [
               {"ip": "2001:db8::1", "config": {"ip": "2001:db8::1", "prefix-length": 64}}]}}}
    entry = {"name": "Ethernet49/1", "subinterfaces": {"subinterface": [sub]},
             "state": {"counters": {"carrier-transitions": "4", "last-clear": "1700000000000000000"}}}
    out = oc_ifs.interface(entry, None)
    assert out["ipv4"] == [{"address": "10.0.0.0", "netmask": "255.255.255.254", "prefix_length": 31}]
    assert out["ipv6"] == ["2001:db8::1"] and out["flaps"] == 4
    assert out["discontinuity_time"] == "2023-11-14T22:13:20.000Z"


# NX-OS 9.3(3)'s OpenConfig components (VENDORS.md): xmlns members, bare names, types without a prefix,
# a CPU component without a type
NXOS_COMPONENTS = {"components": {"xmlns": "http://openconfig.net/yang/platform", "component": [
    {"name": "1", "state": {"name": "N9K-X9364v", "memory": {"available": "16802381824", "utilized": "4281335808"},
                            "serial-no": "9ZOFUQ9AWGP", "software-version": "9.3(3)", "type": "LINECARD"}},
    {"name": "cpu0", "cpu": {"utilization": {"xmlns": "http://openconfig.net/yang/platform/cpu",
                                             "state": {"avg": 3, "instant": 3, "max": 6, "min": 2}}}}]}}


def test_nxos_components_with_xmlns_members():
    raw = {"components": unwrap(NXOS_COMPONENTS), "cpus": None}
    mem = oc.memory(raw, {})
    assert (mem["total"], mem["used"], mem["free"], mem["used_percent"]) == (16802381824, 4281335808, 12521046016, 25.5)
    assert mem["status"] is None and mem["pools"][0]["name"] == "1"
    load = oc.cpu(raw, {})
    assert (load["five_seconds"], load["one_minute"], load["five_minutes"]) == (3, None, None)   # no interval given
    assert (load["average"], load["average_seconds"]) == (3, None)   # an average over a span it does not say


EOS_CPU = {"openconfig-platform:component": [
    {"name": "CPU0", "state": {"type": "openconfig-platform-types:CPU"},
     "cpu": {"openconfig-platform-cpu:utilization": {"state": {
         "avg": 17, "instant": 16, "interval": "1000000000000", "max": 25, "min": 12}}}}]}


@pytest.mark.parametrize("interval,one,five,seconds", [
    ("60000000000", 17, None, 60), ("300000000000", None, 17, 300), ("1000000000000", None, None, 1000),
    (30000000000, None, None, 30), (None, None, None, None), ("0", None, None, None)])
def test_cpu_average_counts_only_over_its_own_interval(interval, one, five, seconds):
    components = unwrap(EOS_CPU)
    components[0]["cpu"]["openconfig-platform-cpu:utilization"]["state"]["interval"] = interval
    load = oc.cpu({"components": components, "cpus": None}, {})
    assert (load["five_seconds"], load["one_minute"], load["five_minutes"]) == (16, one, five)
    assert (load["average"], load["average_seconds"]) == (17, seconds)   # the device's own average, always
    assert load["per_core"] == [] and load["five_seconds_interrupt"] is None


def _cpu_component(name: str, avg, interval) -> dict:
    state = {"avg": avg, "instant": 10, "interval": interval}
    return {"name": name, "state": {"type": "openconfig-platform-types:CPU"},
            "cpu": {"openconfig-platform-cpu:utilization": {"state": state}}}


@pytest.mark.parametrize("cores,average,seconds", [
    ([("CPU0", 20, "1000000000000"), ("CPU1", 31, "1000000000000")], 26, 1000),   # the cores' mean
    ([("CPU0", 20, "1000000000000"), ("CPU1", None, None)], 20, 1000),             # a core without one
    ([("CPU0", 20, "1000000000000"), ("CPU1", 31, 1000000000000)], 26, 1000),      # one as a number
    ([("CPU0", 20, "60000000000"), ("CPU1", 31, "300000000000")], None, None),     # no shared interval
])
def test_cores_average_over_the_interval_they_share(cores, average, seconds):
    components = {"openconfig-platform:component": [_cpu_component(*core) for core in cores]}
    load = oc.cpu({"components": unwrap(components), "cpus": None}, {})
    assert (load["average"], load["average_seconds"], load["five_seconds"]) == (average, seconds, 10)


def test_system_cpus_cores_without_the_whole_give_their_mean():
    totals = [{"instant": 10, "avg": 12, "interval": "300000000000"},
              {"instant": 20, "avg": 14, "interval": "300000000000"}]
    cpus = {"openconfig-system:cpu": [
        {"index": n, "state": {"index": n, "total": total, "user": {"instant": 5}, "kernel": {"instant": 5},
                               "idle": {"instant": 90}}} for n, total in enumerate(totals)]}
    load = oc.cpu({"cpus": unwrap(cpus), "components": {"component": []}}, {})
    assert (load["five_seconds"], load["average"], load["average_seconds"], load["five_minutes"]) == (15, 13, 300, 13)
    assert [c["name"] for c in load["per_core"]] == ["0", "1"]


def test_system_cpus_give_the_whole_and_each_core():
    cpus = {"openconfig-system:cpu": [
        {"index": "ALL", "state": {"index": "ALL", "total": {"instant": 20, "avg": 11, "interval": "300000000000"},
                                   "user": {"instant": 13}, "kernel": {"instant": 7}, "idle": {"instant": 80}}},
        {"index": 0, "state": {"index": 0, "total": {"instant": 30}, "user": {"instant": "20"},
                               "kernel": {"instant": 10}, "idle": {"instant": 70}}}]}
    load = oc.cpu({"cpus": unwrap(cpus), "components": unwrap(EOS_CPU)}, {})
    assert (load["five_seconds"], load["five_minutes"], load["user"], load["system"], load["idle"]) == \
        (20, 11, 13.0, 7.0, 80.0)
    assert (load["one_minute"], load["average"], load["average_seconds"]) == (None, 11, 300)
    assert load["per_core"] == [{"name": "0", "user": 20.0, "system": 10.0, "idle": 70.0}]


def test_no_cpu_and_no_memory_is_null():
    raw = {"components": {"component": [{"name": "Chassis", "state": {"type": "CHASSIS"}}]}, "cpus": None}
    assert oc.cpu(raw, {}) is None and oc.memory(raw, {}) is None


@pytest.mark.parametrize("chassis,vendor,software", [
    ({"part-no": "DCS-7050SX3-48YC8"}, "Arista", "EOS 4.30.2F"),                     # EOS: no mfg-name
    ({"part-no": "DCS-7050SX3-48YC8", "mfg-name": "Arista Networks"}, "Arista Networks", "EOS 4.30.2F"),
    ({"part-no": "S5248F-ON", "mfg-name": "Dell EMC"}, "Dell EMC", "4.30.2F"),       # another vendor: generic
    ({"part-no": "X-1"}, None, "4.30.2F"),
])
def test_vendor_from_mfg_name_else_the_vendor_table(chassis, vendor, software):
    components = {"component": [{"name": "Chassis", "state": dict(chassis, type="openconfig-platform-types:CHASSIS",
                                                                  **{"serial-no": "JPE1"})}]}
    out = oc.identity({"system": {"software-version": "4.30.2F"}, "components": components}, {})
    assert (out["vendor"], out["software_version"], out["model"], out["serial"]) == \
        (vendor, software, chassis["part-no"], "JPE1")


def test_operating_system_component_names_the_software():
    components = {"component": [{"name": "SONiC", "state": {"type": "OPERATING_SYSTEM", "description": "SONiC-OS",
                                                            "software-version": "4.2.0"}}]}
    out = oc.identity({"system": {}, "components": components}, {})
    assert (out["software_version"], out["os_version"]) == ("SONiC-OS 4.2.0", "4.2")


def _float32(value: float) -> str:
    return base64.b64encode(struct.pack(">f", value)).decode()


def test_environment_temperatures_power_supplies_and_fans():
    components = {"component": [
        {"name": "TempSensor1", "state": {"type": "SENSOR", "description": "Cpu temp sensor", "parent": "Chassis",
                                          "temperature": {"instant": "91.5", "alarm-status": True,
                                                          "alarm-threshold": 90,
                                                          "alarm-severity": "openconfig-alarm-types:CRITICAL"}}},
        {"name": "TempSensor2", "state": {"type": "SENSOR", "temperature": {"instant": 40, "alarm-status": False}}},
        {"name": "PowerSupply1", "state": {"type": "POWER_SUPPLY", "oper-status": "openconfig-platform-types:ACTIVE"},
         "power-supply": {"state": {"openconfig-platform-psu:output-power": _float32(120.5),
                                    "openconfig-platform-psu:capacity": 500}}},   # ieeefloat32: base64 or number
        {"name": "PowerSupply2", "state": {"type": "POWER_SUPPLY", "empty": True},
         "power-supply": {"state": {"enabled": False}}},
        {"name": "Fan1", "state": {"type": "FAN", "oper-status": "ACTIVE", "location": "Fan tray 1"},
         "fan": {"state": {"openconfig-platform-fan:speed": 6100},
                 "thresholds": {"threshold": [{"severity": "CRITICAL", "state": {
                     "severity": "openconfig-alarm-types:CRITICAL", "lower": 1000, "upper": 20000}}]}}}]}
    hot, cool, psu1, psu2, fan = oc.environment({"components": components}, {})
    assert (hot["name"], hot["location"], hot["reading"], hot["state"], hot["alert"]) == \
        ("TempSensor1 (Cpu temp sensor)", "Chassis", 91.5, "critical", True)
    assert hot["thresholds"]["high_critical"] == 90 and hot["thresholds"]["high_normal"] is None
    assert (cool["state"], cool["state_class"], cool["alert"]) == ("normal", "normal", False)
    assert (psu1["kind"], psu1["reading"], psu1["state_class"], psu1["thresholds"]["high_critical"]) == \
        ("power", 120.5, "normal", 500)
    assert (psu2["reading"], psu2["state"], psu2["state_class"], psu2["alert"]) == (None, "disabled", "inactive", False)
    assert (fan["kind"], fan["reading"], fan["location"]) == ("fan", 6100, "Fan tray 1")
    assert (fan["thresholds"]["low_critical"], fan["thresholds"]["high_critical"]) == (1000, 20000)


def test_float32_values():
    assert [oc_values.float32(v) for v in (_float32(12.25), "12.25", 12, "AAAA", "not base64!", None)] == \
        [12.25, 12.25, 12, None, None, None]


def test_lldp_neighbours():
    lldp = {"openconfig-lldp:interface": [
        {"name": "Ethernet49/1", "neighbors": {"neighbor": [{"id": "1", "state": {
            "system-name": "spine-1", "port-id": "Ethernet7/1", "system-description": "Arista Networks EOS",
            "chassis-id": "00:1c:73:00:00:01"},
            "management-addresses": {"management-address": [{"address": "10.0.0.9", "state": {"address": "10.0.0.9"}}]},
            "capabilities": {"capability": [
                {"name": "openconfig-lldp-types:MAC_BRIDGE",
                 "state": {"name": "openconfig-lldp-types:MAC_BRIDGE", "enabled": True}},
                {"name": "openconfig-lldp-types:ROUTER",
                 "state": {"name": "openconfig-lldp-types:ROUTER", "enabled": False}}]}}]}},
        {"name": "Ethernet1"}]}
    out = oc_ifs.neighbors({"lldp": unwrap(lldp)}, {})
    assert out == {"cdp": [], "lldp": [{"device": "spine-1", "local_interface": "Ethernet49/1",
                                        "remote_interface": "Ethernet7/1", "platform": "Arista Networks EOS",
                                        "address": "10.0.0.9", "capabilities": ["bridge"]}]}


def test_arp_from_the_ipv4_neighbours_of_subinterfaces():
    interfaces = {"interface": [{"name": "Ethernet1", "subinterfaces": {"subinterface": [
        {"index": 0, "openconfig-if-ip:ipv4": {"neighbors": {"neighbor": [
            {"ip": "10.0.0.1", "state": {"ip": "10.0.0.1", "link-layer-address": "44:4C:A8:00:00:01",
                                         "origin": "DYNAMIC"}}]}}},
        {"index": "10", "ipv4": {"neighbors": {"neighbor": [
            {"ip": "10.1.0.1", "state": {"ip": "10.1.0.1", "link-layer-address": "44:4c:a8:00:00:02",
                                         "origin": "STATIC"}}]}}}]}}]}
    assert oc_ifs.arp({"interfaces": interfaces}, {}) == [
        {"vrf": None, "address": "10.0.0.1", "mac": "44:4c:a8:00:00:01", "interface": "Ethernet1", "type": "dynamic"},
        {"vrf": None, "address": "10.1.0.1", "mac": "44:4c:a8:00:00:02", "interface": "Ethernet1.10", "type": "static"}]


def test_absent_resources_give_no_section_value():
    raw = dict.fromkeys(r.key for r in oc.RESOURCES)
    assert [s.build(raw, {}) for s in oc.PLATFORM.sections if s.name != "identity"] == [None] * 7


SYSTEM_CONFIG = {"config": {"hostname": "leaf1", "domain-name": "example.net"},
                 "aaa": {"authentication": {"users": {"user": [
                     {"username": "admin", "config": {"username": "admin", "password-hashed": "$6$x", "role": "r"}}]}}},
                 "dns": {"servers": {"server": [{"address": "10.0.0.53", "config": {"address": "10.0.0.53"}}]}},
                 "ntp": {"servers": {"server": [{"address": "ntp.example.net"}]}}}


@pytest.mark.parametrize("reply", [{"openconfig-system:system": SYSTEM_CONFIG},
                                   {f"openconfig-system:{k}": v for k, v in SYSTEM_CONFIG.items()},
                                   _bare(SYSTEM_CONFIG)], ids=["wrapped", "children (EOS)", "bare"])
def test_configuration_summary_from_openconfig_system(reply):
    out = oc.config({"system_config": unwrap(reply)}, {})
    assert out == {"users": [{"name": "admin", "privilege": None}], "domain": "example.net", "default_gateway": None,
                   "name_servers": ["10.0.0.53"], "ntp_servers": ["ntp.example.net"], "snmp": None,
                   "spanning_tree_mode": None, "iox": None, "boot_files": []}


def test_every_section_says_what_the_model_cannot_fill():
    notes = {s.name: s.note for s in oc.PLATFORM.sections}
    assert "reload_history, unsaved_config: not in the OpenConfig model" in notes["identity"]
    assert "five_seconds_interrupt: not in the OpenConfig model" in notes["cpu"]
    assert notes["neighbors"] == "cdp: not in the OpenConfig model"
    assert all(notes.values())


EOS_MODULES = {"openconfig-interfaces", "openconfig-platform", "openconfig-system", "openconfig-lldp",
               "arista-intf-augments", "ietf-yang-library"}


@pytest.mark.parametrize("modules,family", [
    (EOS_MODULES, "openconfig"),
    (EOS_MODULES | {"Cisco-IOS-XE-native", "ietf-interfaces"}, "iosxe"),   # IOS XE has OpenConfig models too
    (EOS_MODULES | {"ietf-interfaces"}, "openconfig"),
    ({"openconfig-interfaces", "ietf-interfaces"}, "ietf"),                # no openconfig-platform: not this family
])
def test_detection_order(modules, family):
    assert platforms.detect(modules).name == family
