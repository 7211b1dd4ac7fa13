"""Each platform normaliser over what every lab release serves, compared with the lab's truth.

No sockets: the lab's RESTCONF layer answers in-process, the normalisers are pure.
"""
from __future__ import annotations

import pytest
from ansible_collections.johann.monitor.plugins.module_utils._normalise import platforms

from lab.fleet import DeviceSpec, Fleet, build_devices
from lab.model import Clock
from lab.profiles import PROFILES
from lab.truth import device_truth
from tests.lablib import EPOCH
from tests.records import raw_replies, record_at


def _device(profile: str):
    fleet = Fleet([DeviceSpec("dut", profile)], seed=3)
    (device,) = build_devices(fleet, {"username": "u", "password": "p"}, Clock(EPOCH, frozen=True))
    return device


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_release_normalises_to_the_truth(profile):
    device = _device(profile)
    truth = device_truth(device, EPOCH)
    platform = platforms.BY_NAME[truth["platform"]]
    raw = raw_replies(device, platform, EPOCH)
    sections = {s.name: s.build(raw, {"now": None}) for s in platform.sections}
    ident = sections["identity"]
    assert (ident["hostname"], ident["serial"], ident["model"]) == ("dut", truth["serial"], truth["model"])
    assert ident["os_version_full"] == truth["os_version_full"]
    assert abs(ident["uptime"] - truth["uptime"]) <= 1
    interfaces = {i["name"]: i for i in sections["interfaces"]}
    assert set(interfaces) == set(truth["interfaces"])
    for name, t in truth["interfaces"].items():
        got = interfaces[name]
        if t["counters"] is None:   # a model without counters for this interface (NX-OS loopbacks)
            assert set(got["counters"].values()) == {None} and got["counter_widths"] == {}
            continue
        assert got["counters"]["in_octets"] == t["counters"]["in-octets"]
        assert got["counters"]["out_octets"] == t["counters"]["out-octets"] % 2 ** got["counter_widths"]["out_octets"]
        assert got["description"] == t["description"]
        assert (got["oper_status"] == "up") is t["oper_up"]
    if platform.name == "iosxe":
        assert sections["cpu"]["five_seconds"] == truth["cpu"]["five-seconds"]
        assert sections["memory"]["used_percent"] == pytest.approx(100 * truth["memory_used_fraction"], abs=0.06)
        assert (sections["licensing"] is None) is (profile == "iosxe-16.12")
        assert (sections["environment"] is None) is (profile == "iosxe-16.12")


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("reboot", [False, True], ids=["steady", "rebooted"])
def test_rates_between_two_runs_match_the_lab(profile, reboot):
    from ansible_collections.johann.monitor.plugins.module_utils._history import rates, summarise
    device = _device(profile)
    first = summarise(record_at(device, EPOCH))
    if reboot:
        device.reboot(EPOCH + 100, "Power Failure")
    second = summarise(record_at(device, EPOCH + 300))
    result = rates(first, second)
    truth = device_truth(device, EPOCH + 300)["interfaces"]
    assert result["rebooted"] is reboot
    checked = 0
    for name, got in result["interfaces"].items():
        if truth[name]["counters"] is None:   # no counters, no rates (NX-OS loopbacks)
            assert got["in_bps"] is None
            continue
        expected = truth[name]["rates"]
        assert got["in_bps"] is not None and got["in_bps"] >= 0, (name, got)
        assert got["in_bps"] == pytest.approx(expected["in_bps"], rel=0.01, abs=50), name
        assert got["out_bps"] == pytest.approx(expected["out_bps"], rel=0.01, abs=50), name
        checked += expected["in_bps"] > 0
    assert checked >= 4
