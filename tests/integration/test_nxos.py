"""Cisco NX-OS against the lab's nxos device: device_info equal to the ground truth, the agent's quirks on the
wire, the generic faults, the report, and what stock ansible.netcommon restconf_get makes of it.
"""
from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from tests.conftest import subnet
from tests.integration.conftest import fleet_read, run_playbook
from tests.lablib import ROOT

DOTTED = "application/yang.data+json"
BOTH = f"application/yang-data+json, {DOTTED};q=0.9"   # what johann.monitor's client sends: either type


def _epoch(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def record(device_info_run):
    return device_info_run["results"]["nxos"]["device"]


@pytest.fixture(scope="module")
def truth(lab, record):
    """The truth at the instant the device answered (its own clock), whatever the lab clock did since."""
    at = _epoch(record["identity"]["current_time"])
    return lab.admin("GET", "/devices/nxos/truth", params={"at": at}).json()


def test_record_is_ok_and_read_as_nxos(record):
    assert (record["status"], record["message"], record["platform"]) == ("ok", None, "nxos")
    statuses = {name: s["status"] for name, s in record["sections"].items()}
    assert statuses == {"identity": "ok", "config": "absent", "cpu": "ok", "memory": "ok", "storage": "absent",
                        "interfaces": "ok", "environment": "ok", "neighbors": "ok", "arp": "ok", "licensing": "absent"}
    assert record["sections"]["config"]["message"] == "not available from nxos models"
    assert "no counters for loopbacks" in record["sections"]["interfaces"]["message"]


def test_identity_equals_truth(record, truth):
    ident = record["identity"]
    assert (ident["hostname"], ident["vendor"], ident["platform"]) == ("nxos", "Cisco", "nxos")
    assert (ident["model"], ident["serial"]) == (truth["model"], truth["serial"]) == ("N9K-C93180YC-FX", truth["serial"])
    assert (ident["os_version"], ident["os_version_full"]) == (truth["os_version"], truth["os_version_full"]) == \
        ("10.3", "10.3(4a)")
    assert ident["software_version"] == "Cisco NX-OS Software, Version 10.3(4a)"
    assert ident["uptime"] == int(truth["uptime"])
    assert _epoch(ident["current_time"]) == truth["now"]
    assert _epoch(ident["boot_time"]) == pytest.approx(truth["boot_time"], abs=1.0)
    assert (ident["rommon"], ident["last_reboot_reason"]) == (truth["bios"], truth["last_reboot_reason"])
    assert (ident["reload_history"], ident["unsaved_config"]) == ([], None)


def test_cpu_and_memory_equal_truth(record, truth):
    cpu, cpu_truth = record["cpu"], truth["cpu"]
    assert (cpu["user"], cpu["system"], cpu["idle"]) == (cpu_truth["user"], cpu_truth["kernel"], cpu_truth["idle"])
    assert cpu["five_seconds"] == cpu_truth["five-seconds"]
    assert (cpu["one_minute"], cpu["five_minutes"], cpu["per_core"]) == (None, None, [])
    assert (cpu["average"], cpu["average_seconds"]) == (None, None)
    memory, kb = record["memory"], truth["memory_kb"]
    assert (memory["total"], memory["used"], memory["free"]) == (kb["total"] * 1024, kb["used"] * 1024,
                                                                kb["free"] * 1024)
    assert memory["used_percent"] == pytest.approx(100 * truth["memory_used_fraction"], abs=0.06)


COUNTERS = {"in_octets": "in-octets", "out_octets": "out-octets", "in_unicast_pkts": "in-unicast-pkts",
            "out_unicast_pkts": "out-unicast-pkts", "in_multicast_pkts": "in-multicast-pkts",
            "in_broadcast_pkts": "in-broadcast-pkts", "out_multicast_pkts": "out-multicast-pkts",
            "out_broadcast_pkts": "out-broadcast-pkts", "in_errors": "in-errors", "in_discards": "in-discards",
            "out_errors": "out-errors", "out_discards": "out-discards", "in_crc_errors": "in-crc-errors",
            "in_unknown_protos": "in-unknown-protos"}


def test_interfaces_equal_truth_field_by_field(record, truth):
    interfaces = {i["name"]: i for i in record["interfaces"]}
    assert list(interfaces)[:2] == ["mgmt0", "Ethernet1/1"] and len(interfaces) == 56
    assert set(interfaces) == set(truth["interfaces"])
    for name, t in truth["interfaces"].items():
        got = interfaces[name]
        assert (got["admin_status"] == "up") is t["admin_up"], name
        assert (got["oper_status"] == "up") is t["oper_up"], name
        assert got["description"] == t["description"], name
        assert (got["mac"], got["mtu"], got["speed"]) == (t["mac"], t["mtu"], t["speed"] or None), name
        assert [a["address"] for a in got["ipv4"]] == ([t["ipv4"][0]] if t["ipv4"] else []), name
        if t["counters"] is None:   # loopbacks: no counters in the native model
            assert set(got["counters"].values()) == {None} and got["type"] == "loopback"
            continue
        assert {k: got["counters"][k] for k in COUNTERS} == {k: t["counters"][v] for k, v in COUNTERS.items()}, name
        assert set(got["counter_widths"].values()) == {64}
        assert _epoch(got["last_change"]) == pytest.approx(t["last_change_epoch"], abs=0.001), name
        assert got["rates"]["in_bps"] == pytest.approx(t["rates"]["in_bps"], abs=8), name
        assert got["rates"]["in_pps"] == int(t["rates"]["in_pkts_per_s"]), name
    assert interfaces["mgmt0"]["vrf"] == "management" and interfaces["Ethernet1/49"]["vrf"] is None
    assert interfaces["Ethernet1/49"]["ipv4"][0]["prefix_length"] == 31


def test_environment_equals_truth(record, truth):
    got = {s["name"]: s for s in record["environment"]}
    assert list(got) == [s["name"] for s in truth["environment"]]
    for t in truth["environment"]:
        sensor = got[t["name"]]
        assert (sensor["reading"], sensor["unit"], sensor["state"], sensor["location"]) == \
            (t["reading"], t["units"], t["state"], t["location"]), t["name"]
        limits = t["thresholds"] or dict.fromkeys(("low_critical", "low_normal", "high_normal", "high_critical"))
        assert sensor["thresholds"] == limits, t["name"]
        assert sensor["alert"] is False
    assert [s["kind"] for s in record["environment"]].count("fan") == 4
    assert got["PowerSupply-2"]["state_class"] == "inactive" and got["FRONT"]["state_class"] == "normal"


def test_neighbours_and_arp_equal_truth(record, truth):
    for proto in ("lldp", "cdp"):
        got = [{k: n[k] for k in ("device", "local_interface", "remote_interface", "address")}
               for n in record["neighbors"][proto]]
        assert got == [{k: n[k] for k in ("device", "local_interface", "remote_interface", "address")}
                       for n in truth["neighbors"][proto]]
    assert [n["platform"] for n in record["neighbors"]["cdp"]] == [n["platform"] for n in truth["neighbors"]["cdp"]]
    assert [{k: e[k] for k in ("vrf", "address", "mac", "interface")} for e in record["arp"]] == truth["arp"]


# ---------------------------------------------------------------- the wire
@pytest.mark.parametrize("accept,status", [("application/yang-data+json", 406), (DOTTED, 200), (BOTH, 200)])
def test_accept_header_decides(lab, accept, status):
    with lab.client("nxos", headers={"Accept": accept}) as client:
        reply = client.get("/restconf/data/Cisco-NX-OS-device:System/name")
    assert reply.status_code == status and reply.headers["content-type"] == DOTTED
    if status == 200:
        assert reply.json() == {"name": "nxos"}
    else:
        assert "application/yang.data+json" in reply.json()["ietf-restconf:errors"]["error"][0]["error-message"]


def test_missing_is_204_and_replies_are_bare(lab):
    with lab.client("nxos", headers={"Accept": BOTH}) as client:
        missing = client.get("/restconf/data/Cisco-IOS-XE-native:native")
        entry = client.get("/restconf/data/Cisco-NX-OS-device:System/intf-items/phys-items/PhysIf-list=eth1%2F49")
        unauthorised = client.get("/restconf/data/Cisco-NX-OS-device:System/name", auth=("johann", "wrong"))
    assert (missing.status_code, missing.content) == (204, b"")
    assert list(entry.json()) == ["PhysIf-list"] and entry.json()["PhysIf-list"][0]["id"] == "eth1/49"
    assert unauthorised.status_code == 401 and unauthorised.headers["content-type"] == DOTTED


# ---------------------------------------------------------------- faults, on a lab of their own
FAULTY = {"groups": [
    {"profile": "nxos", "name": "nxhot", "faults": {"overheat": True, "high_cpu": True, "high_memory": True}},
    {"profile": "nxos", "name": "nxbadpass", "faults": {"wrong_credentials": True}},
    {"profile": "nxos", "name": "nxerr", "faults": {"error_paths": ["supslot-items"]}},
    {"profile": "nxos", "name": "nxoff", "faults": {"restconf_disabled": True}},
    {"profile": "nxos", "name": "nxbroken", "faults": {"malformed_json": ["syscpusummary-items"]}},
    {"profile": "nxos", "name": "nxevil", "faults": {"hostile": True}},
]}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """device_info's record of each faulty device, read with ansible-playbook on a lab of their own."""
    with fleet_read(FAULTY, tmp_path_factory.mktemp("nxos-faults"), subnet(220)) as (_lab, results):
        yield {host: result["device"] for host, result in results.items()}


@pytest.mark.parametrize("host,status,message", [
    ("nxhot", "ok", None),
    ("nxbadpass", "auth_failed", "authentication failed: 401 access-denied"),
    ("nxerr", "degraded", "environment: device error: 500 operation-failed"),
    ("nxoff", "error", "RESTCONF not enabled: 404 on /restconf"),
    ("nxbroken", "degraded", "cpu: malformed JSON from the device on Cisco-NX-OS-device:System/procsys-items/"),
    ("nxevil", "ok", None),
])
def test_generic_faults(faulty, host, status, message):
    record = faulty[host]
    assert record["status"] == status, record["message"]
    if message is None:
        assert record["message"] is None
    else:
        assert message in record["message"]


def test_faulty_readings_alert_and_hostile_text_is_kept_verbatim(faulty):
    hot = faulty["nxhot"]
    kinds = {(a["kind"], a["level"]) for a in hot["alerts"]}   # device_info's, with the default thresholds
    assert ("memory", "warning") in kinds or ("memory", "critical") in kinds
    assert any(kind == "environment" for kind, _ in kinds)
    assert hot["cpu"]["five_seconds"] >= 80
    assert "cpu" not in {kind for kind, _ in kinds}   # an instant reading (all NX-OS gives) never alerts
    evil = faulty["nxevil"]
    assert evil["identity"]["hostname"] == "<script>window.__johann_xss=1</script>"
    assert evil["neighbors"]["lldp"][0]["device"] == "<svg/onload=window.__johann_xss=3>"


# ---------------------------------------------------------------- the report
def test_report_renders_an_nxos_device(lab, truth, tmp_path):
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={tmp_path}", "-e", "target=nxos")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    (row,) = csv.DictReader((tmp_path / "devices.csv").open())
    assert (row["host"], row["status"], row["platform"], row["model"], row["serial"], row["version"]) == \
        ("nxos", "ok", "nxos", "N9K-C93180YC-FX", truth["serial"], "10.3(4a)")
    assert int(row["interfaces_up"]) + int(row["interfaces_down"]) + int(row["interfaces_admin_down"]) == 56
    interfaces = [r for r in csv.DictReader((tmp_path / "interfaces.csv").open())]
    assert len(interfaces) == 56
    page = (tmp_path / "devices" / "nxos.html").read_text()
    for text in ("N9K-C93180YC-FX", "10.3(4a)", "Ethernet1/49", "LS1800FX", "PowerSupply-2", "spine-", "Cisco"):
        assert text in page, text


# ---------------------------------------------------------------- stock ansible.netcommon
NETCOMMON = """
- name: ansible.netcommon.restconf_get against the nxos device, as users read devices today
  hosts: nxos
  gather_facts: false
  vars:
    ansible_connection: ansible.netcommon.httpapi
    ansible_network_os: ansible.netcommon.restconf
    ansible_httpapi_use_ssl: true
    ansible_httpapi_validate_certs: true
    ansible_httpapi_ca_path: "{{ restconf_ca_path }}"
    ansible_httpapi_port: "{{ ansible_port }}"
  tasks:
    - name: A native leaf, JSON
      ansible.netcommon.restconf_get:
        path: /data/Cisco-NX-OS-device:System/name
      register: as_json
      ignore_errors: true
    - name: The same, XML
      ansible.netcommon.restconf_get:
        path: /data/Cisco-NX-OS-device:System/name
        output: xml
      register: as_xml
      ignore_errors: true
    - name: The same with johann.monitor.restconf_get
      johann.monitor.restconf_get:
        path: Cisco-NX-OS-device:System/name
      vars:
        ansible_connection: local
      register: johann
    - name: Write the results
      ansible.builtin.copy:
        content: "{{ {'json': as_json, 'xml': as_xml, 'johann': johann} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      delegate_to: localhost
      vars:
        ansible_connection: local
"""


def test_netcommon_restconf_get_is_refused_by_nxos_accept_rule(lab, tmp_path):
    """netcommon's restconf httpapi always sends ``Accept: application/yang-data+json`` (``+xml`` for XML) and
    restconf_get has no option to change it: a device that wants NX-OS's ``application/yang.data+json`` answers
    406, and restconf_get fails. johann.monitor.restconf_get, which names both types, reads the same leaf."""
    playbook, out = tmp_path / "netcommon.yml", tmp_path / "results.json"
    playbook.write_text(NETCOMMON)
    run = run_playbook(lab, playbook, "-e", f"results_file={out}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    results = json.loads(out.read_text())
    refused = results["json"]
    assert refused["failed"] is True and refused["code"] == 406, refused
    assert "the Accept header must name application/yang.data+json" in refused["msg"]
    # with output: xml the 406 comes as an XML errors body, which netcommon 8.2.0's handle_response cannot read:
    # it looks for "errors" (a str) in the undecoded bytes and fails with its own TypeError
    crashed = results["xml"]
    assert crashed["failed"] is True and crashed["msg"] == "a bytes-like object is required, not 'str'", crashed
    assert results["johann"]["data"] == {"name": lab.truth("nxos")["hostname"]}
    assert results["johann"]["headers"]["content_type"] == DOTTED
