"""Generic IETF devices: legacy interfaces-state merged with config, sensor scaling."""
from __future__ import annotations

from ansible_collections.johann.monitor.plugins.module_utils._normalise import ietf


def test_legacy_state_is_merged_with_config():
    raw = {"interfaces": {"interface": [{"name": "eth0", "description": "uplink", "enabled": False,
                                         "ietf-ip:ipv4": {"address": [{"ip": "10.1.1.1", "prefix-length": 24}]}}]},
           "interfaces_state": {"interface": [{"name": "eth0", "oper-status": "lower-layer-down", "speed": 1000000000,
                                               "statistics": {"in-octets": 17, "in-discards": 2}}]}}
    (eth0,) = ietf.interfaces(raw, {"now": None})
    assert (eth0["description"], eth0["admin_status"], eth0["oper_status"]) == ("uplink", "down", "lower_layer_down")
    assert eth0["counters"]["in_octets"] == 17 and eth0["counter_widths"]["in_discards"] == 32
    assert eth0["ipv4"] == [{"address": "10.1.1.1", "netmask": "255.255.255.0", "prefix_length": 24}]


def test_sensor_values_are_scaled():
    hardware = {"component": [{"name": "v1", "class": "iana-hardware:sensor", "parent": "chassis",
                               "sensor-data": {"value": 12050, "value-type": "volts-DC", "value-scale": "milli",
                                               "value-precision": 0, "oper-status": "ok"}},
                              {"name": "t", "class": "iana-hardware:sensor",
                               "sensor-data": {"value": 455, "value-type": "celsius", "value-scale": "units",
                                               "value-precision": 1, "oper-status": "nonoperational"}}]}
    volts, temp = ietf.environment({"hardware": hardware}, {})
    assert (volts["reading"], volts["kind"], volts["alert"]) == (12.05, "voltage", False)
    assert (temp["reading"], temp["alert"]) == (45.5, True)


def test_identity_without_hardware():
    out = ietf.identity({"system": {"hostname": "gx"}, "system_state": {"clock": {
        "boot-datetime": "2026-11-29T10:00:00Z", "current-datetime": "2026-11-29T11:00:00.50Z"}}}, {})
    assert (out["hostname"], out["uptime"], out["serial"], out["vendor"]) == ("gx", 3600, None, None)
