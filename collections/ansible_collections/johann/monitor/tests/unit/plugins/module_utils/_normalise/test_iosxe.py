"""IOS XE normaliser cases: padded strings, fallbacks, mixed counter encodings, masked secrets."""
from __future__ import annotations

import datetime as dt

from ansible_collections.johann.monitor.plugins.module_utils._normalise import iosxe
from ansible_collections.johann.monitor.plugins.module_utils._normalise.interfaces import iosxe_interface

NOW = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)


def test_identity_from_padded_inventory_and_times_without_fractions():
    hardware = {"device-hardware": {
        "device-inventory": [{"hw-type": "hw-type-psu", "part-number": "PWR ", "serial-number": "X"},
                             {"hw-type": "hw-type-chassis", "part-number": "C9300-48P     ", "serial-number": "FOC1 "}],
        "device-system-data": {"boot-time": "2026-11-28T12:00:00+00:00", "current-time": "2026-11-29T12:00:00.250+00:00",
                               "software-version": "Cisco IOS XE Software, Version 17.09.04a\nCopyright...",
                               "rommon-version": "17.8.1r  ", "last-reboot-reason": "Reload Command"}}}
    out = iosxe.identity({"native": {"hostname": "sw1", "version": "17.9"}, "hardware": hardware}, {})
    assert (out["model"], out["serial"], out["rommon"]) == ("C9300-48P", "FOC1", "17.8.1r")
    assert out["uptime"] == 86400 and out["os_version_full"] == "17.09.04a" and out["os_version"] == "17.9"
    assert out["boot_time"] == "2026-11-28T12:00:00.000Z" and out["reload_history"] == []


def test_identity_falls_back_to_platform_components():
    components = {"component": [{"cname": "Chassis", "state": {"type": "comp-chassis", "part-no": "CSR1000V",
                                                               "serial-no": "9ABC"}}]}
    out = iosxe.identity({"native": None, "hardware": None, "components": components}, {})
    assert (out["model"], out["serial"], out["hostname"], out["uptime"]) == ("CSR1000V", "9ABC", None, None)


def test_config_masks_snmp_communities_and_finds_the_gateway():
    native = {"hostname": "r1", "username": [{"name": "admin", "privilege": 15}, {"name": "ro"}],
              "ip": {"domain": {"name": "example.net"}, "name-server": ["10.0.0.53"],
                     "route": {"ip-route-interface-forwarding-list": [
                         {"prefix": "0.0.0.0", "mask": "0.0.0.0", "fwd-list": [{"fwd": "10.0.0.1"}]}]}},
              "snmp-server": {"Cisco-IOS-XE-snmp:community-config": [{"name": "s3cr3t-comm", "permission": "rw"}]},
              "boot": {"system": {"flash": {"flash-list-ordered-by-user": [{"flash-leaf": "bootflash:x.bin"}]}}}}
    out = iosxe.config({"native": native}, {})
    assert out["snmp"]["communities"] == [{"name": "********", "permission": "rw"}]
    assert "s3cr3t-comm" not in repr(out)
    assert out["users"] == [{"name": "admin", "privilege": 15}, {"name": "ro", "privilege": None}]
    assert (out["default_gateway"], out["name_servers"], out["boot_files"]) == ("10.0.0.1", ["10.0.0.53"], ["bootflash:x.bin"])
    assert out["iox"] is False and out["spanning_tree_mode"] is None


def test_interface_counters_encodings_and_widths():
    entry = {"name": "GigabitEthernet1", "admin-status": "if-state-up", "oper-status": "if-oper-state-no-pass",
             "last-change": "2026-11-29T11:59:00.000+00:00", "speed": "0", "phys-address": "00:AA:BB:CC:DD:EE",
             "ipv4": "0.0.0.0", "ipv4-subnet-mask": "0.0.0.0",
             "statistics": {"in-octets": "5000000000", "out-octets": 123, "in-errors": 4, "in-errors-64": "4",
                            "rx-kbps": "12", "num-flaps": "3"}}
    out = iosxe_interface(entry, NOW)
    assert out["counters"]["in_octets"] == 5_000_000_000 and out["counters"]["out_octets"] == 123
    assert out["counter_widths"] == {"in_octets": 64, "out_octets": 32, "in_errors": 64}
    assert out["counters"]["in_crc_errors"] is None           # not sent: unknown, not 0
    assert (out["admin_status"], out["oper_status"], out["speed"]) == ("up", "down", None)
    assert out["last_change_seconds_ago"] == 60 and out["mac"] == "00:aa:bb:cc:dd:ee" and out["ipv4"] == []
    assert out["rates"]["in_bps"] == 12000 and out["rates"]["out_bps"] is None and out["flaps"] == 3


def test_descriptions_come_from_native_when_oper_lacks_them():
    raw = {"interfaces": {"interface": [{"name": "GigabitEthernet2"}, {"name": "Loopback0", "description": "oper"}]},
           "native": {"interface": {"GigabitEthernet": [{"name": "2", "description": "WAN"}],
                                    "Loopback": [{"name": 0, "description": "native"}]}}}
    out = iosxe.interfaces(raw, {"now": NOW})
    assert [i["description"] for i in out] == ["WAN", "oper"]


def test_environment_alerts_on_state_or_thresholds():
    data = {"environment-sensor": [
        {"name": "Temp: Inlet", "state": "Normal", "current-reading": 49, "sensor-units": "celsius",
         "high-normal-threshold": 46, "low-normal-threshold": 0},
        {"name": "Fan 1", "state": "Normal", "current-reading": 5400, "sensor-units": "revolutions-per-minute"}]}
    out = iosxe.environment({"environment": data}, {})
    assert [(s["kind"], s["alert"]) for s in out] == [("temperature", True), ("fan", False)]
    assert iosxe.environment({"environment": None}, {}) is None
