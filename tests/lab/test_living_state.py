"""State that moves: counters at their rates, wraps, flaps, CPU drift, reboots, determinism."""
from __future__ import annotations

import datetime as dt

from tests.conftest import EPOCH, subnet
from tests.lablib import ROOT, start_lab

STATS = "/restconf/data/Cisco-IOS-XE-interfaces-oper:interfaces/interface={}/statistics"


def _stats(lab, device, name):
    with lab.client(device) as client:
        (value,) = client.get(STATS.format(name.replace("/", "%2F"))).json().values()
    return value


def test_counters_grow_at_the_published_rate(lab):
    name = "TenGigabitEthernet1/1/1"
    rate = lab.truth("c9300")["interfaces"][name]["rates"]["in_octets_per_s"]
    before = _stats(lab, "c9300", name)
    lab.advance(60)
    after = _stats(lab, "c9300", name)
    delta = int(after["in-octets"]) - int(before["in-octets"])
    assert abs(delta - rate * 60) <= 1
    assert int(after["in-octets"]) > int(before["in-octets"])


def test_32bit_counter_wraps_while_64bit_keeps_counting(lab):
    name = "TenGigabitEthernet1/1/1"
    truth = lab.truth("c9300")["interfaces"][name]
    seconds = 2 ** 32 / truth["rates"]["out_octets_per_s"] * 1.5   # long enough to wrap once at least
    before = _stats(lab, "c9300", name)
    lab.advance(seconds)
    after = _stats(lab, "c9300", name)
    grown = int(after["out-octets-64"]) - int(before["out-octets-64"])
    assert grown > 2 ** 32
    assert after["out-octets"] == int(after["out-octets-64"]) % 2 ** 32 < 2 ** 32


def test_cpu_drifts_with_time(lab):
    seen = set()
    for _ in range(6):
        seen.add(lab.truth("csr")["cpu"]["five-seconds"])
        lab.advance(37)
    assert len(seen) > 1


def test_flapping_interface_changes_state_and_counts_flaps(lab):
    truth = lab.truth("c9300")["interfaces"]["GigabitEthernet1/0/5"]
    assert truth["flap_period"] == 600
    states, flaps = set(), []
    for _ in range(60):   # 60 x 11 s covers more than one 600 s flap window
        t = lab.truth("c9300")["interfaces"]["GigabitEthernet1/0/5"]
        states.add(t["oper_up"])
        flaps.append(t["flaps"])
        lab.advance(11)
    assert states == {True, False}
    assert flaps == sorted(flaps) and flaps[-1] > flaps[0]


def test_reboot_resets_counters_and_records_the_reload(lab):
    name = "GigabitEthernet1"
    before = _stats(lab, "rebooter", name)
    old_boot = lab.truth("rebooter")["boot_time"]
    lab.admin("POST", "/devices/rebooter/reboot", json={"reason": "Power Failure"})
    lab.advance(120)
    after = _stats(lab, "rebooter", name)
    truth = lab.truth("rebooter")
    assert truth["boot_time"] > old_boot and truth["uptime"] == 120
    assert int(after["in-octets"]) < int(before["in-octets"])
    assert int(after["in-octets"]) == truth["interfaces"][name]["counters"]["in-octets"]
    with lab.client("rebooter") as client:
        system = client.get("/restconf/data/Cisco-IOS-XE-device-hardware-oper:device-hardware-data/"
                            "device-hardware/device-system-data").json()
    system = system["Cisco-IOS-XE-device-hardware-oper:device-system-data"]
    assert system["last-reboot-reason"] == "Power Failure"
    assert dt.datetime.fromisoformat(system["boot-time"]).timestamp() == int(truth["boot_time"])


def test_same_seed_and_epoch_serve_the_same_bytes(lab, tmp_path):
    """A second lab process with the same fleet and clock serves identical documents."""
    now = lab.admin("GET", "/clock").json()["now"]
    twin = start_lab(ROOT / "tests/lab/fleet.yml", tmp_path, "--epoch", str(EPOCH), "--frozen",
                     "--network", subnet(100))
    try:
        for path in ("Cisco-IOS-XE-interfaces-oper:interfaces", "Cisco-IOS-XE-process-cpu-oper:cpu-usage",
                     "Cisco-IOS-XE-device-hardware-oper:device-hardware-data"):
            ours = lab.admin("GET", "/devices/c9300x/served", params={"path": "/restconf/data/" + path,
                                                                       "at": now}).json()
            theirs = twin.admin("GET", "/devices/c9300x/served", params={"path": "/restconf/data/" + path,
                                                                          "at": now}).json()
            assert ours["status"] == 200 and ours == theirs
    finally:
        assert twin.stop() == 0
