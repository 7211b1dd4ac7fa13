"""Arista EOS (the lab's eos profile) end to end: device_info's record equals the truth, the report shows it,
faults are named, and ansible.netcommon's restconf_get reads the same device unchanged."""
from __future__ import annotations

import csv
import json

import pytest

from tests.conftest import subnet
from tests.integration.conftest import fleet_read, run_playbook
from tests.lablib import ROOT
from tests.openconfig_truth import assert_record_is_truth

MODEL_NOTE = "not in the OpenConfig model"


def _record(run, host: str) -> dict:
    return run["results"][host]["device"]


def test_device_info_reads_the_eos_switch_as_its_truth(lab, device_info_run):
    record, truth = _record(device_info_run, "eos"), lab.truth("eos")
    assert (record["status"], record["message"], record["platform"]) == ("ok", None, "openconfig")
    assert record["port"] == truth["port"] == 6020 == lab.host("eos")["ansible_port"]
    assert (record["restconf_root"], record["root_source"]) == ("/restconf", "default")   # EOS has no host-meta
    assert_record_is_truth(record, truth)
    assert record["alerts"] == []
    # EOS averages CPU over its own interval (1000 s), no 1- or 5-minute figure: the record gives that average
    assert record["cpu"]["average"] == truth["cpu"]["avg"]
    assert record["cpu"]["average_seconds"] == truth["cpu"]["interval"] == 1000


def test_sections_say_what_the_openconfig_model_cannot_fill(device_info_run):
    sections = _record(device_info_run, "eos")["sections"]
    for name in ("identity", "config", "cpu", "memory", "interfaces", "environment", "neighbors", "arp"):
        assert sections[name]["status"] == "ok" and sections[name]["message"], name
    assert "reload_history, unsaved_config: " + MODEL_NOTE in sections["identity"]["message"]
    assert "five_seconds_interrupt: " + MODEL_NOTE in sections["cpu"]["message"]
    assert sections["neighbors"]["message"] == "cdp: " + MODEL_NOTE
    for name in ("storage", "licensing"):
        assert (sections[name]["status"], sections[name]["message"]) == ("absent",
                                                                         "not available from openconfig models")
    assert sections["interfaces"]["resources"] == ["openconfig-interfaces:interfaces"]
    assert sections["cpu"]["resources"] == ["openconfig-platform:components", "openconfig-system:system/cpus"]


def test_the_report_shows_the_eos_switch(lab, tmp_path):
    out = tmp_path / "report"
    run = run_playbook(lab, ROOT / "playbooks/monitor.yml", "-e", f"johann_report_dir={out}", "-e", "target=eos,c9300")
    assert run.returncode == 0, run.stdout[-3000:]
    truth = lab.truth("eos")
    page = (out / "devices" / "eos.html").read_text()
    for text in (truth["model"], truth["serial"], "Arista", "openconfig", "4.30.2F", "Ethernet49/1",
                 truth["lldp"][0]["device"], "TempSensor1 (Cpu temp sensor)"):
        assert text in page, text
    row = next(r for r in csv.DictReader((out / "devices.csv").open()) if r["host"] == "eos")
    assert (row["status"], row["platform"], row["model"], row["serial"]) == ("ok", "openconfig", truth["model"],
                                                                             truth["serial"])
    interfaces = [r for r in csv.DictReader((out / "interfaces.csv").open()) if r["host"] == "eos"]
    assert len(interfaces) == len(truth["interfaces"]) == 58
    uplink = next(r for r in interfaces if r["name"] == "Ethernet49/1")
    assert int(uplink["in_octets"]) == truth["interfaces"]["Ethernet49/1"]["counters"]["in-octets"]


# ---------------------------------------------------------------- faults, generic in the lab, on EOS
FAULTS = {
    "eos-ok": {},
    "eos-badpass": {"wrong_credentials": True},
    "eos-err": {"error_paths": ["openconfig-lldp"]},
    "eos-broken": {"malformed_json": ["openconfig-platform"]},
    "eos-closed": {"port_closed": True},
    "eos-slow": {"latency_ms": 150, "max_concurrent": 1},
    "eos-hot": {"high_cpu": True},
}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """EOS devices with the lab's faults, on a lab of their own (the session fleet keeps one healthy eos)."""
    fleet = {"seed": 5, "groups": [{"profile": "eos", "name": n, "faults": f} for n, f in FAULTS.items()]}
    with fleet_read(fleet, tmp_path_factory.mktemp("eos_faults"), subnet(223)) as read:
        yield read


@pytest.mark.parametrize("host,status,message", [
    ("eos-ok", "ok", None),
    ("eos-badpass", "auth_failed", "authentication failed: 401 access-denied"),
    ("eos-err", "degraded", "1 of 10 sections failed: neighbors: device error: 500 operation-failed"),
    ("eos-broken", "degraded", "malformed JSON from the device on openconfig-platform:components"),
    ("eos-closed", "unreachable", "connection refused"),
    ("eos-slow", "ok", None),
    ("eos-hot", "ok", None),
], ids=list(FAULTS))
def test_faults_are_named_on_eos_too(faulty, host, status, message):
    running, results = faulty
    record = results[host]["device"]
    assert record["status"] == status, record["message"]
    assert message is None and record["message"] is None or message in record["message"]
    if status == "ok":
        assert_record_is_truth(record, running.truth(host))


def test_high_cpu_on_eos_alerts_on_the_devices_own_average(faulty):
    """EOS has no 1- or 5-minute CPU figure: its average over 1000 s is what alerts, and the alert says so."""
    running, results = faulty
    record, truth = results["eos-hot"]["device"], running.truth("eos-hot")["cpu"]
    assert (record["cpu"]["average"], record["cpu"]["average_seconds"]) == (truth["avg"], truth["interval"])
    assert truth["avg"] >= 80 and (record["cpu"]["one_minute"], record["cpu"]["five_minutes"]) == (None, None)
    (alert,) = [a for a in record["alerts"] if a["kind"] == "cpu"]
    assert alert["level"] == ("critical" if truth["avg"] >= 95 else "warning")
    assert alert["message"].startswith(f"CPU {truth['avg']}% over the device's 1000 s average (threshold ")
    assert not [a for a in results["eos-ok"]["device"]["alerts"] if a["kind"] == "cpu"]


# ---------------------------------------------------------------- ansible.netcommon, unchanged
NETCOMMON = """
- name: ansible.netcommon's restconf_get against the lab's EOS switch
  hosts: eos
  gather_facts: false
  vars:
    ansible_connection: ansible.netcommon.httpapi
    ansible_network_os: ansible.netcommon.restconf
    ansible_httpapi_use_ssl: true
    ansible_httpapi_port: "{{ ansible_port }}"   # the inventory's 6020: httpapi reads its own variable
    ansible_httpapi_validate_certs: true
    ansible_httpapi_ca_path: "{{ restconf_ca_path }}"
  tasks:
    - name: Interfaces, as OpenConfig
      ansible.netcommon.restconf_get:
        path: data/openconfig-interfaces:interfaces
      register: interfaces

    - name: One interface's state, which EOS answers as its children
      ansible.netcommon.restconf_get:
        path: data/openconfig-interfaces:interfaces/interface=Ethernet49%2F1/state
      register: state

    - name: Write the results
      ansible.builtin.copy:
        content: "{{ {'interfaces': interfaces, 'state': state} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      delegate_to: localhost
"""


def test_netcommon_restconf_get_reads_the_eos_switch_unchanged(lab, tmp_path):
    """The lab's EOS wire format is standard where real EOS is: netcommon's httpapi reads it, TLS verified
    against the lab CA (ansible_httpapi_ca_path), with the inventory's credentials and port 6020."""
    playbook, out = tmp_path / "netcommon.yml", tmp_path / "results.json"
    playbook.write_text(NETCOMMON)
    run = run_playbook(lab, playbook, "-e", f"results_file={out}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    results = json.loads(out.read_text())
    served = lab.admin("GET", "/devices/eos/served", params={
        "path": "/restconf/data/openconfig-interfaces:interfaces", "accept": "application/yang-data+json"}).json()
    assert results["interfaces"]["response"] == json.loads(served["body"])   # byte for byte what the lab serves
    truth = lab.truth("eos")["interfaces"]
    interfaces = {i["name"]: i for i in results["interfaces"]["response"]["openconfig-interfaces:interface"]}
    assert list(interfaces) == list(truth)
    for name, t in truth.items():
        counters = interfaces[name]["state"]["counters"]
        assert int(counters["in-octets"]) == t["counters"]["in-octets"], name
        assert (interfaces[name]["state"]["oper-status"] == "UP") is t["oper_up"], name
    state = results["state"]["response"]
    assert state["openconfig-interfaces:counters"]["out-octets"] == str(truth["Ethernet49/1"]["counters"]["out-octets"])
    assert state["arista-intf-augments:inactive"] is False
