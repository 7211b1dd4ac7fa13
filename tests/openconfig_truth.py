"""An OpenConfig (the lab's EOS profile) record against the lab's ground truth, every field.

What the in-process unit test (tests/unit/test_openconfig.py) and the test through device_info
(tests/integration/test_openconfig.py) hold a record to.
"""
from __future__ import annotations

import datetime as dt

import pytest

CAPABILITIES = {"MAC_BRIDGE": "bridge", "ROUTER": "router"}


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _identity(ident: dict, truth: dict) -> None:
    assert (ident["hostname"], ident["vendor"], ident["platform"]) == (truth["hostname"], "Arista", "openconfig")
    assert (ident["model"], ident["serial"]) == (truth["model"], truth["serial"])
    assert (ident["os_version"], ident["os_version_full"], ident["software_version"]) == \
        (truth["os_version"], truth["os_version_full"], truth["software_version"])
    assert _epoch(ident["boot_time"]) == pytest.approx(truth["boot_time"], abs=0.001)
    assert _epoch(ident["current_time"]) == pytest.approx(truth["now"], abs=1)
    assert abs(ident["uptime"] - truth["uptime"]) <= 1
    # not in the OpenConfig model, or not sent by EOS: null (the section's message says so)
    assert (ident["rommon"], ident["last_reboot_reason"], ident["unsaved_config"], ident["reload_history"]) == \
        (None, None, None, [])


def _cpu_memory(record: dict, truth: dict) -> None:
    cpu, t = record["cpu"], truth["cpu"]
    assert (cpu["five_seconds"], cpu["user"], cpu["system"], cpu["idle"]) == \
        (t["instant"], t["user"], t["system"], t["idle"])
    assert t["interval"] == 1000 and (cpu["one_minute"], cpu["five_minutes"]) == (None, None)   # over 1000 s
    assert (cpu["average"], cpu["average_seconds"]) == (t["avg"], t["interval"])
    assert cpu["per_core"] == t["per_core"] and cpu["five_seconds_interrupt"] is None
    memory, m = record["memory"], truth["memory"]
    assert (memory["total"], memory["used"], memory["free"]) == (m["total"], m["used"], m["free"])
    assert memory["used_percent"] == round(100 * m["used"] / m["total"], 1)
    assert memory["used_percent"] == pytest.approx(100 * truth["memory_used_fraction"], abs=0.06)


def _environment(sensors: list[dict], truth: list[dict]) -> None:
    names = [f"{t['name']} ({t['description']})" if t["description"] else t["name"] for t in truth]
    assert [s["name"] for s in sensors] == names
    for got, t in zip(sensors, truth, strict=True):
        assert (got["kind"], got["reading"], got["unit"], got["location"]) == \
            (t["kind"], t["reading"], t["unit"], "Chassis")
        assert [got["thresholds"][k] for k in ("low_critical", "low_normal", "high_normal", "high_critical")] == \
            list(t["thresholds"])
        assert got["state"] == ("critical" if t["alarm"] else "normal" if t["kind"] == "temperature" else "active")
        assert got["alert"] is t["alarm"]


def _interface(got: dict, t: dict) -> None:
    assert (got["admin_status"] == "up", got["oper_status"] == "up") == (t["admin_up"], t["oper_up"])
    assert (got["description"], got["mtu"], got["speed"], got["mac"]) == \
        (t["description"], t["mtu"] or None, t["speed"] or None, t["mac"])
    assert got["ipv4"] == ([{"address": t["ipv4"][0], "netmask": t["ipv4"][1],
                             "prefix_length": sum(bin(int(o)).count("1") for o in t["ipv4"][1].split("."))}]
                           if t["ipv4"] else [])
    assert got["ipv6"] == t["ipv6"] and got["flaps"] == t["flaps"]
    assert _epoch(got["last_change"]) == pytest.approx(t["last_change_epoch"], abs=0.001)
    expected = {k.replace("-", "_"): v for k, v in t["counters"].items() if k != "in-unknown-protos"}
    assert {k: got["counters"][k] for k in expected} == expected
    assert got["counters"]["in_unknown_protos"] is None   # EOS does not send it
    assert set(got["counter_widths"].values()) == {64}


def _config(config: dict, truth: dict) -> None:
    system = truth["config"]["openconfig-system:system"]
    assert config == {
        "users": [{"name": u["username"], "privilege": None} for u in system["aaa"]["authentication"]["users"]["user"]],
        "domain": system["config"]["domain-name"], "default_gateway": None,
        "name_servers": [s["address"] for s in system["dns"]["servers"]["server"]],
        "ntp_servers": [s["address"] for s in system["ntp"]["servers"]["server"]],
        "snmp": None, "spanning_tree_mode": None, "iox": None, "boot_files": []}


def assert_record_is_truth(record: dict, truth: dict) -> None:
    """Every field of an EOS record against the lab's ground truth."""
    _identity(record["identity"], truth)
    _config(record["config"], truth)
    _cpu_memory(record, truth)
    _environment(record["environment"], truth["environment"])
    interfaces = {i["name"]: i for i in record["interfaces"]}
    assert list(interfaces) == list(truth["interfaces"])
    for name, t in truth["interfaces"].items():
        _interface(interfaces[name], t)
    lldp = [{"device": n["device"], "local_interface": n["local_interface"], "remote_interface": n["remote_interface"],
             "platform": n["platform"], "address": n["address"],
             "capabilities": sorted(CAPABILITIES[c] for c in n["capabilities"])} for n in truth["lldp"]]
    assert record["neighbors"] == {"cdp": [], "lldp": lldp}
    assert record["arp"] == [dict(e, vrf=None) for e in truth["arp"]]
