"""The OpenConfig family over what the lab's EOS profile serves, in process: every field equals the truth
(tests/openconfig_truth.py, which tests/integration/test_openconfig.py holds device_info's record to as well).
"""
from __future__ import annotations

import json

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._alerts import evaluate
from ansible_collections.johann.monitor.plugins.module_utils._normalise import openconfig, platforms
from ansible_collections.johann.monitor.plugins.module_utils._normalise.common import parse_time

from lab import restconf
from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock
from lab.profiles import PROFILES
from lab.truth import device_truth
from tests.openconfig_truth import assert_record_is_truth

EPOCH = 1795000000.0


def _device(name: str = "dut", **faults):
    fleet = Fleet([DeviceSpec(name, "eos", faults)], seed=3)
    (device,) = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    return device


def _record(device, at: float = EPOCH) -> dict:
    """What device_info builds, section by section, from the lab's replies (unwrapped as the client does)."""
    raw = {r.key: restconf.get_json(device, r.path, r.params, at)[1] for r in openconfig.RESOURCES}
    ctx: dict = {"now": None}
    record = {}
    for section in openconfig.PLATFORM.sections:
        record[section.name] = section.build(raw, ctx)
        if section.name == "identity":
            ctx["now"] = parse_time(record["identity"]["current_time"])
    return record


# ---------------------------------------------------------------- tests
def test_the_lab_eos_switch_normalises_to_its_truth():
    device = _device()
    assert_record_is_truth(_record(device), device_truth(device, EPOCH))


def test_every_interface_kind_is_there():
    names = list(device_truth(_device(), EPOCH)["interfaces"])
    assert names[:2] == ["Ethernet1", "Ethernet2"] and names[-2:] == ["Management1", "Loopback0"]
    assert len([n for n in names if n.startswith("Ethernet")]) == 56 and "Ethernet49/1" in names


def test_detected_from_its_yang_library():
    assert platforms.detect(PROFILES["eos"].module_names()).name == "openconfig"


@pytest.mark.parametrize("later", [60, 1800, 91800])
def test_living_state_moves_and_stays_true(later):
    """Counters grow, CPU, memory and temperatures move, and the record follows the truth at each moment."""
    device = _device()
    before, after = _record(device), _record(device, EPOCH + later)
    assert_record_is_truth(after, device_truth(device, EPOCH + later))
    uplink = [next(i for i in r["interfaces"] if i["name"] == "Ethernet49/1") for r in (before, after)]
    assert uplink[1]["counters"]["in_octets"] > uplink[0]["counters"]["in_octets"]
    assert after["identity"]["uptime"] - before["identity"]["uptime"] == later
    if later >= 3600:
        assert after["memory"]["used"] != before["memory"]["used"]
        assert [s["reading"] for s in after["environment"]] != [s["reading"] for s in before["environment"]]


def test_a_reboot_moves_the_boot_time_and_resets_the_counters():
    device = _device()
    device.reboot(EPOCH + 100, "Power Failure")
    record = _record(device, EPOCH + 400)
    assert_record_is_truth(record, device_truth(device, EPOCH + 400))
    assert record["identity"]["uptime"] == 300
    assert all(i["counters"]["in_octets"] <= 300 * 2e10 / 8 for i in record["interfaces"])


def test_faults_show_in_what_is_served():
    hot, hostile = _record(_device(overheat=True, high_memory=True)), _record(_device("evil", hostile=True))
    alarms = [s["name"] for s in hot["environment"] if s["state"] == "critical"]
    assert "TempSensor4 (Front-panel temp sensor)" in alarms and hot["memory"]["used_percent"] >= 90
    assert hostile["identity"]["hostname"] == "<script>window.__johann_xss=1</script>"
    assert "window.__johann_xss=3" in hostile["neighbors"]["lldp"][0]["device"]
    assert "window.__johann_xss=2" in hostile["interfaces"][0]["description"]


def test_high_cpu_alerts_on_the_devices_own_average():
    """EOS averages CPU over 1000 s only (no 1- or 5-minute figure): that average is what alerts."""
    device = _device(high_cpu=True)
    record, truth = _record(device), device_truth(device, EPOCH)
    assert_record_is_truth(record, truth)
    assert record["cpu"]["average"] == truth["cpu"]["avg"] >= 80 and record["cpu"]["average_seconds"] == 1000
    (alert,) = [a for a in evaluate(record) if a["kind"] == "cpu"]
    assert alert["message"].startswith(f"CPU {truth['cpu']['avg']}% over the device's 1000 s average (threshold ")
    assert not [a for a in evaluate(_record(_device())) if a["kind"] == "cpu"]


# ---------------------------------------------------------------- the wire shapes EOS is known for
def _served(device, path: str, **query) -> tuple[int, dict]:
    status, body = restconf.served(device, "/restconf/data/" + path, query, EPOCH, "application/yang-data+json")
    return status, json.loads(body) if body else None


def test_a_get_of_state_answers_its_children_each_prefixed():
    device = _device()
    status, state = _served(device, "openconfig-interfaces:interfaces/interface=Ethernet49%2F1/state")
    truth = device_truth(device, EPOCH)["interfaces"]["Ethernet49/1"]
    assert status == 200 and "openconfig-interfaces:state" not in state
    assert state["openconfig-interfaces:admin-status"] == "UP" and state["arista-intf-augments:inactive"] is False
    assert state["openconfig-interfaces:counters"]["in-octets"] == str(truth["counters"]["in-octets"])   # uint64
    assert state["openconfig-interfaces:last-change"] == str(round(truth["last_change_epoch"] * 1e6) * 1000)
    assert isinstance(state["openconfig-interfaces:ifindex"], int) and state["openconfig-interfaces:mtu"] == 9214
    _, config = _served(device, "openconfig-system:system/config")
    assert config == {"openconfig-system:hostname": "dut", "openconfig-system:domain-name": "lab.johann.test"}
    _, top = _served(device, "openconfig-interfaces:interfaces")
    assert list(top) == ["openconfig-interfaces:interface"] and len(top["openconfig-interfaces:interface"]) == 58


def test_leaves_lists_and_filters_keep_the_standard_shape():
    device = _device()
    assert _served(device, "openconfig-interfaces:interfaces/interface=Ethernet1/state/oper-status") == \
        (200, {"openconfig-interfaces:oper-status": "DOWN"})
    status, cpus = _served(device, "openconfig-system:system/cpus/cpu")
    assert status == 200 and [c["index"] for c in cpus["openconfig-system:cpu"]] == ["ALL", 0, 1, 2, 3]
    _, config = _served(device, "openconfig-interfaces:interfaces/interface=Management1", content="config")
    assert "openconfig-interfaces:state" not in config and config["openconfig-interfaces:config"]["mtu"] == 0
    assert _served(device, "Cisco-IOS-XE-native:native")[0] == 404


def test_components_as_eos_sends_them():
    device = _device()
    _, reply = _served(device, "openconfig-platform:components")
    components = {c["name"]: c for c in reply["openconfig-platform:component"]}
    chassis = components["Chassis"]["state"]
    assert "mfg-name" not in chassis and chassis["part-no"] == "DCS-7050SX3-48YC8"
    assert chassis["memory"]["available"] == "8123456512" and isinstance(chassis["memory"]["utilized"], str)
    util = components["CPU0"]["cpu"]["openconfig-platform-cpu:utilization"]["state"]
    assert util["interval"] == "1000000000000" and isinstance(util["instant"], int)
    assert isinstance(components["TempSensor1"]["state"]["temperature"]["instant"], float)


def test_configuration_writes_show_in_state_and_truth():
    device = _device()
    for path, body in (("openconfig-interfaces:interfaces/interface=Ethernet2/config",
                        {"openconfig-interfaces:config": {"description": "to db-9", "enabled": False}}),
                       ("openconfig-system:system/config", {"openconfig-system:config": {"hostname": "leaf9"}})):
        request = restconf.Request("PATCH", "/restconf/data/" + path, [], None, "application/yang-data+json",
                                   json.dumps(body).encode())
        assert restconf.dispatch(device, request, EPOCH).status == 204
    record, truth = _record(device), device_truth(device, EPOCH)
    assert_record_is_truth(record, truth)
    ethernet2 = next(i for i in record["interfaces"] if i["name"] == "Ethernet2")
    assert (ethernet2["description"], ethernet2["admin_status"], record["identity"]["hostname"]) == \
        ("to db-9", "down", "leaf9")
    state = restconf.Request("PATCH", "/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet2/state", [],
                             None, "application/yang-data+json", b'{"openconfig-interfaces:state": {"mtu": 9000}}')
    assert restconf.dispatch(device, state, EPOCH).status == 400   # operational data is read-only
