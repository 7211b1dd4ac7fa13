"""A Catalyst 9300's environment sensors as a real one sends them: some without thresholds, one shut."""
from __future__ import annotations

import pytest

from lab import restconf
from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock
from tests.conftest import EPOCH

ENVIRONMENT = "/restconf/data/Cisco-IOS-XE-environment-oper:environment-sensors"
NO_THRESHOLDS = {"low-critical-threshold": 0, "low-normal-threshold": 0, "high-normal-threshold": 0,
                 "high-critical-threshold": 0}


def _sensors(lab, name: str) -> dict[str, dict]:
    with lab.client(name) as client:
        reply = client.get(ENVIRONMENT)
    assert reply.status_code == 200
    return {s["name"]: s for s in reply.json()["Cisco-IOS-XE-environment-oper:environment-sensors"]
            ["environment-sensor"]}


@pytest.mark.parametrize("name", ["c9300", "c9300x"])   # iosxe-17 and iosxe-17.12 share the sensors
def test_fans_without_thresholds_and_a_shut_power_supply(lab, name):
    sensors = _sensors(lab, name)
    fans = [s for s in sensors.values() if s["sensor-units"] == "rpm"]
    assert [f["name"] for f in fans] == ["FAN1", "FAN2", "FAN3"]
    for fan in fans:
        assert fan["state"] == "Norm" and 5000 < fan["current-reading"] < 7000 and fan["location"] == "Switch 1"
        assert {k: fan[k] for k in NO_THRESHOLDS} == NO_THRESHOLDS
    ps2 = sensors["PS2 Power In"]
    assert (ps2["state"], ps2["current-reading"], ps2["sensor-units"]) == ("Shut", 0, "watts")
    assert {k: ps2[k] for k in NO_THRESHOLDS} == NO_THRESHOLDS
    # the sensors with thresholds are still there, as before
    assert sensors["Temp: Inlet"]["high-normal-threshold"] == 46 and sensors["Fan 1"]["low-normal-threshold"] == 3000
    assert sensors["PS1 Power In"]["state"] == "Normal" and len(sensors) == 11


def test_truth_gives_the_same_sensors_with_all_zero_thresholds_as_none(lab):
    served = _sensors(lab, "c9300")
    truth = {s["name"]: s for s in lab.truth("c9300")["environment"]}
    assert set(truth) == set(served)
    for name, sensor in truth.items():
        assert (sensor["reading"], sensor["state"], sensor["units"]) == \
            (served[name]["current-reading"], served[name]["state"], served[name]["sensor-units"])
    assert truth["FAN1"]["thresholds"] == dict.fromkeys(("low_critical", "low_normal", "high_normal", "high_critical"))
    assert truth["Temp: Inlet"]["thresholds"]["high_normal"] == 46
    assert lab.truth("csr")["environment"] is None   # 16.12 answers 204 for the environment


def test_overheat_still_heats_the_inlet_and_leaves_the_new_sensors_alone():
    def environment(faults: dict) -> dict[str, dict]:
        (device,) = build_devices(Fleet([DeviceSpec("dut", "iosxe-17", faults)], seed=3),
                                  {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
        status, value = restconf.get_json(device, ENVIRONMENT.removeprefix("/restconf/data/"), {}, EPOCH)
        assert status == 200
        return {s["name"]: s for s in value["environment-sensor"]}

    cool, hot = environment({}), environment({"overheat": True})
    assert cool["Temp: Inlet"]["state"] == "Normal" and hot["Temp: Inlet"]["state"] in ("Warning", "Critical")
    assert hot["Temp: Inlet"]["current-reading"] > hot["Temp: Inlet"]["high-normal-threshold"]
    for name in ("FAN1", "FAN2", "FAN3", "PS2 Power In"):
        assert hot[name] == cool[name]
